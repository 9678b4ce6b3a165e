/**
 * PCI pause: the payment integration (an `Attest.RecordingController`) pauses a recorded call
 * through the function app for a few seconds and resumes it. Expected (docs/pci-pause.md): no
 * bytes stored for the paused span (the stored audio's timeline skips it, the blobs hold only the
 * manifest's bytes), the gap with reason and actor, both requests in the ledger, Teams told only
 * `recording`. `ATTEST_CHAOS_PCI_PAUSE_MS` sets the pause (default 4000).
 */
import type { ChaosScenario } from '../scenario';
import {
  finishedCall,
  legOf,
  ledgerEntries,
  ledgerLength,
  recordingStarted,
  startCall,
} from '../calls';
import { USERS, type ChaosStack } from '../stack';
import { blobsMatchManifest, skippedSpansInMs, storedManifest } from '../stored-media';

const pauseInMs = Number(process.env.ATTEST_CHAOS_PCI_PAUSE_MS ?? 4_000);

export const pciPause: ChaosScenario<ChaosStack> = {
  name: 'pci-pause',
  description: 'a call is paused for a card payment: nothing stored for the span, gap and ledger',
  async run(context) {
    const stack = await context.stack();
    const fromSeq = await ledgerLength(stack);
    const conversationId = await startCall(stack, pauseInMs + 10_000);
    const callId = await legOf(stack, conversationId);
    await recordingStarted(stack, conversationId);
    // Two seconds recorded, then the payment.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const token = await stack.userToken('controller');
    const path = `/api/calls/${encodeURIComponent(callId)}`;
    context.progress(`pausing for ${pauseInMs} ms`);
    const paused = await stack.api('POST', `${path}/pause`, { token, body: { reason: 'pci' } });
    await new Promise((resolve) => setTimeout(resolve, pauseInMs));
    const resumed = await stack.api('POST', `${path}/resume`, { token });
    const call = await finishedCall(stack, conversationId, callId);
    const view = await stack.api<{
      interaction?: {
        gaps?: { reason: string; actor?: string; startedAt: string; endedAt: string }[];
      };
    }>('GET', path, { token: await stack.userToken('admin') });
    const gap = view.body.interaction?.gaps?.find((g) => g.reason === 'pci');
    const gapInMs = gap === undefined ? 0 : Date.parse(gap.endedAt) - Date.parse(gap.startedAt);
    const manifest = await storedManifest(stack, call.interactionId);
    const audio = manifest?.streams.filter((s) => s.kind === 'audio') ?? [];
    const skippedInMs = Math.min(
      ...audio.map((s) => Math.max(0, ...skippedSpansInMs(s))),
      Number.POSITIVE_INFINITY,
    );
    const blobsExact = manifest === undefined ? false : await blobsMatchManifest(stack, manifest);
    const entries = (await ledgerEntries(stack, fromSeq)).filter(
      (e) => e.subjectId === call.interactionId,
    );
    const isPauseInLedger = entries.some(
      (e) => e.kind === 'recordingPaused' && e.actor === USERS.controller,
    );
    const isResumeInLedger = entries.some(
      (e) => e.kind === 'recordingResumed' && e.actor === USERS.controller,
    );
    const isNothingStoredInSpan = audio.length > 0 && skippedInMs >= gapInMs - 1_000;
    return {
      isPassed:
        paused.status === 200 &&
        resumed.status === 200 &&
        gap?.actor === USERS.controller &&
        isNothingStoredInSpan &&
        blobsExact &&
        isPauseInLedger &&
        isResumeInLedger,
      figures: {
        outcome: call.outcome,
        pauseAnswer: paused.status,
        resumeAnswer: resumed.status,
        gapInMs,
        gapActorIsController: gap?.actor === USERS.controller,
        audioStreams: audio.length,
        unstoredMediaInMs: Number.isFinite(skippedInMs) ? Math.round(skippedInMs) : null,
        blobsHoldOnlyManifestBytes: blobsExact,
        ledgerPaused: isPauseInLedger,
        ledgerResumed: isResumeInLedger,
      },
    };
  },
};
