import type { MediaHostDrainState } from '@attest/core';
import { silentLogger } from '../logging/logger';
import { createScaleInDrain } from './scale-in-drain';
import type { InstanceMetadataClient, ScheduledEvent } from './scheduled-events.client';

const T0 = Date.parse('2030-01-01T00:00:00Z');

function setup(options: { maxDrainInMs?: number } = {}) {
  let nowMs = T0;
  let events: ScheduledEvent[] = [];
  let active = 1;
  const acks: string[] = [];
  const changes: (MediaHostDrainState | undefined)[] = [];
  const handBacks: string[] = [];
  const imds: InstanceMetadataClient = {
    getScheduledEvents: () => Promise.resolve({ DocumentIncarnation: 1, Events: events }),
    acknowledge: (id) => {
      acks.push(id);
      return Promise.resolve();
    },
    getCompute: () => Promise.resolve({ name: 'vmss_1', location: 'westeurope', zone: '2' }),
  };
  const drain = createScaleInDrain({
    imds,
    instanceName: 'vmss_1',
    activeSessions: () => active,
    handBack: (reason) => {
      handBacks.push(reason);
      active = 0;
      return Promise.resolve();
    },
    onChange: (state) => changes.push(state),
    now: () => new Date(nowMs),
    maxDrainInMs: options.maxDrainInMs ?? 900_000,
    logger: silentLogger,
  });
  const event = (overrides: Partial<ScheduledEvent> = {}): ScheduledEvent => ({
    EventId: 'E1',
    EventType: 'Terminate',
    ResourceType: 'VirtualMachine',
    Resources: ['vmss_1'],
    EventStatus: 'Scheduled',
    NotBefore: new Date(T0 + 600_000).toUTCString(),
    ...overrides,
  });
  return {
    drain,
    acks,
    changes,
    handBacks,
    event,
    setEvents: (next: ScheduledEvent[]) => (events = next),
    setActive: (n: number) => (active = n),
    advance: (ms: number) => (nowMs += ms),
  };
}

describe('scale-in drain', () => {
  it('drains on a Terminate event for this instance and acknowledges once the last call ended', async () => {
    const s = setup();
    s.setEvents([s.event()]);
    await s.drain.check();
    expect(s.drain.state()).toMatchObject({
      reason: 'scaleIn',
      eventId: 'E1',
      eventType: 'Terminate',
      // NotBefore (10 min) less the 30 s margin.
      deadlineAt: new Date(T0 + 570_000).toISOString(),
    });
    expect(s.changes).toHaveLength(1);
    expect(s.acks).toEqual([]);

    s.advance(60_000);
    await s.drain.check();
    expect(s.acks).toEqual([]);

    s.setActive(0);
    await s.drain.check();
    expect(s.acks).toEqual(['E1']);
    expect(s.drain.isAcknowledged()).toBe(true);
    expect(s.handBacks).toEqual([]);
  });

  it('ignores events for other instances and events that do not take the instance away', async () => {
    const s = setup();
    s.setEvents([
      s.event({ EventId: 'other', Resources: ['vmss_7'] }),
      s.event({ EventId: 'freeze', EventType: 'Freeze' }),
    ]);
    await s.drain.check();
    expect(s.drain.state()).toBeUndefined();
    expect(s.acks).toEqual([]);
  });

  it('hands the calls back at the deadline, then acknowledges', async () => {
    const s = setup();
    s.setEvents([s.event()]);
    await s.drain.check();
    s.advance(569_999);
    await s.drain.check();
    expect(s.handBacks).toEqual([]);
    s.advance(1);
    await s.drain.check();
    expect(s.handBacks).toEqual(['scaleInDeadline']);
    expect(s.acks).toEqual(['E1']);
  });

  it('never drains longer than its limit, however late NotBefore is', async () => {
    const s = setup({ maxDrainInMs: 60_000 });
    s.setEvents([s.event({ NotBefore: new Date(T0 + 3_600_000).toUTCString() })]);
    await s.drain.check();
    expect(s.drain.state()?.deadlineAt).toBe(new Date(T0 + 60_000).toISOString());
  });

  it('gives a spot eviction half its short notice before handing back', async () => {
    const s = setup();
    s.setEvents([
      s.event({ EventType: 'Preempt', NotBefore: new Date(T0 + 30_000).toUTCString() }),
    ]);
    await s.drain.check();
    expect(s.drain.state()?.deadlineAt).toBe(new Date(T0 + 15_000).toISOString());
  });

  it('ends the drain when the event is withdrawn before it is acknowledged', async () => {
    const s = setup();
    s.setEvents([s.event()]);
    await s.drain.check();
    s.setEvents([]);
    await s.drain.check();
    expect(s.drain.state()).toBeUndefined();
    expect(s.changes).toEqual([expect.objectContaining({ eventId: 'E1' }), undefined]);
    expect(s.acks).toEqual([]);
  });
});
