/**
 * A restart with a stream blob that no longer starts with its session's checkpoint (changed
 * behind the host's back): that session fails, reported; the host starts and the other sessions
 * are restored and keep recording.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import type { CreateMediaSessionResponse, MediaSessionStatus } from '@attest/core';
import { startMediaHost } from '../../media-host/src';
import { readSessionCheckpoint } from '../../media-host/src/session/session-record';
import { getFreePort } from '../../local/src/azurite/azurite-process';
import {
  control,
  hostFiles,
  MediaTestClient,
  recordingEventsFetch,
  TEST_CONNECTION,
  recordedSession,
} from './media-host-fixtures';

const connection = TEST_CONNECTION;

/** What the host tells a source that reconnects to the session: where to resume. */
async function firstAckOnReconnect(
  session: CreateMediaSessionResponse,
): Promise<MediaTestClient['lastAck']> {
  const client = await MediaTestClient.connect(session.mediaConfigBlob);
  try {
    await client.until(() => client.acks.length > 0);
    return client.lastAck;
  } finally {
    await client.close();
  }
}

describe('media host restart with a tampered stream blob', () => {
  it('fails that session only and restores the others', async () => {
    // Fixed ports: a source reconnects to the address in its media config.
    const files = hostFiles(connection, {
      controlPort: await getFreePort(),
      protocolPort: await getFreePort(),
    });
    const { fetch: fetchSpy, events } = recordingEventsFetch();
    const config = { ...files.config, functionsUrl: 'http://127.0.0.1:9' };
    const first = await startMediaHost(config, { fetch: fetchSpy });
    const tampered = await recordedSession(first, 'call-tampered', new Date().toISOString());
    const intact = await recordedSession(first, 'call-intact', new Date().toISOString());
    // Both sessions have checkpointed blocks before the host stops.
    const checkpoint = (sessionId: string): ReturnType<typeof readSessionCheckpoint> =>
      readSessionCheckpoint(join(config.spoolDir, 'sessions'), sessionId);
    // Sessions commit in turns over the 5 s commit interval, blocks hold 2 s: allow up to 15 s
    // on a loaded machine.
    const waitForCheckpoint = async (
      sessionId: string,
    ): ReturnType<typeof readSessionCheckpoint> => {
      for (
        let i = 0;
        i < 300 && (await checkpoint(sessionId)).streams.every((s) => s.blocks.length === 0);
        i += 1
      )
        await new Promise((resolve) => setTimeout(resolve, 50));
      return checkpoint(sessionId);
    };
    const tamperedCheckpoint = await waitForCheckpoint(tampered.sessionId);
    expect(tamperedCheckpoint.streams[0]?.blocks.length).toBeGreaterThan(0);
    expect((await waitForCheckpoint(intact.sessionId)).streams[0]?.blocks.length).toBeGreaterThan(
      0,
    );
    await first.close();

    // Someone empties the tampered session's blob.
    const blob = BlobServiceClient.fromConnectionString(connection)
      .getContainerClient(config.recordingsContainer)
      .getBlockBlobClient(tamperedCheckpoint.streams[0]!.blobName);
    await blob.commitBlockList([]);

    const second = await startMediaHost(config, { fetch: fetchSpy });
    try {
      const status = async (sessionId: string): Promise<MediaSessionStatus> =>
        (await control<MediaSessionStatus>(second.controlUrl, 'GET', `/v1/sessions/${sessionId}`))
          .body;
      expect(await status(tampered.sessionId)).toMatchObject({ state: 'failed' });
      expect(events).toContainEqual(
        expect.objectContaining({
          kind: 'persistenceFailed',
          sessionId: tampered.sessionId,
          reason: 'storedBlobDoesNotMatchCheckpoint',
        }),
      );
      expect((await status(intact.sessionId)).state).not.toBe('failed');
      // The intact session keeps recording after the restart.
      expect(await firstAckOnReconnect(intact)).toEqual({ ackedSequence: 20, nextSequence: 21 });
    } finally {
      await second.close();
    }
  });

  it('resumes the source after the checkpoint when the spool no longer holds the committed frames', async () => {
    const files = hostFiles(connection, {
      controlPort: await getFreePort(),
      protocolPort: await getFreePort(),
    });
    const config = { ...files.config, functionsUrl: 'http://127.0.0.1:9' };
    const noEvents: typeof fetch = () => Promise.resolve(new Response(null, { status: 204 }));
    const first = await startMediaHost(config, { fetch: noEvents });
    const session = await recordedSession(first, 'call-released', new Date().toISOString());
    // Wait (at most 15 s: commits in turns, 2 s blocks, a short block after two quiet commits)
    // until the checkpoint says the stream's 20 frames are committed, so the spool may let go of them.
    const committedThrough = async (): Promise<number> =>
      (
        await readSessionCheckpoint(join(config.spoolDir, 'sessions'), session.sessionId)
      ).streams.find((st) => st.msi === '7')?.committedThroughSequence ?? 0;
    for (let i = 0; i < 300 && (await committedThrough()) < 20; i += 1)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await committedThrough()).toBe(20);
    await first.close();
    // What a release leaves: no journal segment with the session's frames.
    rmSync(join(config.spoolDir, 'journal'), { recursive: true, force: true });

    const second = await startMediaHost(config, { fetch: noEvents });
    try {
      expect(await firstAckOnReconnect(session)).toEqual({ ackedSequence: 20, nextSequence: 21 });
    } finally {
      await second.close();
    }
  });
});
