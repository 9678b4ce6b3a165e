/** The recorder's `LifecycleClient`, `LifecycleHistory` and `RunningLifecycles` over the Durable Functions client of one invocation. */
import { OrchestrationRuntimeStatus, type DurableClient } from 'durable-functions';
import { OrchestratorNames } from '../domain/call-lifecycle.contract';
import type {
  LifecycleClient,
  LifecycleHistory,
  LifecycleStatus,
  RaiseResult,
  RunningLifecycles,
  StartResult,
} from '../domain/recorder-ports';

const notFound = /404|No instance with ID/i;

const FINISHED = [
  OrchestrationRuntimeStatus.Completed,
  OrchestrationRuntimeStatus.Failed,
  OrchestrationRuntimeStatus.Terminated,
];
const LIFECYCLE_NAMES: ReadonlySet<string> = new Set(Object.values(OrchestratorNames));

export class DurableLifecycleClient
  implements LifecycleClient, LifecycleHistory, RunningLifecycles
{
  /** `lifecycleNames`: the orchestrations the history purge may take (default: both call lifecycle versions). */
  constructor(
    private readonly client: DurableClient,
    private readonly lifecycleNames: ReadonlySet<string> = LIFECYCLE_NAMES,
  ) {}

  async listFinished(createdBefore: Date, limit: number): Promise<readonly string[]> {
    // Other orchestrations in the task hub (retention timers, exports) are never listed.
    const statuses = await this.client.getStatusBy({
      createdTimeTo: createdBefore,
      runtimeStatus: FINISHED,
    });
    return statuses
      .filter((s) => this.lifecycleNames.has(s.name))
      .slice(0, limit)
      .map((s) => s.instanceId);
  }

  async listRunning(orchestratorName: string): Promise<readonly string[]> {
    const statuses = await this.client.getStatusBy({
      runtimeStatus: [OrchestrationRuntimeStatus.Running],
    });
    return statuses.filter((s) => s.name === orchestratorName).map((s) => s.instanceId);
  }

  async purge(instanceId: string): Promise<boolean> {
    const result = await this.client.purgeInstanceHistory(instanceId);
    return result.instancesDeleted > 0;
  }

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
      const status = await this.client.getStatus(instanceId, {
        showHistory: false,
        showInput: false,
      });
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
