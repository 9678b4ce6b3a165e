/**
 * Paired recorders on a scaled-out function app: two instances of the function app (the stack's
 * host and a second host in its own process) share one storage account and task hub, behind the
 * simulator's front door, which sends each call leg's invite and notifications to one instance
 * in turn (per-leg affinity), or every delivery to the next instance (no affinity). Both legs are
 * answered on different media hosts and still build one interaction.
 * Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem and a built tree (the second instance and the
 * media hosts run from dist in their own processes).
 */
import { scaleOut, type FunctionInstance } from './support/function-instance';
import { pairedCalls, type LegRow } from './support/paired-calls';
import { startPairedStack, type PairedStack } from './support/paired-stack';

interface Delivery {
  callId: string;
  kind: string;
  url: string;
  routedUrl?: string;
  isDelivered: boolean;
}

jest.setTimeout(240_000);

describe('paired recorders on two function instances', () => {
  let paired: PairedStack;
  let calls: ReturnType<typeof pairedCalls>;
  let second: FunctionInstance;
  let origins: string[];

  beforeAll(async () => {
    // A loaded machine can take minutes to start five processes and an emulator.
    paired = await startPairedStack({ mediaHostCount: 2 });
    calls = pairedCalls(paired);
    // The paired stack's own storage emulator, the suite's while the stack runs.
    const scaled = await scaleOut(paired.stack, process.env.ATTEST_TEST_STORAGE_CONNECTION!);
    second = scaled.instances[0]!;
    origins = scaled.origins;
  }, 400_000);
  afterAll(async () => {
    // The second instance first: it would take the task hub over once the stack's host is gone.
    await second?.kill();
    await paired?.close();
  });

  const deliveriesOf = async (callId: string): Promise<Delivery[]> =>
    (await calls.control<Delivery[]>('GET', '/_sim/deliveries')).body.filter(
      (d) => d.callId === callId,
    );
  /** The instances a leg's deliveries (invite, state and roster notifications) went to. */
  const instancesOf = (deliveries: readonly Delivery[]): string[] =>
    [...new Set(deliveries.map((d) => new URL(d.routedUrl ?? d.url).origin))].sort();

  /** Both legs recorded, on different media hosts, as captures of one sealed interaction. */
  const expectOneRecordedInteraction = async (rows: readonly LegRow[]): Promise<void> => {
    // On failure, the failed leg's reason and gaps show what went wrong.
    expect(
      rows.map((r) =>
        r.outcome === 'recorded'
          ? 'recorded'
          : { outcome: r.outcome, reason: r.outcomeReason, gaps: r.gaps },
      ),
    ).toEqual(['recorded', 'recorded']);
    await calls.expectOneRecordedInteraction(rows);
  };

  it('builds one interaction when the two legs are handled by different function instances', async () => {
    const [, instanceB] = origins as [string, string];
    // The second instance joined the stack host's task hub instead of running its own.
    expect(second.isTaskHubOwner).toBe(false);

    // Long enough for a cold start on a loaded machine (the first answers can take seconds).
    const conversationId = await calls.traderCalls(12_000);
    const legs = await calls.recordingLegs(conversationId, 2);
    const rows = await Promise.all(legs.map((l) => calls.finishedLeg(l.callId)));
    expect((await calls.simOutcome(conversationId)).endReason).toBe('completed');

    // Every delivery of a leg went to one instance, and the two legs went to different ones.
    const perLeg = await Promise.all(legs.map((l) => deliveriesOf(l.callId)));
    for (const deliveries of perLeg) {
      expect(deliveries.length).toBeGreaterThan(1);
      expect(deliveries.every((d) => d.isDelivered)).toBe(true);
      expect(instancesOf(deliveries)).toHaveLength(1);
    }
    expect(perLeg.map((d) => instancesOf(d)[0]).sort()).toEqual([...origins].sort());
    // The second instance's own log shows it handled its leg.
    const legOnB = legs[perLeg.findIndex((d) => instancesOf(d)[0] === instanceB)]!;
    expect(second.logLines.some((l) => l.includes(legOnB.callId))).toBe(true);

    await expectOneRecordedInteraction(rows);
  });

  it('builds one interaction when every notification goes to the next instance, with no affinity', async () => {
    // A load balancer without session affinity: invites and notifications alternate instances.
    const routed = await calls.control('PUT', '/_sim/webhook-routes', {
      routes: [{ publicOrigin: origins[0], instanceOrigins: origins, affinity: 'perDelivery' }],
    });
    expect(routed.status).toBe(200);

    const conversationId = await calls.traderCalls(12_000);
    const legs = await calls.recordingLegs(conversationId, 2);
    const rows = await Promise.all(legs.map((l) => calls.finishedLeg(l.callId)));
    expect((await calls.simOutcome(conversationId)).endReason).toBe('completed');
    for (const leg of legs) {
      const deliveries = await deliveriesOf(leg.callId);
      expect(deliveries.every((d) => d.isDelivered)).toBe(true);
      expect(instancesOf(deliveries)).toEqual([...origins].sort());
    }

    await expectOneRecordedInteraction(rows);
  });
});
