/** Starts dispositions and raises approval decisions through the Durable Functions client. */
import { OrchestrationRuntimeStatus, type DurableClient } from 'durable-functions';
import {
  ArchiveEventNames,
  dispositionInstancePrefix,
  ArchiveOrchestratorNames,
  type DispositionDecision,
  type DispositionInput,
} from '../domain/archive-names';
import type { DispositionEvents, WaitingDisposition } from '../http/archive-admin.http';
import type { DispositionStarter } from '../timers/retention-sweep.timer';

const notFound = /404|No instance with ID|not found/i;
const ACTIVE = new Set(['Running', 'Pending', 'ContinuedAsNew', 'Suspended']);

export class DurableDispositionClient implements DispositionStarter, DispositionEvents {
  constructor(private readonly client: DurableClient) {}

  private async runtimeStatus(instanceId: string): Promise<string | undefined> {
    try {
      const status = await this.client.getStatus(instanceId, {
        showHistory: false,
        showInput: false,
      });
      return status === undefined || status === null ? undefined : String(status.runtimeStatus);
    } catch (error) {
      if (error instanceof Error && notFound.test(error.message)) return undefined;
      throw error;
    }
  }

  async startIfIdle(
    instanceId: string,
    input: DispositionInput,
  ): Promise<'started' | 'alreadyRunning'> {
    const status = await this.runtimeStatus(instanceId);
    if (status !== undefined && ACTIVE.has(status)) return 'alreadyRunning';
    await this.client.startNew(ArchiveOrchestratorNames.disposition, { instanceId, input });
    return 'started';
  }

  async getRequester(instanceId: string): Promise<string | undefined> {
    let status;
    try {
      status = await this.client.getStatus(instanceId, { showHistory: false, showInput: true });
    } catch (error) {
      if (error instanceof Error && notFound.test(error.message)) return undefined;
      throw error;
    }
    if (status === undefined || status === null) return undefined;
    if (!ACTIVE.has(String(status.runtimeStatus))) return undefined;
    const input = status.input as Partial<DispositionInput> | undefined;
    return typeof input?.requestedBy === 'string' ? input.requestedBy : undefined;
  }

  async listWaiting(tenantId: string): Promise<readonly WaitingDisposition[]> {
    const prefix = dispositionInstancePrefix(tenantId);
    const running = await this.client.getStatusBy({
      runtimeStatus: [OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Pending],
    });
    const out: WaitingDisposition[] = [];
    for (const instance of running) {
      if (instance.name !== ArchiveOrchestratorNames.disposition) continue;
      if (!instance.instanceId.startsWith(prefix)) continue;
      // The list may leave inputs out (Azure's default); the instance's own status has it.
      const status = await this.client.getStatus(instance.instanceId, {
        showHistory: false,
        showInput: true,
      });
      const input = status?.input as Partial<DispositionInput> | undefined;
      if (input?.tenantId !== tenantId || input.mode !== 'approval') continue;
      if (typeof input.interactionId !== 'string' || typeof input.requestedBy !== 'string')
        continue;
      out.push({
        instanceId: instance.instanceId,
        tenantId,
        interactionId: input.interactionId,
        requestedBy: input.requestedBy,
        requestedAt: new Date(instance.createdTime).toISOString(),
      });
    }
    return out;
  }

  async raiseDecision(instanceId: string, decision: DispositionDecision): Promise<boolean> {
    const status = await this.runtimeStatus(instanceId);
    if (status !== 'Running' && status !== 'Pending') return false;
    await this.client.raiseEvent(instanceId, ArchiveEventNames.dispositionDecision, decision);
    return true;
  }
}
