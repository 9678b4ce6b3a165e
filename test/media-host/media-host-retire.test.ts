/**
 * An always-on host retires finished sessions after the retention: they leave memory and the
 * sessions folder (a sealed one's files deleted, an aborted one's kept aside), and a restart does
 * not bring them back. The host's clock is the test's.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CreateMediaSessionResponse, SealSummary } from '@attest/core';
import { noopMetrics, startMediaHost, type MediaHost } from '../../media-host/src';
import { checkpointLogPath } from '../../media-host/src/session/checkpoint-log';
import { control, hostFiles, recordedSession, TEST_CONNECTION } from './media-host-fixtures';

const HOUR = 3_600_000;
const noEvents: typeof fetch = () => Promise.resolve(new Response(null, { status: 204 }));

describe('media host housekeeping', () => {
  it('keeps finished sessions for the retention, then retires them for good', async () => {
    let nowInMs = Date.parse('2026-12-06T09:00:00.000Z');
    const now = (): Date => new Date(nowInMs);
    const files = hostFiles(TEST_CONNECTION, { finishedSessionRetentionInMs: HOUR });
    const sessionsDir = join(files.config.spoolDir, 'sessions');
    const forgotten: string[] = [];
    const metrics = {
      ...noopMetrics,
      forgetSession: (sessionId: string) => void forgotten.push(sessionId),
    };
    const first = await startMediaHost(files.config, { fetch: noEvents, now, metrics });
    let second: MediaHost | undefined;
    try {
      const sealed = await recordedSession(first, 'call-sealed');
      const aborted = await recordedSession(first, 'call-aborted');
      const live = await recordedSession(first, 'call-live');
      const summary = (
        await control<SealSummary>(
          first.controlUrl,
          'POST',
          `/v1/sessions/${sealed.sessionId}/seal`,
        )
      ).body;
      // The aborted session has committed blocks (a checkpoint log) before it is aborted: wait for
      // its first commit (every 200 ms here).
      for (
        let i = 0;
        i < 200 && !existsSync(checkpointLogPath(sessionsDir, aborted.sessionId));
        i += 1
      )
        await new Promise((resolve) => setTimeout(resolve, 25));
      expect(
        (
          await control(first.controlUrl, 'POST', `/v1/sessions/${aborted.sessionId}/abort`, {
            reason: 'test',
          })
        ).status,
      ).toBe(200);
      const status = (host: MediaHost, sessionId: string): Promise<number> =>
        control(host.controlUrl, 'GET', `/v1/sessions/${sessionId}`).then((r) => r.status);

      // Within the retention: still there, and a repeated seal answers as the first did.
      nowInMs += HOUR - 1;
      expect(await first.retireFinishedSessions()).toBe(0);
      expect(await status(first, sealed.sessionId)).toBe(200);
      expect(
        (
          await control<SealSummary>(
            first.controlUrl,
            'POST',
            `/v1/sessions/${sealed.sessionId}/seal`,
          )
        ).body.manifestSha256,
      ).toBe(summary.manifestSha256);

      nowInMs += 1;
      forgotten.length = 0;
      expect(await first.retireFinishedSessions()).toBe(2);
      // Their metric series go too (a failed session's were never dropped before).
      expect(forgotten.sort()).toEqual([sealed.sessionId, aborted.sessionId].sort());
      expect(await status(first, sealed.sessionId)).toBe(404);
      expect(await status(first, aborted.sessionId)).toBe(404);
      expect(await status(first, live.sessionId)).toBe(200);
      // The sealed session's files are gone (its manifest is in storage); the aborted one's are kept aside.
      expect(existsSync(join(sessionsDir, `${sealed.sessionId}.json`))).toBe(false);
      expect(existsSync(checkpointLogPath(sessionsDir, sealed.sessionId))).toBe(false);
      expect(readdirSync(join(sessionsDir, 'finished')).sort()).toEqual(
        [`${aborted.sessionId}.checkpoints.jsonl`, `${aborted.sessionId}.json`].sort(),
      );
      expect(readdirSync(sessionsDir).filter((n) => n.endsWith('.json'))).toEqual([
        `${live.sessionId}.json`,
      ]);
      // The call may be recorded again: a new session, not the retired one.
      const again = (
        await control<CreateMediaSessionResponse>(first.controlUrl, 'POST', '/v1/sessions', {
          callId: 'call-sealed',
          tenantId: 't',
          interactionId: 'i-call-sealed-2',
          recordedUserIds: [],
        })
      ).body;
      expect(again.sessionId).not.toBe(sealed.sessionId);
      expect(again.isExisting).toBeUndefined();
      await first.close();

      // A restart restores what is left, and nothing retired.
      second = await startMediaHost(files.config, { fetch: noEvents, now });
      expect(await status(second, sealed.sessionId)).toBe(404);
      expect(await status(second, aborted.sessionId)).toBe(404);
      expect(await status(second, live.sessionId)).toBe(200);
    } finally {
      await first.close();
      await second?.close();
      rmSync(files.dir, { recursive: true, force: true });
    }
  });
});
