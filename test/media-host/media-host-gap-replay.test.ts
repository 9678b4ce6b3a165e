/**
 * A source's gap report (the bridge's queue overflowed) survives a media host crash: the report
 * is acknowledged once it is in the spool, so when the host stops before the session record that
 * holds the gap is written, the restart replays the report from the spool and records the gap,
 * once, where the dropped frames were in the stream's time. When the record was written first,
 * the replay adds nothing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  StreamGapReason,
  StreamStateKind,
  type CreateMediaSessionResponse,
  type RecordingGap,
  type SealSummary,
} from '@attest/core';
import { startMediaHost, type MediaHost } from '../../media-host/src';
import { getFreePort } from '../../local/src/azurite/azurite-process';
import type { SessionRecord } from '../../media-host/src/session/session-record';
import {
  control,
  hostFiles,
  MediaTestClient,
  pcmFrame,
  TS0,
  STEP,
  TEST_CONNECTION,
  type HostFiles,
  persistedSession,
} from './media-host-fixtures';

const noEvents: typeof fetch = () => Promise.resolve(new Response(null, { status: 204 }));
/** The restarted host's clock: an hour on, so a gap placed at the restart is told apart. */
const RESTART_AT_MS = Date.now() + 3_600_000;

interface Crashed {
  readonly files: HostFiles;
  readonly session: CreateMediaSessionResponse;
  readonly recordPath: string;
  /** The record as it was before the gap report arrived. */
  readonly recordBeforeGap: string;
  /** The gap as the first host recorded it live. */
  readonly liveGap: RecordingGap;
}

/**
 * Ten frames of speaker 7, then a report of 50 dropped frames (11..60) numbered 11; stops the
 * host once the report is acknowledged and in the record. No commit runs (its interval is an
 * hour), so the spool still holds every frame.
 */
async function crashAfterGapReport(): Promise<Crashed> {
  const files = hostFiles(TEST_CONNECTION, {
    controlPort: await getFreePort(),
    protocolPort: await getFreePort(),
    commitIntervalInMs: 3_600_000,
  });
  const host = await startMediaHost(
    { ...files.config, functionsUrl: 'http://127.0.0.1:9' },
    { fetch: noEvents },
  );
  const session = await persistedSession(host.controlUrl, {
    callId: `call-gap-${Math.random()}`,
    interactionId: 'i-gap',
  });
  const recordPath = join(files.config.spoolDir, 'sessions', `${session.sessionId}.json`);
  const readRecord = (): SessionRecord =>
    JSON.parse(readFileSync(recordPath, 'utf8')) as SessionRecord;
  const client = await MediaTestClient.connect(session.mediaConfigBlob);
  for (let i = 1; i <= 10; i += 1)
    client.unmixed(i, TS0 + BigInt(i) * STEP, [{ msi: 7, payload: pcmFrame(7, i) }]);
  await client.until(() => (client.lastAck?.ackedSequence ?? 0) >= 10);
  const recordBeforeGap = readFileSync(recordPath, 'utf8');
  expect((JSON.parse(recordBeforeGap) as SessionRecord).gaps).toEqual([]);
  client.send({
    type: 'streamState',
    sessionId: session.sessionId,
    sequence: 11,
    timestamp100ns: TS0 + 11n * STEP,
    msi: 0,
    streamKind: StreamStateKind.session,
    isActive: false,
    gap: {
      reason: StreamGapReason.sourceQueueOverflow,
      droppedFrames: 50,
      lastTimestamp100ns: TS0 + 60n * STEP,
    },
  });
  await client.until(() => (client.lastAck?.ackedSequence ?? 0) >= 11);
  await client.until(() => readRecord().sourceGapsThrough === 11);
  const liveGap = readRecord().gaps[0]!;
  await client.close();
  await closeHost(host);
  return { files, session, recordPath, recordBeforeGap, liveGap };
}

async function closeHost(host: MediaHost): Promise<void> {
  await host.close();
}

/** Restarts on the same spool with the clock at {@link RESTART_AT_MS} and seals the session. */
async function restartAndSeal(crashed: Crashed): Promise<SealSummary> {
  const host = await startMediaHost(
    { ...crashed.files.config, functionsUrl: 'http://127.0.0.1:9' },
    { fetch: noEvents, now: () => new Date(RESTART_AT_MS) },
  );
  try {
    const sealed = await control<SealSummary>(
      host.controlUrl,
      'POST',
      `/v1/sessions/${crashed.session.sessionId}/seal`,
    );
    expect(sealed.status).toBe(200);
    return sealed.body;
  } finally {
    await closeHost(host);
  }
}

describe('a source gap report replayed from the spool after a crash', () => {
  it('records the gap the host had acknowledged but not yet written to the session record', async () => {
    const crashed = await crashAfterGapReport();
    // The crash came before the record write: the record on disk is the one before the report.
    writeFileSync(crashed.recordPath, crashed.recordBeforeGap);

    const summary = await restartAndSeal(crashed);
    // The replayed stream starts at the restart (frame 1 at RESTART_AT_MS); frames 11..60 were
    // dropped: 200 ms after the first frame to 20 ms after the 60th.
    expect(summary.gaps).toEqual([
      {
        startedAt: new Date(RESTART_AT_MS + 200).toISOString(),
        endedAt: new Date(RESTART_AT_MS + 1200).toISOString(),
        reason: 'sourceQueueOverflow',
      },
    ]);
    const record = JSON.parse(readFileSync(crashed.recordPath, 'utf8')) as SessionRecord;
    expect(record.gaps).toEqual(summary.gaps);
    expect(record.sourceGapsThrough).toBe(11);
  });

  it('adds nothing when the record already held the gap', async () => {
    const crashed = await crashAfterGapReport();
    // The live gap spans the 50 dropped frames and ended when the report arrived.
    expect(Date.parse(crashed.liveGap.endedAt) - Date.parse(crashed.liveGap.startedAt)).toBe(1000);
    expect(Date.parse(crashed.liveGap.endedAt)).toBeLessThan(RESTART_AT_MS);

    const summary = await restartAndSeal(crashed);
    expect(summary.gaps).toEqual([crashed.liveGap]);
  });
});
