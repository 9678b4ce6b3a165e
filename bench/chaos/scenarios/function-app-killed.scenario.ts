/**
 * The function app killed during a call: its Functions host (a child process for this scenario,
 * on the stack's port and storage) is killed with SIGKILL while a call is being recorded, and
 * started again. Expected: the durable lifecycle resumes from its history and the call ends as an
 * undisturbed one would (`recorded`); the media host kept recording meanwhile (the media plane
 * does not go through the function app). Figures: the outcome, the lifecycle's runtime status,
 * the gaps and their reasons, the stored audio seconds, how long the host was down.
 */
import type { ChaosScenario } from '../scenario';
import { finishedCall, legOf, startCall, waitUntil } from '../calls';
import { startChildFunctionsHost, type ChildFunctionsHost } from '../child-functions-host';
import type { ChaosStack } from '../stack';
import { storedManifest } from '../stored-media';

const callInMs = Number(process.env.ATTEST_CHAOS_KILLED_CALL_MS ?? 60_000);

interface CallView {
  readonly interaction?: { readonly gaps?: readonly { readonly reason: string }[] };
  readonly orchestration?: { readonly runtimeStatus: string };
}

export const functionAppKilled: ChaosScenario<ChaosStack> = {
  name: 'function-app-killed',
  description:
    'the function app is killed mid-call and restarted: the lifecycle resumes, outcome unchanged',
  async run(context) {
    const stack = await context.stack();
    await stack.functionApp.stopInProcess();
    let child: ChildFunctionsHost | undefined;
    try {
      context.progress('running the function app in a child process');
      child = await startChildFunctionsHost(stack);
      // Long enough for a loaded machine's restart (about 18 s seen) to end before the call: a
      // call that ends while the host is down loses its `terminated` notification (see
      // docs/fault-campaign.md).
      const conversationId = await startCall(stack, callInMs);
      const callId = await legOf(stack, conversationId);
      await waitUntil(async () => {
        const sim = await stack.control<{ legs: { recordingStatus: string }[] }>(
          'GET',
          `/_sim/calls/${conversationId}`,
        );
        return sim.body.legs[0]?.recordingStatus === 'recording' ? true : undefined;
      }, 'recording to start');
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      context.progress('killing the Functions host');
      const killedAt = Date.now();
      await child.kill();
      child = await startChildFunctionsHost(stack);
      const downInMs = Date.now() - killedAt;
      context.progress(`Functions host back after ${downInMs} ms`);
      const call = await finishedCall(stack, conversationId, callId);
      const view = await stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(callId)}`, {
        token: await stack.userToken('admin'),
      });
      const gaps = view.body.interaction?.gaps ?? [];
      const manifest = await storedManifest(stack, call.interactionId);
      const audio = manifest?.streams.filter((s) => s.kind === 'audio') ?? [];
      return {
        isPassed: call.outcome === 'recorded' && manifest !== undefined,
        figures: {
          outcome: call.outcome,
          lifecycle: view.body.orchestration?.runtimeStatus ?? null,
          hostDownInMs: downInMs,
          gapReasons: [...new Set(gaps.map((g) => g.reason))].join(',') || null,
          storedAudioSeconds:
            audio.map((s) => (s.durationInMs / 1000).toFixed(1)).join(',') || null,
          isSealed: manifest !== undefined,
        },
      };
    } finally {
      await child?.stop();
      await stack.functionApp.startInProcess();
    }
  },
};
