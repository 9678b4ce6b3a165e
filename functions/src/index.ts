/**
 * Composition root of the function app: the only place that reads configuration, builds
 * adapters and registers functions. The Functions host loads this file (package.json `main`).
 */
import { loadConfig } from './config/load-config';
import { composeArchive } from './composition/archive.composition';
import { composeRecorder } from './composition/recorder.composition';

const config = loadConfig(process.env);
const archive = composeArchive(config);
composeRecorder(config, {
  archive: archive.intake,
  adminAccess: archive.adminAccess,
  recordedGroupsOf: archive.recordedGroupsOf,
});
