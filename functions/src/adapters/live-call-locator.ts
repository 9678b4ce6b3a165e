/**
 * Finds a live call for listen-in from the recorder's rows: the interaction (its media host and
 * media session ids and call state), the media host registry (the host's `listenUrl`, where its
 * `wss://` listen endpoint is served) and the archive record (the recorded users' groups, for
 * scoped roles).
 */
import { interactionIdForCall } from '@attest/core';
import type { ArchiveRecordStore } from '../domain/archive-ports';
import type { InteractionStore, MediaHostRegistry } from '../domain/recorder-ports';
import type { LiveCall, LiveCallLocator } from '../http/live-listen.http';

/** Call states in which media flows (set by the webhook and the lifecycle orchestrator). */
const LIVE_CALL_STATES: ReadonlySet<string> = new Set(['answered', 'established']);

export class StoreLiveCallLocator implements LiveCallLocator {
  constructor(
    private readonly interactions: Pick<InteractionStore, 'findByInteractionId'>,
    private readonly registry: Pick<MediaHostRegistry, 'get'>,
    private readonly records: Pick<ArchiveRecordStore, 'get'>,
  ) {}

  async getLiveCall(callId: string): Promise<LiveCall | undefined> {
    const interaction = await this.interactions.findByInteractionId(interactionIdForCall(callId));
    if (
      interaction === undefined ||
      interaction.callId !== callId ||
      interaction.endedAt !== undefined
    )
      return undefined;
    const { mediaHostId, mediaSessionId, callState } = interaction;
    if (
      mediaHostId === undefined ||
      mediaSessionId === undefined ||
      callState === undefined ||
      !LIVE_CALL_STATES.has(callState)
    )
      return undefined;
    const [host, record] = await Promise.all([
      this.registry.get(mediaHostId),
      this.records.get(interaction.tenantId, interaction.interactionId),
    ]);
    // A host without a listen URL has no listen key (or runs an older version): nothing to offer.
    if (host?.listenUrl === undefined) return undefined;
    return {
      tenantId: interaction.tenantId,
      interactionId: interaction.interactionId,
      sessionId: mediaSessionId,
      groupIds: record?.groupIds ?? [],
      listenBaseUrl: host.listenUrl.replace(/\/+$/, ''),
    };
  }
}
