/**
 * A seal in progress is shared by every caller: seals that arrive while one is on its way (a
 * retried `/seal`, the orchestrator and an operator) write one manifest and all get its hash.
 * The host's clock moves on at every reading, so a second manifest would differ from the first.
 */
import { createHash } from 'node:crypto';
import type { SealSummary } from '@attest/core';
import { startMediaHost } from '../../media-host/src';
import { MemoryBlockStore } from '../../media-host/testing';
import { control, hostFiles, recordedSession } from './media-host-fixtures';

const noEvents: typeof fetch = () => Promise.resolve(new Response(null, { status: 204 }));

/** Counts manifest uploads (every write of a blob named `.../manifest.json`). */
class CountingStore extends MemoryBlockStore {
  manifestUploads = 0;

  override upload(
    container: string,
    blobName: string,
    body: Buffer,
    contentType: string,
  ): Promise<void> {
    if (blobName.endsWith('/manifest.json')) this.manifestUploads += 1;
    return super.upload(container, blobName, body, contentType);
  }
}

describe('concurrent seals', () => {
  it('write exactly one manifest and give every caller its hash', async () => {
    let nowInMs = Date.parse('2026-12-06T09:00:00.000Z');
    // Every reading of the clock is a second later: two seals cannot share a `sealedAt` by chance.
    const now = (): Date => new Date((nowInMs += 1000));
    const store = new CountingStore();
    const files = hostFiles('');
    const host = await startMediaHost(files.config, { store, fetch: noEvents, now });
    try {
      const created = await recordedSession(host, 'seal-race');

      const seals = await Promise.all(
        [1, 2, 3].map(() =>
          control<SealSummary>(host.controlUrl, 'POST', `/v1/sessions/${created.sessionId}/seal`),
        ),
      );

      expect(seals.map((s) => s.status)).toEqual([200, 200, 200]);
      expect(store.manifestUploads).toBe(1);
      const stored = store.read(files.config.recordingsContainer, 't/i-seal-race/manifest.json');
      const storedSha256 = createHash('sha256').update(stored!).digest('hex');
      expect(seals.map((s) => s.body.manifestSha256)).toEqual([
        storedSha256,
        storedSha256,
        storedSha256,
      ]);
    } finally {
      await host.close();
    }
  });
});
