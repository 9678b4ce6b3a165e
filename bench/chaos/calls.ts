/** Calls on the chaos stack: start one through the simulator and wait for its recording. */
import { TENANT, USERS, type ChaosStack } from './stack';

export interface RecordedCall {
  readonly conversationId: string;
  /** The recorder's call leg id. */
  readonly callId: string;
  readonly interactionId: string;
  readonly outcome: string;
}

interface SimOutcome {
  readonly legs: { readonly callId: string; readonly recordingStatus: string }[];
}
interface CallView {
  readonly interaction?: { readonly interactionId: string; readonly outcome: string };
  readonly orchestration?: { readonly runtimeStatus: string };
}

export async function waitUntil<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutInMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutInMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Starts a P2P call of the recorded trader who speaks all along (`durationInMs`, default 6 s, so
 * that media flows after a slow answer on a loaded machine).
 */
export async function startCall(stack: ChaosStack, durationInMs = 6_000): Promise<string> {
  const started = await stack.control<{ conversationId: string }>('POST', '/_sim/calls', {
    tenantId: TENANT,
    kind: 'p2p',
    durationInMs,
    participants: [
      {
        user: USERS.trader,
        role: 'caller',
        timeline: [{ atInMs: 0, action: 'speak', durationInMs }],
      },
      { user: USERS.colleague, role: 'callee' },
    ],
  });
  if (started.status !== 201) throw new Error(`the simulator refused the call (${started.status})`);
  return started.body.conversationId;
}

/** The recorder's leg of a simulated call, once answered. */
export async function legOf(stack: ChaosStack, conversationId: string): Promise<string> {
  return waitUntil(async () => {
    const outcome = await stack.control<SimOutcome>('GET', `/_sim/calls/${conversationId}`);
    return outcome.body.legs[0]?.callId;
  }, 'the invite to be answered');
}

/** Waits until the simulator reports the recorder's leg as recording (Graph's status set). */
export async function recordingStarted(stack: ChaosStack, conversationId: string): Promise<void> {
  await waitUntil(async () => {
    const outcome = await stack.control<SimOutcome>('GET', `/_sim/calls/${conversationId}`);
    return outcome.body.legs[0]?.recordingStatus === 'recording' ? true : undefined;
  }, 'recording to start');
}

/** Waits for the call's lifecycle to complete and returns its stored interaction. */
export async function finishedCall(
  stack: ChaosStack,
  conversationId: string,
  callId: string,
): Promise<RecordedCall> {
  const admin = await stack.userToken('admin');
  return waitUntil(async () => {
    const view = await stack.api<CallView>('GET', `/api/calls/${encodeURIComponent(callId)}`, {
      token: admin,
    });
    const { interaction, orchestration } = view.body ?? {};
    return view.status === 200 && orchestration?.runtimeStatus === 'Completed' && interaction
      ? {
          conversationId,
          callId,
          interactionId: interaction.interactionId,
          outcome: interaction.outcome,
        }
      : undefined;
  }, `call ${callId} to finish`);
}

/** One recorded call, start to sealed interaction. */
export async function recordCall(stack: ChaosStack, durationInMs?: number): Promise<RecordedCall> {
  const conversationId = await startCall(stack, durationInMs);
  return finishedCall(stack, conversationId, await legOf(stack, conversationId));
}

export interface ViewedEntry {
  readonly seq: number;
  readonly kind?: string;
  readonly actor?: string;
  readonly subjectId?: string;
  readonly details?: Record<string, unknown>;
}

/** Entries of the tenant's ledger view (as its admin sees them), from `fromSeq`. */
export async function ledgerEntries(stack: ChaosStack, fromSeq = 0): Promise<ViewedEntry[]> {
  const admin = await stack.userToken('admin');
  const out: ViewedEntry[] = [];
  for (let from = fromSeq; ; from += 500) {
    const answer = await stack.api<{ entries?: ViewedEntry[] }>(
      'GET',
      `/api/archive/ledger?fromSeq=${from}&toSeq=${from + 499}`,
      { token: admin },
    );
    const page = answer.body.entries ?? [];
    out.push(...page);
    if (page.length < 500) return out;
  }
}

/** The next ledger sequence number (entries written from now on have at least this seq). */
export async function ledgerLength(stack: ChaosStack): Promise<number> {
  const entries = await ledgerEntries(stack);
  return (entries.at(-1)?.seq ?? -1) + 1;
}

/** Entries written since `seq`, leaving out the ledger views this campaign asked for. */
export async function entriesSince(stack: ChaosStack, seq: number): Promise<number> {
  const entries = await ledgerEntries(stack, seq);
  return entries.filter((e) => e.details?.action !== 'viewLedger').length;
}
