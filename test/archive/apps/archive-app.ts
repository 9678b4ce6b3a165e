/**
 * The archive as the function app composes it (real adapters on Azurite, real JWT verifier),
 * for tests through the local Functions host. Configuration comes from the test's environment
 * through the product's own config readers; the recorder's admin token settings are given here.
 */
import { composeArchive } from '../../../functions/src/composition/archive.composition';
import { readArchiveConfig } from '../../../functions/src/config/archive-config';
import { ConfigReader } from '../../../functions/src/config/config-reader';
import type { FunctionsConfig } from '../../../functions/src/config/load-config';
import type { RecorderConfig } from '../../../functions/src/config/recorder-config';
import { readStorageConfig } from '../../../functions/src/config/storage-config';

const env = process.env;
const reader = new ConfigReader(env);
const admin = {
  openIdMetadataUrl: env.TEST_ADMIN_OPENID_METADATA_URL ?? '',
  issuers: ['https://login.test/tenant-1/v2.0'],
  audiences: ['api://attest'],
  allowedTenantIds: ['tenant-1'],
  clockSkewInMs: 60_000,
  keysRefreshIntervalInMs: 3_600_000,
  keysMaxStaleInMs: 3_600_000,
  requiredRole: 'admin',
};
const config: FunctionsConfig = {
  storage: readStorageConfig(reader),
  recorder: { admin } as unknown as RecorderConfig,
  archive: readArchiveConfig(reader),
};
reader.assertValid();
const archive = composeArchive(config);
(globalThis as { __attestArchive?: unknown }).__attestArchive = archive;
