import { MediaHostMetrics, type ProcessStats } from './media-host-metrics';

const stats = (cpuTimeInMicroseconds: number, residentMemoryInBytes = 1): ProcessStats => ({
  cpuTimeInMicroseconds,
  residentMemoryInBytes,
  heapUsedInBytes: 1,
});

/** The lines of one metric family in an exposition (HELP, TYPE, samples). */
function family(text: string, name: string): string[] {
  return text.split('\n').filter((line) => {
    const sampleName = line.startsWith('#') ? line.split(' ')[2] : line.split(/[{ ]/)[0];
    return sampleName === name || sampleName?.startsWith(`${name}_`) === true;
  });
}

describe('MediaHostMetrics', () => {
  it('renders counters with HELP, TYPE and labelled samples', async () => {
    const metrics = new MediaHostMetrics({ readProcessStats: () => stats(0) });
    metrics.increment('frames_total', 1, { session_id: 's1' });
    metrics.increment('frames_total', 2, { session_id: 's1' });
    metrics.increment('frames_total', 1, { session_id: 's2' });
    expect(family(await metrics.render(), 'frames_total')).toEqual([
      '# HELP frames_total Media host metric frames_total.',
      '# TYPE frames_total counter',
      'frames_total{session_id="s1"} 3',
      'frames_total{session_id="s2"} 1',
    ]);
  });

  it('uses the HELP text of a known metric', async () => {
    const metrics = new MediaHostMetrics({ readProcessStats: () => stats(0) });
    metrics.set('attest_media_spool_bytes', 5);
    expect(await metrics.render()).toContain(
      '# HELP attest_media_spool_bytes Bytes in the local spool not yet committed to storage.',
    );
  });

  it('escapes backslashes, quotes and newlines in label values', async () => {
    const metrics = new MediaHostMetrics({ readProcessStats: () => stats(0) });
    metrics.set('g', 1.5, { reason: 'a "b"\\c\nd' });
    expect(await metrics.render()).toContain('g{reason="a \\"b\\"\\\\c\\nd"} 1.5');
  });

  it('renders histograms with cumulative buckets, +Inf, sum and count', async () => {
    const metrics = new MediaHostMetrics({
      readProcessStats: () => stats(0),
      bucketsByName: { latency_seconds: [0.5, 0.1, 1] },
    });
    for (const value of [0.05, 0.3, 0.3, 2]) metrics.observe('latency_seconds', value);
    expect(
      family(await metrics.render(), 'latency_seconds').filter((l) => !l.startsWith('#')),
    ).toEqual([
      'latency_seconds_bucket{le="0.1"} 1',
      'latency_seconds_bucket{le="0.5"} 3',
      'latency_seconds_bucket{le="1"} 3',
      'latency_seconds_bucket{le="+Inf"} 4',
      'latency_seconds_sum 2.65',
      'latency_seconds_count 4',
    ]);
  });

  it('refuses histogram buckets that are not distinct', () => {
    const metrics = new MediaHostMetrics({ bucketsByName: { h: [1, 1] } });
    expect(() => metrics.observe('h', 1)).toThrow('needs distinct finite buckets');
  });

  it('refuses to decrease a counter', () => {
    const metrics = new MediaHostMetrics();
    expect(() => metrics.increment('c_total', -1)).toThrow('not possible to decrease a counter');
  });

  it('never lowers the process CPU counter, a total counted by the OS', async () => {
    const readings = [5_000_000, 4_000_000];
    const metrics = new MediaHostMetrics({ readProcessStats: () => stats(readings.shift() ?? 0) });
    expect(await metrics.render()).toContain('process_cpu_seconds_total 5');
    expect(await metrics.render()).toContain('process_cpu_seconds_total 5');
  });

  it('refuses an invalid metric name', () => {
    expect(() => new MediaHostMetrics().increment('bad-name')).toThrow('Invalid metric name');
  });

  it('counts samples passed with one labels object, or with equal ones, in one series', async () => {
    const metrics = new MediaHostMetrics({ readProcessStats: () => stats(0) });
    const labels = Object.freeze({ session: 'a' });
    for (let i = 0; i < 1000; i += 1) metrics.increment('f_total', 2, labels);
    metrics.increment('f_total', 1, { session: 'a' });
    expect(family(await metrics.render(), 'f_total')).toContain('f_total{session="a"} 2001');
  });

  it('drops the series of one session from every metric', async () => {
    const metrics = new MediaHostMetrics({ readProcessStats: () => stats(0) });
    metrics.increment('a_total', 1, { session: 'x' });
    metrics.increment('a_total', 1, { session: 'y' });
    metrics.set('b', 1, { session: 'x', kind: 'audio' });
    metrics.forgetSession('x');
    const text = await metrics.render();
    expect(text).not.toContain('"x"');
    expect(text).toContain('a_total{session="y"} 1');
  });

  it('counts a session again from zero after it was forgotten, even through the same labels', async () => {
    const metrics = new MediaHostMetrics({ readProcessStats: () => stats(0) });
    const labels = Object.freeze({ session: 'x' });
    metrics.increment('a_total', 5, labels);
    metrics.forgetSession('x');
    metrics.increment('a_total', 1, labels);
    expect(await metrics.render()).toContain('a_total{session="x"} 1');
  });

  it('samples the process figures once per render', async () => {
    let reads = 0;
    const metrics = new MediaHostMetrics({ readProcessStats: () => stats(0, (reads += 1)) });
    await metrics.render();
    expect(await metrics.render()).toContain('process_resident_memory_bytes 2');
    expect(reads).toBe(2);
  });
});
