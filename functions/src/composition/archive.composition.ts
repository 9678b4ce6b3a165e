import type { FunctionsConfig } from '../config/load-config';
import type { ArchiveIntake } from '../domain/archive-intake';

export interface ArchiveComposition {
  readonly intake: ArchiveIntake;
}

/** Builds the archive's adapters and registers its functions. (Filled in by the archive.) */
export function composeArchive(_config: FunctionsConfig): ArchiveComposition {
  return {
    intake: {
      recordInvite: () => Promise.resolve(),
      recordSealed: () => Promise.resolve(),
    },
  };
}
