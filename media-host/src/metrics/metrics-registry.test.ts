import { MetricsRegistry } from './metrics-registry';

describe('MetricsRegistry', () => {
  it('renders counters with HELP, TYPE and labelled samples', () => {
    const registry = new MetricsRegistry();
    const frames = registry.counter('frames_total', 'Frames seen.', ['session_id']);
    frames.inc({ session_id: 's1' });
    frames.inc({ session_id: 's1' }, 2);
    frames.inc({ session_id: 's2' });
    expect(registry.render()).toBe(
      [
        '# HELP frames_total Frames seen.',
        '# TYPE frames_total counter',
        'frames_total{session_id="s1"} 3',
        'frames_total{session_id="s2"} 1',
        '',
      ].join('\n'),
    );
  });

  it('escapes backslashes, quotes and newlines in label values and help', () => {
    const registry = new MetricsRegistry();
    registry.gauge('g', 'line one\nline \\two', ['reason']).set({ reason: 'a "b"\\c\nd' }, 1.5);
    expect(registry.render()).toContain('# HELP g line one\\nline \\\\two');
    expect(registry.render()).toContain('g{reason="a \\"b\\"\\\\c\\nd"} 1.5');
  });

  it('renders histograms with cumulative buckets, +Inf, sum and count', () => {
    const registry = new MetricsRegistry();
    const latency = registry.histogram('latency_seconds', 'Latency.', [0.5, 0.1, 1]);
    for (const value of [0.05, 0.3, 0.3, 2]) latency.observe({}, value);
    expect(
      registry
        .render()
        .split('\n')
        .filter((l) => !l.startsWith('#')),
    ).toEqual([
      'latency_seconds_bucket{le="0.1"} 1',
      'latency_seconds_bucket{le="0.5"} 3',
      'latency_seconds_bucket{le="1"} 3',
      'latency_seconds_bucket{le="+Inf"} 4',
      'latency_seconds_sum 2.65',
      'latency_seconds_count 4',
      '',
    ]);
  });

  it('refuses to decrease a counter', () => {
    const counter = new MetricsRegistry().counter('c_total', 'C.');
    expect(() => counter.inc({}, -1)).toThrow('can only grow');
    counter.setTotal({}, 5);
    expect(() => counter.setTotal({}, 4)).toThrow('can only grow');
  });

  it('refuses a sample that lacks a declared label, and invalid names', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('c_total', 'C.', ['session_id']);
    expect(() => counter.inc({})).toThrow("needs label 'session_id'");
    expect(() => registry.counter('bad-name', 'x')).toThrow('invalid metric name');
    expect(() => registry.counter('c_total', 'again')).toThrow('already registered');
    expect(() => registry.histogram('h', 'x', [1], ['le'])).toThrow('invalid label name');
  });

  it('drops the series of one session from every metric', () => {
    const registry = new MetricsRegistry();
    const a = registry.counter('a_total', 'A.', ['session_id']);
    const b = registry.gauge('b', 'B.', ['session_id', 'kind']);
    a.inc({ session_id: 'x' });
    a.inc({ session_id: 'y' });
    b.set({ session_id: 'x', kind: 'audio' }, 1);
    registry.removeMatching({ session_id: 'x' });
    expect(registry.render()).not.toContain('"x"');
    expect(a.get({ session_id: 'y' })).toBe(1);
  });

  it('runs collectors before rendering', () => {
    const registry = new MetricsRegistry();
    const gauge = registry.gauge('sampled', 'Sampled.');
    let n = 0;
    registry.addCollector(() => gauge.set({}, (n += 1)));
    registry.render();
    expect(registry.render()).toContain('sampled 2');
  });
});
