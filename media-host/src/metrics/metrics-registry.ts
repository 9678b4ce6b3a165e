/**
 * A tiny metrics registry rendered in the Prometheus text exposition format (version 0.0.4).
 * Pure: no timers, no I/O; values change only through the handles it returns.
 */

export type Labels = Readonly<Record<string, string>>;

export const MetricType = { counter: 'counter', gauge: 'gauge', histogram: 'histogram' } as const;
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

const metricNamePattern = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function labelText(
  labelNames: readonly string[],
  labels: Labels,
  extra?: [string, string],
): string {
  const pairs = labelNames.map((name) => `${name}="${escapeLabelValue(labels[name] ?? '')}"`);
  if (extra !== undefined) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

interface HistogramSeries {
  readonly counts: number[];
  sum: number;
  count: number;
}

abstract class Metric<TSeries> {
  protected readonly series = new Map<string, { labels: Labels; value: TSeries }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly labelNames: readonly string[],
  ) {
    if (!metricNamePattern.test(name)) throw new RangeError(`invalid metric name '${name}'`);
    for (const label of labelNames) {
      if (!labelNamePattern.test(label) || label === 'le')
        throw new RangeError(`invalid label name '${label}'`);
    }
  }

  protected key(labels: Labels): string {
    for (const name of this.labelNames) {
      if (labels[name] === undefined)
        throw new RangeError(`metric '${this.name}' needs label '${name}'`);
    }
    return JSON.stringify(this.labelNames.map((name) => labels[name]));
  }

  protected entry(labels: Labels, initial: () => TSeries): { labels: Labels; value: TSeries } {
    const key = this.key(labels);
    let found = this.series.get(key);
    if (found === undefined) {
      found = {
        labels: Object.fromEntries(this.labelNames.map((n) => [n, labels[n] ?? ''])),
        value: initial(),
      };
      this.series.set(key, found);
    }
    return found;
  }

  /** Drops every series whose labels include all of `match` (for example one session's). */
  removeMatching(match: Labels): void {
    for (const [key, { labels }] of this.series) {
      if (Object.entries(match).every(([name, value]) => labels[name] === value))
        this.series.delete(key);
    }
  }

  abstract render(): string[];

  protected header(): string[] {
    return [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
  }
}

export class Counter extends Metric<{ n: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, MetricType.counter, labelNames);
  }

  /** Adds `by` (default 1). Throws a RangeError on a negative or non-finite amount. */
  inc(labels: Labels = {}, by = 1): void {
    if (!Number.isFinite(by) || by < 0)
      throw new RangeError(`counter '${this.name}' can only grow`);
    this.entry(labels, () => ({ n: 0 })).value.n += by;
  }

  /** Sets a total counted elsewhere (such as the process's CPU time); it may not go down. */
  setTotal(labels: Labels, total: number): void {
    const entry = this.entry(labels, () => ({ n: 0 }));
    if (!Number.isFinite(total) || total < entry.value.n)
      throw new RangeError(`counter '${this.name}' can only grow`);
    entry.value.n = total;
  }

  get(labels: Labels = {}): number {
    return this.series.get(this.key(labels))?.value.n ?? 0;
  }

  render(): string[] {
    return [
      ...this.header(),
      ...[...this.series.values()].map(
        (s) => `${this.name}${labelText(this.labelNames, s.labels)} ${formatValue(s.value.n)}`,
      ),
    ];
  }
}

export class Gauge extends Metric<{ n: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, MetricType.gauge, labelNames);
  }

  set(labels: Labels, value: number): void {
    this.entry(labels, () => ({ n: 0 })).value.n = value;
  }

  add(labels: Labels, by: number): void {
    this.entry(labels, () => ({ n: 0 })).value.n += by;
  }

  get(labels: Labels = {}): number {
    return this.series.get(this.key(labels))?.value.n ?? 0;
  }

  render(): string[] {
    return [
      ...this.header(),
      ...[...this.series.values()].map(
        (s) => `${this.name}${labelText(this.labelNames, s.labels)} ${formatValue(s.value.n)}`,
      ),
    ];
  }
}

export class Histogram extends Metric<HistogramSeries> {
  readonly buckets: readonly number[];

  constructor(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly string[] = [],
  ) {
    super(name, help, MetricType.histogram, labelNames);
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b, i) => !Number.isFinite(b) || b === sorted[i - 1])) {
      throw new RangeError(`histogram '${name}' needs distinct finite buckets`);
    }
    this.buckets = sorted;
  }

  observe(labels: Labels, value: number): void {
    const series = this.entry(labels, () => ({
      counts: this.buckets.map(() => 0),
      sum: 0,
      count: 0,
    })).value;
    this.buckets.forEach((bound, i) => {
      if (value <= bound) series.counts[i] = (series.counts[i] ?? 0) + 1;
    });
    series.sum += value;
    series.count += 1;
  }

  /** Count and sum of one series (for tests and health summaries). */
  get(labels: Labels = {}): { count: number; sum: number } {
    const series = this.series.get(this.key(labels))?.value;
    return { count: series?.count ?? 0, sum: series?.sum ?? 0 };
  }

  render(): string[] {
    const lines = this.header();
    for (const { labels, value } of this.series.values()) {
      this.buckets.forEach((bound, i) => {
        lines.push(
          `${this.name}_bucket${labelText(this.labelNames, labels, ['le', formatValue(bound)])} ${value.counts[i] ?? 0}`,
        );
      });
      lines.push(
        `${this.name}_bucket${labelText(this.labelNames, labels, ['le', '+Inf'])} ${value.count}`,
      );
      lines.push(`${this.name}_sum${labelText(this.labelNames, labels)} ${formatValue(value.sum)}`);
      lines.push(`${this.name}_count${labelText(this.labelNames, labels)} ${value.count}`);
    }
    return lines;
  }
}

type AnyMetric = Counter | Gauge | Histogram;

/** Holds metrics by name; `render()` is the body of `GET /metrics`. */
export class MetricsRegistry {
  readonly #metrics = new Map<string, AnyMetric>();
  readonly #collectors: (() => void)[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }

  histogram(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly string[] = [],
  ): Histogram {
    return this.#add(new Histogram(name, help, buckets, labelNames));
  }

  /** Runs before every render, to sample values such as CPU and memory. */
  addCollector(collect: () => void): void {
    this.#collectors.push(collect);
  }

  /** Drops every series carrying these labels, in every metric. */
  removeMatching(match: Labels): void {
    for (const metric of this.#metrics.values()) metric.removeMatching(match);
  }

  /** The Prometheus text exposition of every metric, ending with a newline. */
  render(): string {
    for (const collect of this.#collectors) collect();
    const lines = [...this.#metrics.values()].flatMap((metric) => metric.render());
    return `${lines.join('\n')}\n`;
  }

  #add<T extends AnyMetric>(metric: T): T {
    if (this.#metrics.has(metric.name))
      throw new RangeError(`metric '${metric.name}' is already registered`);
    this.#metrics.set(metric.name, metric);
    return metric;
  }
}

/** Content type of {@link MetricsRegistry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
