/**
 * The port through which the recorder hands a finished interaction to the compliance archive
 * (ledger, retention class, legal hold matching, search index). The recorder calls it from an
 * activity; the archive implements it. Every method is idempotent per interaction id, because
 * activities run at least once.
 */
import type { CallParticipant, InteractionRecord } from '@attest/core';

export interface ArchiveIntake {
  /** An invite was received and its first outcome recorded (answered, rejected, not recordable). */
  recordInvite(interaction: InteractionRecord): Promise<void>;
  /**
   * The media host sealed the recording and the interaction record is final. `participants`
   * (every party the call's roster showed) go into the party index with the record's own parties.
   */
  recordSealed(
    interaction: InteractionRecord,
    participants?: readonly Pick<CallParticipant, 'identityKind' | 'identityId'>[],
  ): Promise<void>;
  /**
   * An interaction of several captures (paired recorders) is final: sign and store its manifest
   * (the captures and the merged timeline), then archive it as sealed. Returns the record as
   * archived. Idempotent: a repeat writes nothing new.
   */
  sealInteraction(interaction: InteractionRecord): Promise<InteractionRecord>;
}
