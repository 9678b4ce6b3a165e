/** One recorded call shared by the scenarios that only need an archived interaction. */
import { recordCall, type RecordedCall } from './calls';
import type { ChaosStack } from './stack';

const calls = new WeakMap<ChaosStack, Promise<RecordedCall>>();

export function sharedRecordedCall(stack: ChaosStack): Promise<RecordedCall> {
  let call = calls.get(stack);
  if (call === undefined) {
    call = recordCall(stack);
    calls.set(stack, call);
  }
  return call;
}
