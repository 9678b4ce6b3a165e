import { noopMetrics } from '../hooks/metrics-sink';
import { silentLogger } from '../logging/logger';
import type { StreamWriter } from '../pipeline/stream-writer';
import type { CheckpointLine } from './checkpoint-log';
import { SessionCommit, type SessionCommitOptions } from './session-commit';

/** A writer whose commit stores `bytesPerCommit` more bytes (0: nothing new), or throws. */
class FakeWriter {
  committedStoredBytes = 0;
  constructor(
    private readonly events: string[],
    private readonly name: string,
    public bytesPerCommit: number,
    public failure?: Error,
  ) {}
  commit(): Promise<boolean> {
    this.events.push(`commit ${this.name}`);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.committedStoredBytes += this.bytesPerCommit;
    return Promise.resolve(this.bytesPerCommit > 0);
  }
}

const LINE: CheckpointLine = {
  v: 1,
  through: 40,
  framesReceived: 50,
  framesDroppedBeforePersist: 0,
  streams: [],
};

function harness(
  options: {
    writers?: (events: string[]) => FakeWriter[];
    append?: () => Promise<CheckpointLine | undefined>;
    hasEndedSegments?: boolean;
    isClosed?: boolean;
  } = {},
) {
  const events: string[] = [];
  const failures: string[] = [];
  const writers = options.writers?.(events) ?? [new FakeWriter(events, 'audio-1', 100)];
  const commit = new SessionCommit({
    sessionId: 's-1',
    router: {
      writers: writers as unknown as StreamWriter[],
      writerCount: writers.length,
      flushQuietStreams: () => events.push('flush quiet streams'),
      releasableThrough: () => 40,
    },
    checkpoints: {
      hasEndedSegments: options.hasEndedSegments ?? false,
      append: (through, _writers, counters) => {
        events.push(`checkpoint through ${through} after ${counters.framesReceived} frames`);
        return options.append?.() ?? Promise.resolve(LINE);
      },
    },
    journal: {
      writeCheckpoint: (line) => {
        events.push(`journal through ${line.through}`);
        return Promise.resolve();
      },
    },
    spool: {
      release: (sessionId, through) => {
        events.push(`release ${sessionId} through ${through}`);
        return Promise.resolve();
      },
    },
    metrics: noopMetrics,
    log: silentLogger,
    bytesCommitted: 1_000,
    counters: () => ({ framesReceived: 50, framesDroppedBeforePersist: 0 }),
    isClosed: () => options.isClosed ?? false,
    fail: (reason) => failures.push(reason),
  } satisfies SessionCommitOptions);
  return { commit, events, failures, writers };
}

describe('SessionCommit', () => {
  it('commits every stream, then writes the checkpoint, then journals it, then releases the spool', async () => {
    const { commit, events } = harness({
      writers: (events) => [
        new FakeWriter(events, 'audio-1', 100),
        new FakeWriter(events, 'video-1', 0),
      ],
    });
    await commit.commit();
    expect(events).toEqual([
      'flush quiet streams',
      'commit audio-1',
      'commit video-1',
      'checkpoint through 40 after 50 frames',
      'journal through 40',
      'release s-1 through 40',
    ]);
  });

  it('adds the stored bytes each commit took to those committed before', async () => {
    const { commit } = harness({
      writers: (events) => [
        new FakeWriter(events, 'audio-1', 100),
        new FakeWriter(events, 'audio-2', 20),
      ],
    });
    await commit.commit();
    await commit.commit();
    expect(commit.bytesCommitted).toBe(1_240);
  });

  it('writes no checkpoint and releases nothing when no stream committed anything new', async () => {
    const { commit, events } = harness({
      writers: (events) => [new FakeWriter(events, 'audio-1', 0)],
    });
    await commit.commit();
    expect(events).toEqual(['flush quiet streams', 'commit audio-1']);
  });

  it('still checkpoints a segment that ended when no stream committed anything new', async () => {
    const { commit, events } = harness({
      writers: (events) => [new FakeWriter(events, 'audio-1', 0)],
      hasEndedSegments: true,
    });
    await commit.commit();
    expect(events).toContain('release s-1 through 40');
  });

  it('journals nothing when the checkpoint had nothing to write', async () => {
    const { commit, events } = harness({ append: () => Promise.resolve(undefined) });
    await commit.commit();
    expect(events.some((e) => e.startsWith('journal'))).toBe(false);
    expect(events).toContain('release s-1 through 40');
  });

  it('does nothing once the session is closed', async () => {
    const { commit, events } = harness({ isClosed: true });
    await commit.commit();
    expect(events).toEqual([]);
  });

  it('fails the session when storage refuses a commit, and takes the next commit after it', async () => {
    const refusal = new Error('storage down');
    const { commit, events, failures, writers } = harness({
      writers: (events) => [new FakeWriter(events, 'audio-1', 100, refusal)],
    });
    await expect(commit.commit()).rejects.toBe(refusal);
    expect(failures).toEqual(['storage refused the commit']);
    expect(events.some((e) => e.startsWith('checkpoint'))).toBe(false);
    writers[0]!.failure = undefined;
    await commit.commit();
    expect(events).toContain('release s-1 through 40');
  });

  it('fails the session and releases nothing when the checkpoint is not written', async () => {
    const { commit, events, failures } = harness({
      append: () => Promise.reject(new Error('disk full')),
    });
    await expect(commit.commit()).rejects.toThrow('disk full');
    expect(failures).toEqual(['checkpoint not written']);
    expect(events.some((e) => e.startsWith('release'))).toBe(false);
  });

  it('waits for the record write that holds a source gap before it checkpoints', async () => {
    const { commit, events } = harness();
    let finishWrite: () => void = () => undefined;
    commit.releaseAfter(new Promise<void>((resolve) => (finishWrite = resolve)));
    const committed = commit.commit();
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['flush quiet streams', 'commit audio-1']);
    finishWrite();
    await committed;
    expect(events).toContain('release s-1 through 40');
  });

  it('fails the session and releases nothing when the record holding a source gap was not written', async () => {
    const { commit, events, failures } = harness();
    const notWritten = Promise.reject(new Error('disk full'));
    notWritten.catch(() => undefined);
    commit.releaseAfter(notWritten);
    await expect(commit.commit()).rejects.toThrow('disk full');
    expect(failures).toEqual(['session record not written']);
    expect(events.some((e) => e.startsWith('checkpoint') || e.startsWith('release'))).toBe(false);
  });

  it('runs commits one after another, and settles once every commit asked for has ended', async () => {
    const { commit, events } = harness();
    const first = commit.commit();
    const second = commit.commit();
    await commit.settled();
    await Promise.all([first, second]);
    expect(events.filter((e) => e.startsWith('commit') || e.startsWith('release'))).toEqual([
      'commit audio-1',
      'release s-1 through 40',
      'commit audio-1',
      'release s-1 through 40',
    ]);
  });

  it('appends a checkpoint at seal and journals it after the local line', async () => {
    const { commit, events } = harness();
    await commit.appendCheckpoint(55);
    expect(events).toEqual(['checkpoint through 55 after 50 frames', 'journal through 40']);
  });
});
