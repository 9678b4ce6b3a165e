/**
 * The configuration the archive test apps compose with: Storage and the archive from the test's
 * environment through the product's own config readers, and the admin token settings of the
 * test issuer (support/test-issuer.ts).
 */
import { readArchiveConfig } from '../../../functions/src/config/archive-config';
import { EnvReader } from '@attest/core';
import type { FunctionsConfig } from '../../../functions/src/config/load-config';
import { readPortalConfig } from '../../../functions/src/config/portal-config';
import type { RecorderConfig } from '../../../functions/src/config/recorder-config';
import { readStorageConfig } from '../../../functions/src/config/storage-config';
import { TEST_AUDIENCE, TEST_ISSUER } from '../support/test-issuer';

/** `recorder` adds recorder settings the composition reads (the app registration for Key Vault). */
export function testArchiveConfig(
  env: NodeJS.ProcessEnv,
  recorder: Record<string, unknown> = {},
): FunctionsConfig {
  const reader = new EnvReader(env);
  const admin = {
    openIdMetadataUrl: env.TEST_ADMIN_OPENID_METADATA_URL ?? '',
    issuers: [TEST_ISSUER],
    audiences: [TEST_AUDIENCE],
    allowedTenantIds: ['tenant-1'],
    clockSkewInMs: 60_000,
    keysRefreshIntervalInMs: 3_600_000,
    keysMaxStaleInMs: 3_600_000,
    requiredRole: 'admin',
  };
  const config: FunctionsConfig = {
    storage: readStorageConfig(reader),
    recorder: {
      servedTenantIds: admin.allowedTenantIds,
      ...recorder,
      admin,
    } as unknown as RecorderConfig,
    archive: readArchiveConfig(reader),
    portal: readPortalConfig(reader, {
      appId: TEST_AUDIENCE,
      adminIssuers: admin.issuers,
      adminAudiences: admin.audiences,
      defaultStaticDir: 'web/dist',
    }),
  };
  reader.assertValid();
  return config;
}
