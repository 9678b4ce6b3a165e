/** The recorder's invite log in memory: interactions with their participants and streams. */
import type { InteractionParticipant, InteractionRecord, InteractionStream } from '@attest/core';
import type { CallLog } from '../../../functions/src/domain/archive-ports';

export class MemoryCallLog implements CallLog {
  readonly interactions: InteractionRecord[] = [];
  readonly participants = new Map<string, InteractionParticipant[]>();
  readonly streams = new Map<string, InteractionStream[]>();
  /** Periods asked for, to show a route read only its caller's tenant. */
  readonly reads: { from: string; to: string; tenantId: string }[] = [];

  add(
    interaction: InteractionRecord,
    extra: {
      participants?: readonly Omit<InteractionParticipant, 'interactionId'>[];
      streamBytes?: readonly number[];
    } = {},
  ): void {
    this.interactions.push(interaction);
    const { interactionId } = interaction;
    this.participants.set(
      interactionId,
      (extra.participants ?? []).map((p) => ({ ...p, interactionId })),
    );
    this.streams.set(
      interactionId,
      (extra.streamBytes ?? []).map((bytes, i) => ({
        interactionId,
        streamId: `audio-${i}`,
        kind: 'audio',
        msi: String(i),
        blobName: `${interaction.tenantId}/${interactionId}/audio-${i}`,
        bytes,
        durationInMs: 1000,
      })),
    );
  }

  async *invitedBetween(period: {
    readonly from: string;
    readonly to: string;
    readonly tenantId: string;
  }): AsyncIterable<InteractionRecord> {
    this.reads.push({ ...period });
    for (const i of this.interactions) {
      if (i.tenantId !== period.tenantId) continue;
      if (i.invitedAt < period.from || i.invitedAt >= period.to) continue;
      yield await Promise.resolve(i);
    }
  }

  listParticipants(interactionId: string): Promise<readonly InteractionParticipant[]> {
    return Promise.resolve(this.participants.get(interactionId) ?? []);
  }

  listStreams(interactionId: string): Promise<readonly InteractionStream[]> {
    return Promise.resolve(this.streams.get(interactionId) ?? []);
  }
}
