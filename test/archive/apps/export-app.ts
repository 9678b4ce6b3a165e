/**
 * A function app with the export orchestration and its activities, for running `exportPackageV1`
 * through the local durable engine. The activities delegate to the instance the test puts on
 * `globalThis.__attestExportActivities` (in-memory archive stores, the engine's clock).
 */
import * as df from 'durable-functions';
import type { ExportActivities } from '../../../functions/src/activities/export.activities';
import {
  ArchiveActivityNames,
  ArchiveOrchestratorNames,
} from '../../../functions/src/domain/archive-names';
import { exportPackageOrchestrator } from '../../../functions/src/orchestrators/export-package.orchestrator';

function exports(): ExportActivities {
  const found = (globalThis as { __attestExportActivities?: ExportActivities })
    .__attestExportActivities;
  if (found === undefined) throw new Error('the test did not set __attestExportActivities');
  return found;
}

df.app.orchestration(ArchiveOrchestratorNames.exportPackage, exportPackageOrchestrator);
df.app.activity(ArchiveActivityNames.prepareExport, {
  handler: (input: Parameters<ExportActivities['prepareExport']>[0]) =>
    exports().prepareExport(input),
});
df.app.activity(ArchiveActivityNames.writeExportBatch, {
  handler: (input: Parameters<ExportActivities['writeExportBatch']>[0]) =>
    exports().writeExportBatch(input),
});
df.app.activity(ArchiveActivityNames.finishExport, {
  handler: (input: Parameters<ExportActivities['finishExport']>[0]) =>
    exports().finishExport(input),
});
