/**
 * The function app killed during calls: its Functions host (a child process for this scenario,
 * on the stack's port and storage) is killed with SIGKILL while two calls are being recorded, and
 * started again. One call goes on past the restart; the other ends while the host is down, so its
 * `terminated` is lost (Teams does not redeliver). Expected: the durable lifecycles resume from
 * their history; the first call ends as an undisturbed one would (`recorded`); the second's
 * lifecycle asks Graph for its call when the host is back (the start-up call check) and ends
 * `recorded` at once, not at its next keepAlive (15 minutes). The media host kept recording
 * meanwhile (the media plane does not go through the function app). Figures: the outcomes, the
 * lifecycle's runtime status, the gaps and their reasons, the stored audio seconds, how long the
 * host was down, how long after its return the ended call's lifecycle finished.
 */
import type { ChaosScenario } from '../scenario';
import { finishedCall, legOf, recordingStarted, startCall } from '../calls';
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
    'the function app is killed mid-call and restarted: lifecycles resume, a call ended meanwhile ends at once',
  async run(context) {
    const stack = await context.stack();
    await stack.functionApp.stopInProcess();
    let child: ChildFunctionsHost | undefined;
    try {
      context.progress('running the function app in a child process');
      child = await startChildFunctionsHost(stack);
      // Long enough for a loaded machine's restart (about 18 s seen) to end before the call.
      const conversationId = await startCall(stack, callInMs);
      const callId = await legOf(stack, conversationId);
      // Ended by the scenario while the host is down.
      const endedConversationId = await startCall(stack, callInMs);
      const endedCallId = await legOf(stack, endedConversationId);
      for (const id of [conversationId, endedConversationId]) await recordingStarted(stack, id);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      context.progress('killing the Functions host');
      const killedAt = Date.now();
      await child.kill();
      const ended = await stack.control('POST', `/_sim/calls/${endedConversationId}/end`);
      if (ended.status !== 200)
        throw new Error(`the simulator did not end the call (${ended.status})`);
      child = await startChildFunctionsHost(stack);
      const backAt = Date.now();
      const downInMs = backAt - killedAt;
      context.progress(`Functions host back after ${downInMs} ms`);
      // Well before a keepAlive (15 minutes) would have told the lifecycle.
      const endedCall = await finishedCall(stack, endedConversationId, endedCallId);
      const endedCallFinishedInMs = Date.now() - backAt;
      const call = await finishedCall(stack, conversationId, callId);
      const view = await stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(callId)}`, {
        token: await stack.userToken('admin'),
      });
      const gaps = view.body.interaction?.gaps ?? [];
      const manifest = await storedManifest(stack, call.interactionId);
      const audio = manifest?.streams.filter((s) => s.kind === 'audio') ?? [];
      return {
        isPassed:
          call.outcome === 'recorded' && manifest !== undefined && endedCall.outcome === 'recorded',
        figures: {
          outcome: call.outcome,
          endedWhileDownOutcome: endedCall.outcome,
          endedWhileDownFinishedAfterRestartInMs: endedCallFinishedInMs,
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
