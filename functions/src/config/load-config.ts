import { ConfigReader } from './config-reader';
import { readArchiveConfig, type ArchiveConfig } from './archive-config';
import { readRecorderConfig, type RecorderConfig } from './recorder-config';
import { readStorageConfig, type StorageConfig } from './storage-config';

export interface FunctionsConfig {
  readonly storage: StorageConfig;
  readonly recorder: RecorderConfig;
  readonly archive: ArchiveConfig;
}

/** Validates every `ATTEST_*` key of the function app at once; the result is frozen. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): FunctionsConfig {
  const reader = new ConfigReader(env);
  const config: FunctionsConfig = {
    storage: readStorageConfig(reader),
    recorder: readRecorderConfig(reader),
    archive: readArchiveConfig(reader),
  };
  reader.assertValid();
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
