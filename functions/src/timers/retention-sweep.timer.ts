/**
 * The daily retention job: finds every active interaction whose expiry has passed (whatever day
 * it passed, so missed runs catch up) and starts one `dispositionV1` per interaction not under a
 * hold. Starting is idempotent per interaction: a running disposition is left alone.
 */
import { activeHoldsFor, type LegalHold } from '@attest/core';
import type { ArchiveRecordStore, Clock, HoldStore } from '../domain/archive-ports';
import { dispositionInstanceId, type DispositionInput } from '../domain/archive-names';

export interface DispositionStarter {
  /** Starts the orchestration unless an instance with that id is pending or running. */
  startIfIdle(instanceId: string, input: DispositionInput): Promise<'started' | 'alreadyRunning'>;
}

export interface RetentionSweepSettings {
  readonly approvalTimeoutInMs: number;
  readonly reminderIntervalInMs: number;
}

export interface RetentionSweepSummary {
  readonly expired: number;
  readonly started: number;
  readonly alreadyRunning: number;
  readonly held: number;
}

export interface RetentionSweepDeps {
  readonly records: ArchiveRecordStore;
  readonly holds: HoldStore;
  readonly starter: DispositionStarter;
  readonly clock: Clock;
  readonly settings: RetentionSweepSettings;
  /** Called every 1000 interactions and at the end. */
  readonly onProgress?: (summary: RetentionSweepSummary) => void;
}

export function createRetentionSweep(
  deps: RetentionSweepDeps,
): () => Promise<RetentionSweepSummary> {
  return async () => {
    const now = deps.clock.now();
    // Holds are per tenant; each tenant's are read once per run.
    const holdsByTenant = new Map<string, Promise<readonly LegalHold[]>>();
    const holdsOf = (tenantId: string): Promise<readonly LegalHold[]> => {
      let holds = holdsByTenant.get(tenantId);
      if (holds === undefined) {
        holds = deps.holds.list(tenantId);
        holdsByTenant.set(tenantId, holds);
      }
      return holds;
    };
    let expired = 0;
    let started = 0;
    let alreadyRunning = 0;
    let held = 0;
    const summary = (): RetentionSweepSummary => ({ expired, started, alreadyRunning, held });
    for await (const record of deps.records.listExpired(now)) {
      expired += 1;
      const { tenantId, interactionId } = record.interaction;
      if (activeHoldsFor(await holdsOf(tenantId), record.interaction, now).length > 0) {
        held += 1;
      } else {
        const result = await deps.starter.startIfIdle(
          dispositionInstanceId(tenantId, interactionId),
          {
            tenantId,
            interactionId,
            mode: record.dispositionMode ?? 'auto',
            requestedBy: 'system',
            approvalTimeoutInMs: deps.settings.approvalTimeoutInMs,
            reminderIntervalInMs: deps.settings.reminderIntervalInMs,
          },
        );
        if (result === 'started') started += 1;
        else alreadyRunning += 1;
      }
      if (expired % 1000 === 0) deps.onProgress?.(summary());
    }
    deps.onProgress?.(summary());
    return summary();
  };
}
