import type { FunctionsConfig } from '../config/load-config';
import type { ArchiveIntake } from '../domain/archive-intake';

export interface RecorderDependencies {
  readonly archive: ArchiveIntake;
}

/** Builds the recorder's adapters and registers its functions. (Filled in by the recorder core.) */
export function composeRecorder(_config: FunctionsConfig, _deps: RecorderDependencies): void {}
