/**
 * The media ingest benchmark's load generator: opens media sessions through the host's control API
 * and sends each one `audioUnmixed` frame of 4 speakers every 20 ms, in real time, as the bridge
 * does with the SDK's per-call buffers. Each buffer starts with the frame's sequence number (u32),
 * so stored audio can be checked frame by frame. It counts what it sent and what the host
 * acknowledged; measuring and reporting are elsewhere.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect } from 'node:tls';
import {
  encodeFrame,
  MediaFrameDecoder,
  PayloadFormat,
  type CreateMediaSessionResponse,
  type MediaConfigBlob,
  type SealSummary,
} from '@attest/core';
import { BENCH_CONTROL_KEY } from '../media-bench-host';

export const SPEAKERS_PER_SESSION = 4;
export const FRAME_MS = 20;
/** Sessions are opened and sealed this many at a time. */
const BATCH = 25;

export type Transport = 'tls' | 'loopback';

/**
 * Where sessions connect: the media endpoint of their media config blob (`tls`: remote sources
 * such as the simulator), or the host's plain-TCP loopback listener (`loopback`: as the .NET
 * bridge on the same VM sends).
 */
export interface MediaTarget {
  readonly transport: Transport;
  readonly loopbackPort: number;
}

/**
 * Calls `send` once for every 20 ms slot from now until `windowInMs` has passed, catching up on
 * every slot a late timer turn missed (so timer jitter does not lower the rate). `afterSlots` runs
 * on each turn with the slots sent so far and how far behind that turn started.
 */
export function sendEverySlot(
  windowInMs: number,
  send: () => void,
  afterSlots?: (tick: number, behindInMs: number) => void,
): Promise<void> {
  const started = performance.now();
  let tick = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const due = Math.floor((performance.now() - started) / FRAME_MS);
      const behindInMs = (due - tick) * FRAME_MS;
      while (tick < due) {
        tick += 1;
        send();
      }
      afterSlots?.(tick, behindInMs);
      if (performance.now() - started >= windowInMs) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
}

/** A control API call with the bench's control key; throws on a non-2xx answer. */
export async function call<T>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${BENCH_CONTROL_KEY}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok)
    throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

export interface BenchSession {
  readonly sessionId: string;
  readonly interactionId: string;
  readonly socket: Socket;
  sent: number;
  acked: number;
  maxLagInFrames: number;
  isClosed: boolean;
}

async function openSession(
  base: string,
  target: MediaTarget,
  label: string,
  index: number,
): Promise<BenchSession> {
  const interactionId = `bench-${label}-${index}`;
  const created = await call<CreateMediaSessionResponse>(base, 'POST', '/v1/sessions', {
    callId: interactionId,
    tenantId: 'bench',
    interactionId,
    recordedUserIds: [],
  });
  await call(base, 'POST', `/v1/sessions/${created.sessionId}/persist`, {
    recordingConfirmedAt: new Date().toISOString(),
  });
  const blob = JSON.parse(created.mediaConfigBlob) as MediaConfigBlob;
  const [host, port] = blob.endpoint.replace('tls://', '').split(':');
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s =
      target.transport === 'loopback'
        ? connectTcp({ host: '127.0.0.1', port: target.loopbackPort, noDelay: true }, () =>
            resolve(s),
          )
        : connect({ host, port: Number(port), rejectUnauthorized: false }, () => resolve(s));
    s.once('error', reject);
  });
  const session: BenchSession = {
    sessionId: blob.sessionId,
    interactionId,
    socket,
    sent: 0,
    acked: 0,
    maxLagInFrames: 0,
    isClosed: false,
  };
  const decoder = new MediaFrameDecoder();
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk).frames)
      if (frame.type === 'ack') session.acked = frame.ackedSequence;
  });
  socket.on('close', () => (session.isClosed = true));
  socket.on('error', () => undefined);
  socket.write(
    encodeFrame({
      type: 'hello',
      sessionId: blob.sessionId,
      sequence: 0,
      timestamp100ns: 0n,
      msi: 0,
      token: blob.token,
    }),
  );
  return session;
}

/** Opens `count` sessions labelled `label` (interaction ids `bench-<label>-<i>`), 25 at a time. */
export async function openSessions(
  base: string,
  target: MediaTarget,
  label: string,
  count: number,
): Promise<BenchSession[]> {
  const sessions: BenchSession[] = [];
  for (let i = 0; i < count; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - i) }, (_, j) =>
      openSession(base, target, label, i + j),
    );
    sessions.push(...(await Promise.all(batch)));
  }
  return sessions;
}

/** Seals every session, 25 at a time; the summaries in the sessions' order. */
export async function sealSessions(
  base: string,
  sessions: readonly BenchSession[],
): Promise<SealSummary[]> {
  const summaries: SealSummary[] = [];
  for (let i = 0; i < sessions.length; i += BATCH) {
    summaries.push(
      ...(await Promise.all(
        sessions
          .slice(i, i + BATCH)
          .map((s) => call<SealSummary>(base, 'POST', `/v1/sessions/${s.sessionId}/seal`)),
      )),
    );
  }
  return summaries;
}

/** The 4 speakers' 640-byte PCM buffers, shared by every frame (encodeFrame copies them). */
export const speakerPayloads = Array.from({ length: SPEAKERS_PER_SESSION }, (_, i) =>
  Buffer.alloc(640, i + 1),
);

export const FIRST_TIMESTAMP_100NS = 638_700_000_000_000_000n;

/**
 * One 4-speaker `audioUnmixed` frame of `sessionId` with this sequence number, timestamped 20 ms
 * per sequence after the first frame's time (or at `timestamp100ns`).
 */
export function audioFrame(
  sessionId: string,
  sequence: number,
  timestamp100ns = FIRST_TIMESTAMP_100NS + BigInt(sequence) * 200_000n,
): Buffer {
  return encodeFrame({
    type: 'audioUnmixed',
    sessionId,
    sequence,
    timestamp100ns,
    msi: 0,
    format: PayloadFormat.pcm16k,
    buffers: speakerPayloads.map((payload, i) => ({
      msi: 100 + i,
      originalSenderTimestamp100ns: 0n,
      payload,
    })),
  });
}

/** Sends the session's next frame (its buffers carry the frame's number) and tracks its ack lag. */
export function sendFrame(session: BenchSession): void {
  session.sent += 1;
  const n = session.sent;
  // encodeFrame copies the payloads, so the shared buffers can carry this frame's number.
  for (const payload of speakerPayloads) payload.writeUInt32LE(n, 0);
  session.socket.write(audioFrame(session.sessionId, n));
  session.maxLagInFrames = Math.max(session.maxLagInFrames, session.sent - session.acked);
}

/** Sends every open session its frame of each 20 ms slot for `windowInMs`. */
export function streamAll(
  sessions: readonly BenchSession[],
  windowInMs: number,
  afterSlots?: (tick: number, behindInMs: number) => void,
): Promise<void> {
  return sendEverySlot(
    windowInMs,
    () => {
      for (const s of sessions) if (!s.isClosed) sendFrame(s);
    },
    afterSlots,
  );
}
