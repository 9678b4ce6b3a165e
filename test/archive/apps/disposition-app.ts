/**
 * A function app with the archive's disposition orchestration and its activities, for running
 * `dispositionV1` through the local durable engine. The activities delegate to the instance the
 * test puts on `globalThis.__attestArchiveActivities` (in-memory stores, the engine's clock).
 */
import * as df from 'durable-functions';
import type { ArchiveService } from '../../../functions/src/archive/archive.service';
import {
  ArchiveActivityNames,
  ArchiveOrchestratorNames,
} from '../../../functions/src/domain/archive-names';
import { dispositionOrchestrator } from '../../../functions/src/orchestrators/disposition.orchestrator';

function activities(): ArchiveService {
  const found = (globalThis as { __attestArchiveActivities?: ArchiveService })
    .__attestArchiveActivities;
  if (found === undefined) throw new Error('the test did not set __attestArchiveActivities');
  return found;
}

df.app.orchestration(ArchiveOrchestratorNames.disposition, dispositionOrchestrator);
df.app.activity(ArchiveActivityNames.checkDisposition, {
  handler: (input: Parameters<ArchiveService['checkDisposition']>[0]) =>
    activities().checkDisposition(input),
});
df.app.activity(ArchiveActivityNames.requestDispositionApproval, {
  handler: (input: Parameters<ArchiveService['requestDispositionApproval']>[0]) =>
    activities().requestDispositionApproval(input),
});
df.app.activity(ArchiveActivityNames.recordDispositionOutcome, {
  handler: (input: Parameters<ArchiveService['recordDispositionOutcome']>[0]) =>
    activities().recordDispositionOutcome(input),
});
df.app.activity(ArchiveActivityNames.disposeInteraction, {
  handler: (input: Parameters<ArchiveService['disposeInteraction']>[0]) =>
    activities().disposeInteraction(input),
});
