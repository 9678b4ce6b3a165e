/**
 * Recording storage unavailable mid-call: the media host's blob endpoint is cut (every connection
 * refused) for `ATTEST_CHAOS_STORAGE_OUTAGE_MS` (default 30 000; a smoke run sets a few seconds)
 * while the trader speaks, then restored. The function app's own storage stays up (in Azure the
 * recordings account is a separate account from the Functions host's). Expected: the media host
 * keeps frames in its spool and stores them once storage is back; whatever it could not store is
 * a gap with its reason and the outcome says so; what is stored is in order and matches the
 * manifest. Figures: outcome and status, media lost (the spans the stored audio skips), gaps
 * and their reasons, order kept, blobs as the manifest lists them.
 */
import type { ChaosScenario } from '../scenario';
import { finishedCall, legOf, recordingStarted, startCall } from '../calls';
import { setDraining, startChildMediaHost, withOnlyChildHost } from '../child-media-host';
import { blobPortOf, startCuttableProxy, throughProxy } from '../cuttable-proxy';
import type { ChaosStack } from '../stack';
import { blobsMatchManifest, isOrderKept, skippedSpansInMs, storedManifest } from '../stored-media';

const outageInMs = Number(process.env.ATTEST_CHAOS_STORAGE_OUTAGE_MS ?? 30_000);

interface CallView {
  readonly interaction?: {
    readonly gaps?: readonly { readonly reason: string }[];
    readonly recordingStatusHistory?: readonly { readonly status: string }[];
  };
}

export const storageDown: ChaosScenario<ChaosStack> = {
  name: 'storage-down',
  description: `recording storage unreachable for ${outageInMs / 1000} s mid-call: media kept in order, losses a gap`,
  async run(context) {
    const stack = await context.stack();
    const proxy = await startCuttableProxy(blobPortOf(stack.storageConnection));
    const host = await startChildMediaHost(stack, {
      hostId: 'chaos-media-storage',
      env: { ATTEST_MEDIA_STORAGE_CONNECTION: throughProxy(stack.storageConnection, proxy.port) },
    });
    try {
      const durationInMs = outageInMs + 10_000;
      const { conversationId, callId } = await withOnlyChildHost(stack, async () => {
        const conversationId = await startCall(stack, durationInMs);
        return { conversationId, callId: await legOf(stack, conversationId) };
      });
      await recordingStarted(stack, conversationId);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      context.progress(`cutting storage for ${outageInMs} ms`);
      proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, outageInMs));
      proxy.restore();
      context.progress('storage restored');
      const call = await finishedCall(stack, conversationId, callId);
      const view = await stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(callId)}`, {
        token: await stack.userToken('admin'),
      });
      const gaps = view.body.interaction?.gaps ?? [];
      const statuses = (view.body.interaction?.recordingStatusHistory ?? []).map((c) => c.status);
      const manifest = await storedManifest(stack, call.interactionId);
      const audio = manifest?.streams.filter((s) => s.kind === 'audio') ?? [];
      const lostInMs = audio.reduce(
        (sum, s) => sum + skippedSpansInMs(s).reduce((a, b) => a + Math.max(0, b), 0),
        0,
      );
      const isOrdered = manifest !== undefined && manifest.streams.every(isOrderKept);
      const isExact = manifest !== undefined && (await blobsMatchManifest(stack, manifest));
      // A loss must be said (a gap, not `recorded`); no loss may be `recorded`.
      const isOutcomeHonest =
        call.outcome === 'recorded'
          ? lostInMs < 100
          : call.outcome === 'recordedWithGaps' && gaps.length > 0;
      return {
        isPassed: isOrdered && isExact && isOutcomeHonest,
        figures: {
          outageInMs,
          outcome: call.outcome,
          recordingStatuses: statuses.join(',') || null,
          audioStreams: audio.length,
          storedAudioSeconds:
            audio.map((s) => (s.durationInMs / 1000).toFixed(1)).join(',') || null,
          mediaLostInMs: Math.round(lostInMs),
          gapCount: gaps.length,
          gapReasons: [...new Set(gaps.map((g) => g.reason))].join(',') || null,
          isOrderKept: isOrdered,
          blobsHoldOnlyManifestBytes: isExact,
        },
      };
    } finally {
      proxy.restore();
      await host.stop();
      await setDraining(stack, host.hostId, true).catch(() => undefined);
      await proxy.close();
    }
  },
};
