/** The recorder's `LifecycleClient` over the Durable Functions client of one invocation. */
import type { DurableClient } from 'durable-functions';
import type { LifecycleClient, LifecycleStatus, RaiseResult, StartResult } from '../domain/recorder-ports';

const notFound = /404|No instance with ID/i;

export class DurableLifecycleClient implements LifecycleClient {
  constructor(private readonly client: DurableClient) {}

  async start(orchestratorName: string, instanceId: string, input: unknown): Promise<StartResult> {
    try {
      await this.client.startNew(orchestratorName, { instanceId, input });
      return 'started';
    } catch (error) {
      const existing = await this.getStatus(instanceId).catch(() => undefined);
      if (existing !== undefined) return 'alreadyExists';
      throw error;
    }
  }

  async raise(instanceId: string, eventName: string, payload: unknown): Promise<RaiseResult> {
    try {
      await this.client.raiseEvent(instanceId, eventName, payload);
      return 'raised';
    } catch (error) {
      if (error instanceof Error && notFound.test(error.message)) return 'notFound';
      throw error;
    }
  }

  async getStatus(instanceId: string): Promise<LifecycleStatus | undefined> {
    try {
      const status = await this.client.getStatus(instanceId, { showHistory: false, showInput: false });
      return {
        instanceId: status.instanceId,
        runtimeStatus: String(status.runtimeStatus),
        customStatus: status.customStatus,
        createdTime: status.createdTime?.toISOString?.() ?? undefined,
        lastUpdatedTime: status.lastUpdatedTime?.toISOString?.() ?? undefined,
        output: status.output,
      };
    } catch (error) {
      if (error instanceof Error && notFound.test(error.message)) return undefined;
      throw error;
    }
  }
}
