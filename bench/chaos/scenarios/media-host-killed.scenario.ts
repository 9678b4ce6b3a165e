/**
 * A media host killed (SIGKILL) in the middle of a recorded call. Expected (ARCHITECTURE §4-5: a
 * crash loses at most the uncommitted seconds): the media committed before the kill is kept, the
 * lost span is a gap with its reason, and the stored outcome says so (`recordedWithGaps`), never
 * `recorded`. Figures: the outcome, the gaps and their reasons, the streams the interaction lists
 * with their stored seconds, and the stream blobs committed in storage for the call (what a
 * manifest could have listed).
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { recordingBlobNames } from '@attest/core';
import type { ChaosScenario } from '../scenario';
import { finishedCall, legOf, recordingStarted, startCall } from '../calls';
import { setDraining, startChildMediaHost, withOnlyChildHost } from '../child-media-host';
import { TENANT, type ChaosStack } from '../stack';

interface CallView {
  readonly interaction?: {
    readonly gaps?: readonly {
      readonly reason: string;
      readonly from?: string;
      readonly to?: string;
    }[];
  };
  readonly streams?: readonly {
    readonly streamId?: string;
    readonly msi: string;
    readonly bytes: number;
  }[];
}

export const mediaHostKilled: ChaosScenario<ChaosStack> = {
  name: 'media-host-killed',
  description:
    'the media host is killed mid-call: media before the kill kept, the rest a gap with its reason',
  async run(context) {
    const stack = await context.stack();
    const host = await startChildMediaHost(stack, { hostId: 'chaos-media-kill' });
    try {
      const { conversationId, callId } = await withOnlyChildHost(stack, async () => {
        const conversationId = await startCall(stack, 12_000);
        return { conversationId, callId: await legOf(stack, conversationId) };
      });
      await recordingStarted(stack, conversationId);
      // Some seconds of media committed (every 200 ms here), then the kill.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      context.progress('killing the media host');
      await host.kill();
      const call = await finishedCall(stack, conversationId, callId);
      const view = await stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(callId)}`, {
        token: await stack.userToken('admin'),
      });
      const gaps = view.body.interaction?.gaps ?? [];
      const streams = view.body.streams ?? [];
      const container = BlobServiceClient.fromConnectionString(
        stack.storageConnection,
      ).getContainerClient('recordings');
      let committedStreamBlobs = 0;
      const streamPrefix = recordingBlobNames(TENANT, call.interactionId).stream('', '');
      const prefix = streamPrefix.slice(0, streamPrefix.lastIndexOf('/') + 1);
      for await (const blob of container.listBlobsFlat({ prefix }))
        if (blob.name.startsWith(prefix)) committedStreamBlobs += 1;
      // 16 kHz, 16-bit mono: 32 000 bytes a second of stored audio.
      const storedSeconds = streams.map((s) => `${s.msi}:${(s.bytes / 32_000).toFixed(1)}s`);
      return {
        isPassed: call.outcome === 'recordedWithGaps' && gaps.length > 0,
        figures: {
          outcome: call.outcome,
          gapCount: gaps.length,
          gapReasons: [...new Set(gaps.map((g) => g.reason))].join(',') || null,
          streams: streams.length,
          storedSecondsPerStream: storedSeconds.join(',') || null,
          committedStreamBlobs,
        },
      };
    } finally {
      await host.stop();
      // The dead host is out of the fleet for the next scenarios (as an operator would drain it).
      await setDraining(stack, host.hostId, true).catch(() => undefined);
    }
  },
};
