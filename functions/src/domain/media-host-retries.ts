/**
 * Idempotent requests to a media host whose failure would count as the host being lost: starting
 * persistence after Graph confirmed the recording status, and forwarding the roster. The persist
 * request waits for the session's set-up, which on a busy host can outlast one control timeout;
 * a timeout or a refused connection then says nothing about the session. So a retryable failure
 * is asked again after a short wait (a session already persisting, or already holding the
 * roster, answers as it is), and only a refusal or the last failure counts as the host lost.
 */
import { RecorderError } from '@attest/core';

/** Waits between attempts: four attempts within about 3.5 s plus their own timeouts. */
export const MEDIA_RETRY_DELAYS_IN_MS: readonly number[] = [250, 1_000, 2_000];

export async function withMediaHostRetries<T>(
  request: () => Promise<T>,
  sleep: (ms: number) => Promise<void>,
  onRetry?: (attempt: number, error: unknown) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await request();
    } catch (error) {
      const delay = MEDIA_RETRY_DELAYS_IN_MS[attempt - 1];
      if (delay === undefined || !(error instanceof RecorderError) || !error.retryable) throw error;
      onRetry?.(attempt, error);
      await sleep(delay);
    }
  }
}
