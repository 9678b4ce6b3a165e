/**
 * Timer schedule status in blob storage, where the Functions host keeps it: container
 * `azure-webjobs-hosts`, blob `timers/<hostId>/<functionName>/status`, JSON
 * `{ "Last", "Next", "LastUpdated" }` (ISO dates).
 */
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { TimerScheduleStatus, TimerStatusStore } from './timer-scheduler';

export const TIMER_STATUS_CONTAINER = 'azure-webjobs-hosts';

function dateOf(value: unknown, blobName: string): Date {
  const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new Error(`Timer status ${blobName} has an invalid date`);
  return date;
}

/** `hostId`: lowercase letters, digits and dashes (the app's name). */
export function createBlobTimerStatusStore(
  connectionString: string,
  hostId: string,
): TimerStatusStore {
  const safeHostId =
    hostId
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 32) || 'local';
  const container: ContainerClient =
    BlobServiceClient.fromConnectionString(connectionString).getContainerClient(
      TIMER_STATUS_CONTAINER,
    );
  let ensured: Promise<unknown> | undefined;
  const blobName = (functionName: string): string => `timers/${safeHostId}/${functionName}/status`;
  return {
    async read(functionName) {
      const blob = container.getBlockBlobClient(blobName(functionName));
      let text: string;
      try {
        text = (await blob.downloadToBuffer()).toString('utf8');
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        if (status === 404) return undefined;
        throw error;
      }
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const name = blobName(functionName);
      return {
        last: dateOf(parsed.Last, name),
        next: dateOf(parsed.Next, name),
        lastUpdated: dateOf(parsed.LastUpdated, name),
      };
    },
    async write(functionName, status: TimerScheduleStatus) {
      ensured ??= container.createIfNotExists().catch((error: unknown) => {
        ensured = undefined;
        throw error;
      });
      await ensured;
      const body = JSON.stringify({
        Last: status.last.toISOString(),
        Next: status.next.toISOString(),
        LastUpdated: status.lastUpdated.toISOString(),
      });
      await container
        .getBlockBlobClient(blobName(functionName))
        .upload(body, Buffer.byteLength(body), {
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
    },
  };
}
