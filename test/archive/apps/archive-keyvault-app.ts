/**
 * The archive as the function app composes it, with `ATTEST_KEYVAULT_URI` set: keys in the
 * simulator's Key Vault stand-in, reached with the app registration's credential against the
 * simulator's Entra (the local rule when storage uses a connection string). Configuration comes
 * from the test's environment through the product's own config readers.
 */
import { composeArchive } from '../../../functions/src/composition/archive.composition';
import { testArchiveConfig } from './test-archive-config';

const env = process.env;
(globalThis as { __attestArchive?: unknown }).__attestArchive = composeArchive(
  testArchiveConfig(env, {
    appId: env.TEST_APP_ID ?? '',
    appSecret: env.TEST_APP_SECRET ?? '',
    servedTenantIds: [env.TEST_TENANT_ID ?? ''],
    entraAuthorityHost: env.TEST_AUTHORITY_HOST ?? '',
    entraDisableInstanceDiscovery: true,
  }),
);
