/**
 * V4: the call check when the function app starts. Teams does not redeliver notifications sent
 * while the function app was down, so a `terminated` sent then would leave the lifecycle waiting
 * for its next keepAlive's 404 (up to an interval, 15 minutes by default). When the app starts it
 * raises `hostStarted` to every running lifecycle; the lifecycle asks Graph for its call and ends
 * as if terminated when the call is gone, or takes a lost `established` for received.
 */
import {
  ActivityNames,
  type CallStateActivityResult,
  type KeepAliveInput,
} from '../../domain/call-lifecycle.contract';
import { isCallCheckDue, judgeCallLookup } from '../../domain/call-lifecycle.rules';
import type { LifecycleRun, Step } from './lifecycle-run';
import { onEstablishedAwaitingReport } from './recording-start';

/** Asks Graph for the call (at most once per minimum interval) and acts on the answer. */
export function* onHostStarted(run: LifecycleRun): Step {
  const { context, input, settings, state } = run;
  if (!isCallCheckDue(state.lastCallCheckAt, settings, run.nowMs())) return;
  state.lastCallCheckAt = run.nowIso();
  const request: KeepAliveInput = { tenantId: input.tenantId, callId: input.callId };
  const lookup = (yield context.df.callActivity(
    ActivityNames.getCallState,
    request,
  )) as CallStateActivityResult;
  const verdict = judgeCallLookup(lookup, state.phase);
  switch (verdict.kind) {
    case 'ended':
      run.log.warn('call ended while the function app was down', { reason: verdict.reason });
      run.ended = {
        reason: verdict.reason,
        ...(verdict.resultInfo === undefined ? {} : { resultInfo: verdict.resultInfo }),
      };
      return;
    case 'established':
      run.log.warn('call established while the function app was down');
      onEstablishedAwaitingReport(run, run.nowIso());
      return;
    case 'unchanged':
      if (lookup.kind !== 'found')
        run.log.warn('call state unknown after the function app started', { kind: lookup.kind });
      return;
  }
}
