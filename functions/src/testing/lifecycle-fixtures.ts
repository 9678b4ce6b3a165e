/**
 * Shared fixtures of the `callLifecycle` unit tests: a fixed start time, the lifecycle's input,
 * a seal summary and builders of the events the webhook raises.
 */
import { join } from 'node:path';
import { ActivityNames, type CallLifecycleInput } from '../domain/call-lifecycle.contract';
import type { Responders } from './scripted-orchestration';

export const T0 = Date.parse('2030-01-01T00:00:00Z');
/** `seconds` after {@link T0}, ISO 8601. */
export const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

/** Where a version's golden trace lives. */
export const goldenPath = (name: string): string =>
  join(__dirname, `../../../test/recorder/fixtures/${name}.trace.json`);

export const lifecycleInput: CallLifecycleInput = {
  callId: 'call-1',
  tenantId: 'tenant-a',
  interactionId: 'call-1',
  session: { hostId: 'mh-1', controlUrl: 'http://127.0.0.1:1', sessionId: 's-1' },
  answeredAt: at(0),
  settings: {
    keepAliveIntervalInMs: 900_000,
    mediaHealthCheckIntervalInMs: 60_000,
    mediaHealthFailureThreshold: 2,
    establishTimeoutInMs: 120_000,
    recordingStatusMaxAttempts: 4,
    graphRetryDelayInMs: 1_000,
    maxEventsPerExecution: 50,
  },
};

/** The media host's seal summary with these streams. */
export const sealWith = (streams: readonly unknown[]) => ({
  sessionId: 's-1',
  callId: 'call-1',
  interactionId: 'call-1',
  manifestBlobName: 'm.json',
  manifestSha256: 'aa',
  merkleRootSha256: 'bb',
  startedAt: at(1),
  endedAt: at(100),
  streams,
  gaps: [],
});

/** A call state notification received `second` s after {@link T0}. */
export const state = (
  s: string,
  second: number,
  id = `d-${s}-${second}`,
  resultInfo?: unknown,
) => ({
  event: { kind: 'callState', deliveryId: id, at: at(second), state: s, resultInfo },
});

/** A roster of one participant (MSI 1, sharing their screen). */
export const roster = (second: number, id = `r-${second}`) => ({
  event: {
    kind: 'roster',
    deliveryId: id,
    at: at(second),
    participants: [
      {
        participantId: 'p1',
        identityKind: 'user',
        identityId: 'u1',
        isInLobby: false,
        isMuted: false,
        isSharingScreen: true,
        isVideoOn: false,
        msis: ['1'],
      },
    ],
    mappings: [
      { msi: '1', participantId: 'p1', kind: 'audio', identityKind: 'user', identityId: 'u1' },
    ],
  },
});

/** One stored audio stream, for seals with media. */
export const audioStream = { streamId: 'a-1', kind: 'audio', msi: '1', blobName: 'a', bytes: 640 };

/** Every activity of callLifecycleV3 and later succeeding; the seal holds {@link audioStream}. */
export const fastPathResponders: Responders = {
  [ActivityNames.startRecording]: () => ({
    graph: { kind: 'ok', status: 200 },
    persisted: { ok: true },
  }),
  [ActivityNames.keepAlive]: () => ({ kind: 'ok', status: 200 }),
  [ActivityNames.forwardParticipants]: () => ({ ok: true }),
  [ActivityNames.checkMediaSession]: () => ({ ok: true, state: 'persisting' }),
  [ActivityNames.abortMediaSession]: () => ({ ok: true }),
  [ActivityNames.updateRecordingStatus]: () => ({ kind: 'ok', status: 200 }),
  [ActivityNames.sealRecording]: () => ({ ok: true, summary: sealWith([audioStream]) }),
};
