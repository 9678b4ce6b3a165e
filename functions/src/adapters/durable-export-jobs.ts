/**
 * Starts export orchestrations and reads their progress through the Durable Functions client.
 * Before it starts one, it records the request (tenant, actor, selection) that the export's
 * activities check: the orchestration input alone never says who asked.
 */
import type { DurableClient } from 'durable-functions';
import type { Clock, ExportRequestStore } from '../domain/archive-ports';
import { exportRequestRecordOf } from '../domain/export-request';
import {
  ArchiveOrchestratorNames,
  exportInstanceId,
  type ExportJobInput,
  type ExportJobProgress,
  type ExportJobRequest,
} from '../domain/archive-names';
import type { ExportJobs, ExportJobStatus } from '../http/archive-admin.http';

const notFound = /404|No instance with ID|not found/i;
const ACTIVE = new Set(['Running', 'Pending', 'ContinuedAsNew', 'Suspended']);

/** An integrity failure names the interaction; any other failure says how to resume. */
function failureOf(runtime: string, output: unknown): string {
  const integrity = /\[ATT_INTEGRITY_VIOLATION\][^\n"]*/.exec(
    typeof output === 'string' ? output : JSON.stringify(output ?? ''),
  );
  return integrity !== null
    ? integrity[0]
    : `the export ${runtime.toLowerCase()}; post it again with its exportId to resume`;
}

export interface ExportJobSettings {
  readonly batchSize: number;
  readonly maxBatchesPerExecution: number;
}

export class DurableExportJobs implements ExportJobs {
  constructor(
    private readonly client: DurableClient,
    private readonly settings: ExportJobSettings,
    private readonly requests: ExportRequestStore,
    private readonly clock: Clock,
  ) {}

  private async read(exportId: string) {
    try {
      const status = await this.client.getStatus(exportInstanceId(exportId), {
        showHistory: false,
        showInput: true,
      });
      return status === undefined || status === null ? undefined : status;
    } catch (error) {
      if (error instanceof Error && notFound.test(error.message)) return undefined;
      throw error;
    }
  }

  async start(request: ExportJobRequest): Promise<'started' | 'alreadyRunning'> {
    const existing = await this.read(request.exportId);
    if (existing !== undefined && ACTIVE.has(String(existing.runtimeStatus)))
      return 'alreadyRunning';
    const input: ExportJobInput = {
      request,
      batchSize: this.settings.batchSize,
      maxBatchesPerExecution: this.settings.maxBatchesPerExecution,
    };
    // Recorded first: the activities refuse an orchestration whose request is not recorded.
    await this.requests.put(exportRequestRecordOf(request, this.clock.now()));
    // A finished or failed instance id is reused: the package folder keeps what was written.
    await this.client.startNew(ArchiveOrchestratorNames.exportPackage, {
      instanceId: exportInstanceId(request.exportId),
      input,
    });
    return 'started';
  }

  async status(exportId: string): Promise<ExportJobStatus | undefined> {
    const status = await this.read(exportId);
    if (status === undefined) return undefined;
    const input = status.input as ExportJobInput | null | undefined;
    const runtime = String(status.runtimeStatus);
    const state: ExportJobStatus['state'] = ACTIVE.has(runtime)
      ? 'running'
      : runtime === 'Completed'
        ? 'completed'
        : 'failed';
    const progress = status.customStatus as ExportJobProgress | null | undefined;
    return {
      exportId,
      state,
      ...(input?.request.tenantId === undefined ? {} : { tenantId: input.request.tenantId }),
      ...(input?.request.createdBy === undefined ? {} : { createdBy: input.request.createdBy }),
      ...(progress === null || progress === undefined ? {} : { progress }),
      ...(state === 'completed' ? { result: status.output } : {}),
      ...(state === 'failed' ? { error: failureOf(runtime, status.output) } : {}),
      createdAt: new Date(status.createdTime).toISOString(),
      lastUpdatedAt: new Date(status.lastUpdatedTime).toISOString(),
    };
  }
}
