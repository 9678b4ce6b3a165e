/**
 * The archive as the function app composes it, with `ATTEST_KEYVAULT_URI` set: keys in the
 * simulator's Key Vault stand-in, reached with the app registration's credential against the
 * simulator's Entra (the local rule when storage uses a connection string). Configuration comes
 * from the test's environment through the product's own config readers.
 */
import { composeArchive } from '../../../functions/src/composition/archive.composition';
import { readArchiveConfig } from '../../../functions/src/config/archive-config';
import { ConfigReader } from '../../../functions/src/config/config-reader';
import type { FunctionsConfig } from '../../../functions/src/config/load-config';
import type { RecorderConfig } from '../../../functions/src/config/recorder-config';
import { readStorageConfig } from '../../../functions/src/config/storage-config';

const env = process.env;
const reader = new ConfigReader(env);
const recorder = {
  appId: env.TEST_APP_ID ?? '',
  appSecret: env.TEST_APP_SECRET ?? '',
  servedTenantIds: [env.TEST_TENANT_ID ?? ''],
  entraAuthorityHost: env.TEST_AUTHORITY_HOST ?? '',
  entraDisableInstanceDiscovery: true,
  admin: {
    openIdMetadataUrl: env.TEST_ADMIN_OPENID_METADATA_URL ?? '',
    issuers: ['https://login.test/tenant-1/v2.0'],
    audiences: ['api://attest'],
    allowedTenantIds: ['tenant-1'],
    clockSkewInMs: 60_000,
    keysRefreshIntervalInMs: 3_600_000,
    keysMaxStaleInMs: 3_600_000,
    requiredRole: 'admin',
  },
};
const config: FunctionsConfig = {
  storage: readStorageConfig(reader),
  recorder: recorder as unknown as RecorderConfig,
  archive: readArchiveConfig(reader),
};
reader.assertValid();
(globalThis as { __attestArchive?: unknown }).__attestArchive = composeArchive(config);
