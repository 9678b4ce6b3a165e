/**
 * Paired capture under a host loss (#19): every call of the recorded trader invites two recorder
 * legs (`ConcurrentInvitationCount = 2`), N calls run at once (`ATTEST_CHAOS_PAIRED_CALLS`,
 * default 20) over the stack's media host and two more in their own processes, and one of those
 * is killed (SIGKILL) while they all record. Expected: no interaction loses media (each interval is
 * covered by the surviving capture; the interaction's gaps inside the recorded window are none),
 * and new calls go to the remaining hosts at once. Figures: media lost per interaction (the
 * seconds of in-window gaps: total and worst), the interactions' outcomes, the legs the killed host
 * had (of calls still live at the kill: the scenario fails unless there were some, else it tested
 * nothing), the calls whose legs shared a host, and the seconds from the kill until the first new
 * call whose two legs were both answered on the remaining hosts.
 */
import type { ChaosScenario } from '../scenario';
import { finishedCall, startCall, waitUntil } from '../calls';
import { setDraining, startChildMediaHost, type ChildMediaHost } from '../child-media-host';
import { INSTANCE, TENANT, type ChaosStack } from '../stack';

interface SimCall {
  readonly endedAt: string | null;
  readonly legs: { readonly callId: string; readonly recordingStatus: string }[];
}
interface LegView {
  readonly interaction?: { readonly mediaHostId?: string; readonly pairedInteractionId?: string };
}
interface InteractionView {
  readonly interaction?: {
    readonly outcome: string;
    readonly manifestSha256?: string;
    readonly gaps?: readonly { readonly reason: string; startedAt: string; endedAt: string }[];
  };
}

const callCount = (): number => {
  const value = Number(process.env.ATTEST_CHAOS_PAIRED_CALLS ?? '20');
  return Number.isInteger(value) && value > 0 ? value : 20;
};

/** Sets the recorded trader's policy to invite `count` recorder legs per call. */
function setConcurrentInvitations(stack: ChaosStack, count: 1 | 2): void {
  const directory = stack.sim.directory();
  stack.sim.setDirectory({
    ...directory,
    tenants: directory.tenants.map((tenant) => ({
      ...tenant,
      policies: tenant.policies.map((policy) => ({
        ...policy,
        applications: policy.applications.map((app) =>
          app.applicationInstanceId === INSTANCE
            ? { ...app, concurrentInvitationCount: count }
            : app,
        ),
      })),
    })),
  });
}

const simCall = async (stack: ChaosStack, conversationId: string): Promise<SimCall> =>
  (await stack.control<SimCall>('GET', `/_sim/calls/${conversationId}`)).body;

async function hostOf(stack: ChaosStack, admin: string, callId: string): Promise<LegView> {
  return (
    await stack.api<LegView>('GET', `/api/calls/${encodeURIComponent(callId)}`, { token: admin })
  ).body;
}

/** In-window gap seconds of an interaction (before the recording status is outside it). */
function lostSeconds(view: InteractionView['interaction']): number {
  return (
    (view?.gaps ?? [])
      .filter((g) => g.reason !== 'beforeRecordingStatus')
      .reduce((sum, g) => sum + Math.max(0, Date.parse(g.endedAt) - Date.parse(g.startedAt)), 0) /
    1000
  );
}

