import { EnvReader } from '@attest/core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readArchiveConfig, type ArchiveConfig } from './archive-config';
import { readPortalConfig, type PortalConfig } from './portal-config';
import { readRecorderConfig, type RecorderConfig } from './recorder-config';
import { readStorageConfig, type StorageConfig } from './storage-config';

export interface FunctionsConfig {
  readonly storage: StorageConfig;
  readonly recorder: RecorderConfig;
  readonly archive: ArchiveConfig;
  readonly portal: PortalConfig;
}

/** Validates every `ATTEST_*` key of the function app at once; the result is frozen. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): FunctionsConfig {
  const reader = new EnvReader(env);
  const recorder = readRecorderConfig(reader);
  const config: FunctionsConfig = {
    storage: readStorageConfig(reader),
    recorder,
    archive: readArchiveConfig(reader),
    portal: readPortalConfig(reader, {
      appId: recorder.appId,
      adminIssuers: recorder.admin.issuers,
      adminAudiences: recorder.admin.audiences,
      defaultStaticDir: defaultPortalDir(),
    }),
  };
  reader.assertValid();
  return deepFreeze(config);
}

/**
 * Where the built portal is: `portal/` beside `dist/` in the released package (`npm run package`),
 * else the repository's `web/dist` (functions/{src,dist}/config → ../../../web/dist).
 */
export function defaultPortalDir(): string {
  const packaged = join(__dirname, '..', '..', 'portal');
  return existsSync(join(packaged, 'index.html'))
    ? packaged
    : join(__dirname, '..', '..', '..', 'web', 'dist');
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
