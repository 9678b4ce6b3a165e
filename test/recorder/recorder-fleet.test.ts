/**
 * A media host fleet end to end through the simulator: calls go to the region nearest their
 * media and spill over when it is full; a host whose heartbeats stop gets no new calls and its
 * live call gets a `mediaHostLost` gap; a scale-in (Azure scheduled events, here the local IMDS
 * stand-in) drains a host with a live call, which completes recorded before the event is
 * acknowledged. Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { startImdsStandIn, type ImdsStandIn } from '../../local/src/imds/imds-server';
import { startFleetStack, type FleetStack } from './support/fleet-stack';
import { waitFor } from './support/recorder-stack';

describe('media host fleet', () => {
  let fleet: FleetStack;
  let imds: ImdsStandIn;

  beforeAll(async () => {
    fleet = await startFleetStack();
    imds = await startImdsStandIn();
  }, 120_000);
  afterAll(async () => {
    await fleet?.close();
    await imds?.close();
  });

  const endCall = (conversationId: string) =>
    fleet.stack.control('POST', `/_sim/calls/${conversationId}/end`);

  it('answers each call in the region nearest its media and spills over when that region is full', async () => {
    const westEurope = await fleet.startHost({ region: 'westeurope', zone: '1', maxSessions: 1 });
    const northEurope = await fleet.startHost({ region: 'northeurope', zone: '1' });
    const eastUs = await fleet.startHost({ region: 'eastus', zone: '1' });

    // Each call runs 8 s: the first is still live when the second arrives.
    const first = await fleet.traderCalls('EUWE', 8000);
    const firstLeg = await fleet.recordedLeg(first);
    expect((await fleet.callView(firstLeg.callId)).interaction).toMatchObject({
      mediaHostId: westEurope.hostId,
      region: 'westeurope',
    });
    // West Europe's only host is full: the next call goes to the nearest other region.
    const second = await fleet.traderCalls('EUWE', 8000);
    const secondLeg = await fleet.recordedLeg(second);
    expect((await fleet.callView(secondLeg.callId)).interaction?.mediaHostId).toBe(
      northEurope.hostId,
    );
    const third = await fleet.traderCalls('USEA', 8000);
    const thirdLeg = await fleet.recordedLeg(third);
    expect((await fleet.callView(thirdLeg.callId)).interaction?.mediaHostId).toBe(eastUs.hostId);

    const views = await Promise.all(
      [firstLeg, secondLeg, thirdLeg].map((leg) => fleet.finished(leg.callId)),
    );
    expect(views.map((v) => [v.interaction?.outcome, v.interaction?.outcomeReason])).toEqual([
      ['recorded', undefined],
      ['recorded', undefined],
      ['recorded', undefined],
    ]);
    for (const entry of [westEurope, northEurope, eastUs]) await entry.host.close();
  });

  it('gives a host whose heartbeats stopped no new calls and marks its live call lost', async () => {
    const silent = await fleet.startHost({ region: 'japaneast', zone: '1' });
    const other = await fleet.startHost({ region: 'japanwest', zone: '1' });
    const live = await fleet.traderCalls('JPEA');
    const liveLeg = await fleet.recordedLeg(live);
    expect((await fleet.callView(liveLeg.callId)).interaction?.mediaHostId).toBe(silent.hostId);

    silent.cutHeartbeats = true;
    const lost = await waitFor(
      async () => {
        const view = await fleet.callView(liveLeg.callId);
        return view.interaction?.gaps?.some((g) => g.reason === 'mediaHostLost') === true
          ? view
          : undefined;
      },
      'the live call to be marked lost',
      40_000,
    );
    // The silent host still answers on its control API, so only its missing heartbeats can have
    // marked the call lost. While the call is live its row names that reason; the policy may end
    // the call at once, and the final record (asserted below) names the gap's reason.
    expect(['mediaHostHeartbeatLost', 'mediaHostLost']).toContain(lost.interaction?.outcomeReason);

    // Japan East is nearest, but its host is silent: the next call goes to Japan West.
    const next = await fleet.traderCalls('JPEA', 3000);
    const nextLeg = await fleet.recordedLeg(next);
    expect((await fleet.callView(nextLeg.callId)).interaction?.mediaHostId).toBe(other.hostId);
    expect((await fleet.finished(nextLeg.callId)).interaction?.outcome).toBe('recorded');

    await endCall(live);
    const ended = await fleet.finished(liveLeg.callId);
    expect(ended.interaction).toMatchObject({ outcome: 'failed', outcomeReason: 'mediaHostLost' });
    expect(ended.interaction?.gaps).toEqual(
      expect.arrayContaining([expect.objectContaining({ reason: 'mediaHostLost' })]),
    );
    for (const entry of [silent, other]) await entry.host.close();
  });

  it('drains a host told of its scale-in: the live call completes recorded, then the event is acknowledged', async () => {
    const leaving = await fleet.startHost({
      region: 'uksouth',
      zone: '2',
      scheduledEvents: {
        url: imds.url,
        // The test runs the rounds itself.
        pollIntervalInMs: 3_600_000,
        maxDrainInMs: 600_000,
        instanceName: 'attest-mh_3',
      },
    });
    const staying = await fleet.startHost({ region: 'ukwest', zone: '1' });
    const live = await fleet.traderCalls('UKSO', 9000);
    const liveLeg = await fleet.recordedLeg(live);
    expect((await fleet.callView(liveLeg.callId)).interaction?.mediaHostId).toBe(leaving.hostId);

    const event = imds.scheduleEvent({
      eventType: 'Terminate',
      resources: ['attest-mh_3'],
      notBefore: new Date(Date.now() + 600_000),
    });
    await leaving.host.drain.checkScheduledEvents();
    expect(leaving.host.health()).toMatchObject({
      isDraining: true,
      zone: '2',
      drain: { reason: 'scaleIn', eventId: event.EventId, eventType: 'Terminate' },
    });
    // The function app sees the drain in the heartbeat, and sends the next call elsewhere.
    await waitFor(async () => {
      const listed = await fleet.stack.api<{ value: { hostId: string; drain?: unknown }[] }>(
        'GET',
        '/api/mediahosts',
        { token: fleet.adminToken },
      );
      return listed.body.value.find((h) => h.hostId === leaving.hostId)?.drain !== undefined
        ? true
        : undefined;
    }, 'the drain in the registry');
    const next = await fleet.traderCalls('UKSO', 2000);
    const nextLeg = await fleet.recordedLeg(next);
    expect((await fleet.callView(nextLeg.callId)).interaction?.mediaHostId).toBe(staying.hostId);

    // Not acknowledged while the call is live.
    await leaving.host.drain.checkScheduledEvents();
    expect(imds.acknowledged()).toEqual([]);

    const ended = await fleet.finished(liveLeg.callId);
    expect(ended.interaction?.outcome).toBe('recorded');
    expect(ended.streams.every((s) => s.bytes > 0)).toBe(true);
    await leaving.host.drain.checkScheduledEvents();
    expect(imds.acknowledged()).toEqual([event.EventId]);
    expect(imds.events()[0]?.EventStatus).toBe('Started');
    await fleet.finished(nextLeg.callId);
    for (const entry of [leaving, staying]) await entry.host.close();
  });
});
