import { ManualClock } from './clock';
import { Scheduler, type SchedulerOptions } from './scheduler';

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

function deferred(): Deferred {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A scheduler whose episodes and activities finish when the test says so. */
function harness(overrides: Partial<SchedulerOptions> = {}) {
  const clock = new ManualClock();
  const episodes: { instanceId: string; done: Deferred }[] = [];
  const activities: { rowKey: string; done: Deferred }[] = [];
  const scheduler = new Scheduler({
    clock,
    maxConcurrentOrchestrations: 2,
    maxConcurrentActivities: 1,
    isStopped: () => false,
    isStarted: () => true,
    runInstance: (instanceId) => {
      const done = deferred();
      episodes.push({ instanceId, done });
      return done.promise;
    },
    runActivity: (_partitionKey, rowKey) => {
      const done = deferred();
      activities.push({ rowKey, done });
      return done.promise;
    },
    ...overrides,
  });
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  return { clock, scheduler, episodes, activities, settle };
}

describe('Scheduler', () => {
  afterEach(() => jest.useRealTimers());

  it('runs a ready instance at once', () => {
    const { scheduler, episodes } = harness();
    scheduler.markReady('a');
    expect(episodes.map((e) => e.instanceId)).toEqual(['a']);
    expect(scheduler.isRunning('a')).toBe(true);
  });

  it('runs no more episodes than the limit and starts the next when one ends', async () => {
    const { scheduler, episodes, settle } = harness();
    for (const id of ['a', 'b', 'c']) scheduler.markReady(id);
    expect(episodes.map((e) => e.instanceId)).toEqual(['a', 'b']);
    episodes[0]?.done.resolve();
    await settle();
    expect(episodes.map((e) => e.instanceId)).toEqual(['a', 'b', 'c']);
  });

  it('runs an instance once more when it became ready during its episode', async () => {
    const { scheduler, episodes, settle } = harness();
    scheduler.markReady('a');
    scheduler.markReady('a');
    expect(episodes).toHaveLength(1);
    episodes[0]?.done.resolve();
    await settle();
    expect(episodes.map((e) => e.instanceId)).toEqual(['a', 'a']);
  });

  it('serves new instances alternately with running ones', async () => {
    const { scheduler, episodes, settle } = harness({ maxConcurrentOrchestrations: 1 });
    scheduler.markReady('busy');
    for (const id of ['r1', 'r2']) scheduler.markReady(id);
    for (const id of ['n1', 'n2']) scheduler.markReady(id, true);
    for (let i = 0; i < 4; i++) {
      episodes[i]?.done.resolve();
      await settle();
    }
    expect(episodes.map((e) => e.instanceId)).toEqual(['busy', 'n1', 'r1', 'n2', 'r2']);
  });

  it('makes an instance ready when its timer is due on the clock', () => {
    jest.useFakeTimers();
    const { clock, scheduler, episodes } = harness();
    scheduler.addTimer('a', 'm.1', clock.now().getTime() + 1000);
    scheduler.processDueTimers();
    expect(episodes).toHaveLength(0);
    clock.advance(1000);
    scheduler.processDueTimers();
    expect(episodes.map((e) => e.instanceId)).toEqual(['a']);
  });

  it('forgets a removed timer', () => {
    jest.useFakeTimers();
    const { clock, scheduler, episodes } = harness();
    scheduler.addTimer('a', 'm.1', clock.now().getTime() + 1000);
    scheduler.removeTimer('a', 'm.1');
    clock.advance(2000);
    scheduler.processDueTimers();
    expect(episodes).toHaveLength(0);
  });

  it('queues each activity work item once and within the limit', async () => {
    const { scheduler, activities, settle } = harness();
    scheduler.enqueueActivity('a', 'w.1');
    scheduler.enqueueActivity('a', 'w.1');
    scheduler.enqueueActivity('a', 'w.2');
    expect(activities.map((a) => a.rowKey)).toEqual(['w.1']);
    activities[0]?.done.resolve();
    await settle();
    expect(activities.map((a) => a.rowKey)).toEqual(['w.1', 'w.2']);
  });

  it('starts nothing while stopped', () => {
    const { scheduler, episodes } = harness({ isStopped: () => true });
    scheduler.markReady('a');
    expect(episodes).toHaveLength(0);
  });

  it('is idle only when nothing runs, waits or is tracked', async () => {
    const { scheduler, episodes, settle } = harness();
    expect(scheduler.isIdle).toBe(true);
    const side = deferred();
    const tracked = scheduler.track(() => side.promise);
    expect(scheduler.isIdle).toBe(false);
    side.resolve();
    await tracked;
    scheduler.markReady('a');
    expect(scheduler.isIdle).toBe(false);
    episodes[0]?.done.resolve();
    await settle();
    expect(scheduler.isIdle).toBe(true);
  });

  it('calls run-end waiters when a claimed run is released', () => {
    const { scheduler } = harness();
    const ended = jest.fn();
    scheduler.claim('a');
    scheduler.onRunEnd('a', ended);
    expect(ended).not.toHaveBeenCalled();
    scheduler.release('a');
    expect(ended).toHaveBeenCalledTimes(1);
    expect(scheduler.isRunning('a')).toBe(false);
  });
});
