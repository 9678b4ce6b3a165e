/** Starts dispositions and raises approval decisions through the Durable Functions client. */
import type { DurableClient } from 'durable-functions';
import {
  ArchiveEventNames,
  ArchiveOrchestratorNames,
  type DispositionDecision,
  type DispositionInput,
} from '../domain/archive-names';
import type { DispositionEvents } from '../http/archive-admin.http';
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

  async raiseDecision(instanceId: string, decision: DispositionDecision): Promise<boolean> {
    const status = await this.runtimeStatus(instanceId);
    if (status !== 'Running' && status !== 'Pending') return false;
    await this.client.raiseEvent(instanceId, ArchiveEventNames.dispositionDecision, decision);
    return true;
  }
}
