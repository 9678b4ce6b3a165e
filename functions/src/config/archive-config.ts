import type { ConfigReader } from './config-reader';

/** Settings of the compliance archive (retention, ledger, keys). Owned by the archive. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ArchiveConfig {}

export function readArchiveConfig(_reader: ConfigReader): ArchiveConfig {
  return {};
}
