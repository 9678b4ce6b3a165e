import { ErrorCode, RecorderError, type MediaSessionStatus } from '@attest/core';
import { MEDIA_RETRY_DELAYS_IN_MS, withMediaHostRetries } from './media-host-retries';
import type { MediaSessionRef } from './recorder-ports';

const session: MediaSessionRef = { sessionId: 's-1', hostId: 'h-1', controlUrl: 'https://h-1' };
const persisting = { state: 'persisting' } as MediaSessionStatus;
const unreachable = () =>
  new RecorderError(ErrorCode.MediaHostUnavailable, 'media host control API unreachable', {
    retryable: true,
  });

/** A media host whose first `failures` persist requests fail with `error`. */
function flaky(failures: number, error: () => Error) {
  const calls: string[] = [];
  return {
    calls,
    startPersisting: (_session: MediaSessionRef, at: string) => {
      calls.push(at);
      return calls.length <= failures ? Promise.reject(error()) : Promise.resolve(persisting);
    },
  };
}

describe('withMediaHostRetries', () => {
  it('asks again after a timeout and succeeds, waiting the set delays (no real time)', async () => {
    const media = flaky(2, unreachable);
    const waits: number[] = [];
    const status = await withMediaHostRetries(
      () => media.startPersisting(session, 't0'),
      (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    );
    expect(status).toBe(persisting);
    expect(media.calls).toEqual(['t0', 't0', 't0']);
    expect(waits).toEqual(MEDIA_RETRY_DELAYS_IN_MS.slice(0, 2));
  });

  it('gives up after the last attempt with the last error', async () => {
    const media = flaky(10, unreachable);
    await expect(
      withMediaHostRetries(
        () => media.startPersisting(session, 't0'),
        () => Promise.resolve(),
      ),
    ).rejects.toMatchObject({ code: ErrorCode.MediaHostUnavailable });
    expect(media.calls).toHaveLength(MEDIA_RETRY_DELAYS_IN_MS.length + 1);
  });

  it('does not ask again when the host refused (the session is gone or finished)', async () => {
    const refused = () =>
      new RecorderError(ErrorCode.MediaSessionFailed, 'media host answered 409', {
        retryable: false,
      });
    const media = flaky(1, refused);
    await expect(
      withMediaHostRetries(
        () => media.startPersisting(session, 't0'),
        () => Promise.resolve(),
      ),
    ).rejects.toMatchObject({ code: ErrorCode.MediaSessionFailed });
    expect(media.calls).toHaveLength(1);
  });
});