export const pairedHostKilled: ChaosScenario<ChaosStack> = {
  name: 'paired-host-killed',
  description:
    'N paired-capture calls at once, one media host killed: no media lost per interaction, new calls on the remaining hosts',
  async run(context) {
    const stack = await context.stack();
    const calls = callCount();
    const admin = await stack.userToken('admin');
    const officer = await stack.userToken('officer');
    const hosts: ChildMediaHost[] = [];
    setConcurrentInvitations(stack, 2);
    try {
      for (const hostId of ['chaos-pair-a', 'chaos-pair-b'])
        hosts.push(await startChildMediaHost(stack, { hostId }));
      const [victim] = hosts as [ChildMediaHost, ChildMediaHost];
      context.progress(`starting ${calls} paired calls`);
      // Long enough to outlast the kill and the probes on a loaded machine.
      const durationInMs = 25_000;
      const conversations = await Promise.all(
        Array.from({ length: calls }, () => startCall(stack, durationInMs)),
      );
      const legsOf = new Map<string, string[]>();
      await waitUntil(
        async () => {
          for (const id of conversations) {
            if (legsOf.has(id)) continue;
            const recording = (await simCall(stack, id)).legs.filter(
              (l) => l.recordingStatus === 'recording',
            );
            if (recording.length >= 2)
              legsOf.set(
                id,
                recording.map((l) => l.callId),
              );
          }
          return legsOf.size === conversations.length ? true : undefined;
        },
        'every call to record on two legs',
        120_000,
      );
      // Kill at once: reading where each leg runs takes seconds on a loaded machine, long
      // enough for the calls to end before the kill; the legs' hosts are read after the probes
      // (the records keep them), so they delay neither.
      context.progress(`killing ${victim.hostId}`);
      const killedAtMs = Date.now();
      await victim.kill();

      // New calls after the kill, one a second, until one has both legs answered on the others.
      let secondsUntilNewCallsOnRemainingHosts: number | null = null;
      const probes: string[] = [];
      for (
        let attempt = 0;
        attempt < 30 && secondsUntilNewCallsOnRemainingHosts === null;
        attempt += 1
      ) {
        const startedAtMs = Date.now();
        const probe = await startCall(stack, 6_000);
        probes.push(probe);
        const legs = await waitUntil(
          async () => {
            const answered = (await simCall(stack, probe)).legs.filter(
              (l) => l.recordingStatus === 'recording',
            );
            return answered.length >= 2 ? answered : undefined;
          },
          'a probe call to record',
          30_000,
        ).catch(() => []);
        const probeHosts = await Promise.all(
          legs.map(async (l) => (await hostOf(stack, admin, l.callId)).interaction?.mediaHostId),
        );
        if (legs.length >= 2 && probeHosts.every((h) => h !== undefined && h !== victim.hostId))
          secondsUntilNewCallsOnRemainingHosts = (startedAtMs - killedAtMs) / 1000;
        else await new Promise((resolve) => setTimeout(resolve, 1_000));
      }

      const legHosts = new Map<string, string | undefined>();
      await Promise.all(
        [...legsOf.values()].flat().map(async (callId) => {
          legHosts.set(callId, (await hostOf(stack, admin, callId)).interaction?.mediaHostId);
        }),
      );
      const victimLegs = [...legHosts.values()].filter((h) => h === victim.hostId).length;
      // Calls whose legs share one host (the pairing then protects nothing), and of those the
      // ones on the killed host.
      const sharedHosts = [...legsOf.values()].flatMap((legs) => {
        const legHostIds = new Set(legs.map((callId) => legHosts.get(callId)));
        return legHostIds.size === 1 ? [...legHostIds] : [];
      });
      // Only the calls still live at the kill test the pairing.
      const liveCalls: string[] = [];
      for (const conversationId of legsOf.keys()) {
        const { endedAt } = await simCall(stack, conversationId);
        if (endedAt === null || Date.parse(endedAt) > killedAtMs) liveCalls.push(conversationId);
      }
      const liveVictimLegs = liveCalls
        .flatMap((id) => legsOf.get(id) ?? [])
        .filter((callId) => legHosts.get(callId) === victim.hostId).length;
      context.progress(
        `${victim.hostId} had ${victimLegs} legs, ${liveVictimLegs} of calls live at the kill`,
      );

      context.progress('waiting for every call to finish and seal');
      const lost: number[] = [];
      // Each in-window gap: its reason, its start from the kill and its length.
      const lostGaps: string[] = [];
      const outcomes = new Map<string, number>();
      for (const [conversationId, legs] of legsOf) {
        for (const callId of legs) await finishedCall(stack, conversationId, callId);
        const pairedId = (await hostOf(stack, admin, legs[0]!)).interaction?.pairedInteractionId;
        const view = await waitUntil(
          async () => {
            if (pairedId === undefined) return undefined;
            const answer = await stack.api<InteractionView>(
              'GET',
              `/api/archive/interactions/${TENANT}/${pairedId}`,
              { token: officer },
            );
            return answer.status === 200 && answer.body.interaction?.manifestSha256 !== undefined
              ? answer.body.interaction
              : undefined;
          },
          `interaction of ${conversationId} to be sealed`,
          60_000,
        );
        lost.push(lostSeconds(view));
        for (const gap of view?.gaps ?? [])
          if (gap.reason !== 'beforeRecordingStatus')
            lostGaps.push(
              `${gap.reason}@${((Date.parse(gap.startedAt) - killedAtMs) / 1000).toFixed(1)}s+` +
                `${((Date.parse(gap.endedAt) - Date.parse(gap.startedAt)) / 1000).toFixed(1)}s`,
            );
        outcomes.set(view.outcome, (outcomes.get(view.outcome) ?? 0) + 1);
      }
      const interactionsWithLoss = lost.filter((s) => s > 0).length;
      return {
        isPassed:
          liveVictimLegs > 0 &&
          interactionsWithLoss === 0 &&
          (outcomes.get('recorded') ?? 0) === calls &&
          secondsUntilNewCallsOnRemainingHosts !== null,
        figures: {
          calls,
          legsOnKilledHost: victimLegs,
          callsLiveAtKill: liveCalls.length,
          liveLegsOnKilledHost: liveVictimLegs,
          callsWithBothLegsOnOneHost: sharedHosts.length,
          callsWithBothLegsOnKilledHost: sharedHosts.filter((h) => h === victim.hostId).length,
          interactionsWithMediaLost: interactionsWithLoss,
          mediaLostSecondsTotal: Number(lost.reduce((a, b) => a + b, 0).toFixed(1)),
          mediaLostSecondsWorst: Number(Math.max(0, ...lost).toFixed(1)),
          outcomes: [...outcomes].map(([o, n]) => `${o}:${n}`).join(','),
          secondsUntilNewCallsOnRemainingHosts,
          probeCalls: probes.length,
          gapsFromKill: lostGaps.slice(0, 5).join(' ') || null,
        },
      };
    } finally {
      setConcurrentInvitations(stack, 1);
      for (const host of hosts) {
        await host.stop();
        // Out of the fleet for the next scenarios (as an operator would drain a dead host).
        await setDraining(stack, host.hostId, true).catch(() => undefined);
      }
    }
  },
};
