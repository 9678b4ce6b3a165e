/**
 * The media host's metrics exporter, on `prom-client` (one registry per host, never the
 * process-global default one). It implements the pipeline's metrics port (`MetricsSink` in
 * `../hooks/metrics-sink.ts`: `increment`, `set`, `observe`, `forgetSession`) structurally, so the
 * pipeline reports through the port and `GET /metrics` renders the Prometheus text format 0.0.4.
 *
 * A metric is registered on its first use: `increment` makes a counter, `set` a gauge, `observe` a
 * histogram (buckets for milliseconds by default). The label names of a metric are fixed by its
 * first use; a later sample lacking one gets an empty value. Per-session series carry the label
 * `session` (an opaque id) and are dropped by `forgetSession`. Process CPU and memory are sampled
 * at render time through an injectable reader.
 *
 * Hot path: the pipeline reports per socket read. Each labelled series (prom-client's child) is
 * created once and cached, found first by the identity of the caller's labels object (a session
 * passes the same frozen object every time), so a sample costs a map lookup and prom-client's
 * `inc`, never a rebuilt label key. A labels object must not be changed after it was passed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBearerCheck } from '../net/bearer';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Label values of one series, by label name (opaque ids only, never personal data). */
export type Labels = Readonly<Record<string, string>>;

export interface ProcessStats {
  /** User + system CPU time since the process started, in microseconds. */
  readonly cpuTimeInMicroseconds: number;
  readonly residentMemoryInBytes: number;
  readonly heapUsedInBytes: number;
}

export function readProcessStats(): ProcessStats {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return {
    cpuTimeInMicroseconds: cpu.user + cpu.system,
    residentMemoryInBytes: memory.rss,
    heapUsedInBytes: memory.heapUsed,
  };
}

/** Default histogram buckets for latencies observed in milliseconds. */
export const DEFAULT_LATENCY_BUCKETS_IN_MS: readonly number[] = [
  10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000,
];

/** HELP texts of the metrics the media host reports; other names get a generic text. */
export const MetricHelp: Readonly<Record<string, string>> = {
  attest_media_frames_received_total: 'Media frames received over the media protocol, per session.',
  attest_media_frames_dropped_not_persisting_total:
    'Frames dropped because persistence had not started or was paused, per session.',
  attest_media_frames_dropped_spool_full_total:
    'Frames refused because the spool was full, per session.',
  attest_media_bytes_committed_total: 'Bytes committed to storage, per session.',
  attest_media_gaps_recorded_total: 'Gaps (missing media) recorded, per session.',
  attest_media_storage_retries_total: 'Storage operations retried.',
  attest_media_protocol_violations_total: 'Media protocol connections ended for bad input.',
  attest_media_spool_bytes: 'Bytes in the local spool not yet committed to storage.',
  attest_media_active_sessions: 'Media sessions open on this host.',
  attest_media_commit_latency_ms:
    'Milliseconds from a frame entering the spool to its block being committed.',
  attest_media_live_listeners: 'Supervisors listening in live, per session.',
  attest_media_bridge_reachable: 'Whether the .NET bridge answered its last health read (1/0).',
  attest_media_bridge_platform_initialized:
    'Whether the bridge initialized the media platform (1/0).',
  attest_media_bridge_platform_health:
    "The media platform's load state by its health event: 0 normal, 1 heavily loaded, 2 overloaded, -1 not initialized or unknown.",
  attest_media_bridge_platform_health_changes:
    'Changes of the media platform load state since the bridge started.',
  attest_media_bridge_sessions: 'Calls the bridge holds sockets for.',
  attest_media_bridge_frames_per_second: 'Frames per second the bridge forwards to this host.',
  attest_media_bridge_queue_depth: "Frames waiting in the bridge's per-call queues.",
  attest_media_bridge_frames_forwarded: 'Frames the bridge has forwarded since it started.',
  attest_media_bridge_frames_dropped:
    'Frames the bridge dropped because a queue was full (each interval a reported gap).',
  attest_media_bridge_gap_reports: 'Gap reports the bridge sent.',
  attest_media_bridge_unacked_frames:
    'Frames the bridge sent that this host has not acknowledged yet.',
  attest_media_bridge_disconnected_sessions: 'Calls whose link from the bridge is down.',
};

export interface MediaHostMetricsOptions {
  readonly readProcessStats?: () => ProcessStats;
  /** Histogram buckets per metric name; others use {@link DEFAULT_LATENCY_BUCKETS_IN_MS}. */
  readonly bucketsByName?: Readonly<Record<string, readonly number[]>>;
}

/** Content type of {@link MediaHostMetrics.render}'s output (text format 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;

const noLabels: Labels = Object.freeze({});

/** One metric and its labelled series, each created once. */
class Family<TChild> {
  /** Series by the identity of the labels object a caller passed (the hot path). */
  #byObject = new WeakMap<Labels, TChild>();
  /** Series by label values, with the labels they were created with (for `forgetSession`). */
  readonly #byKey = new Map<string, { readonly labels: Labels; readonly child: TChild }>();

  constructor(
    readonly labelNames: readonly string[],
    private readonly createChild: (labels: Labels) => TChild,
    private readonly removeSeries: (labels: Labels) => void,
  ) {}

  child(labels: Labels): TChild {
    const cached = this.#byObject.get(labels);
    if (cached !== undefined) return cached;
    const filled: Record<string, string> = {};
    for (const name of this.labelNames) filled[name] = labels[name] ?? '';
    const key = JSON.stringify(this.labelNames.map((name) => filled[name]));
    let entry = this.#byKey.get(key);
    if (entry === undefined) {
      entry = { labels: filled, child: this.createChild(filled) };
      this.#byKey.set(key, entry);
    }
    this.#byObject.set(labels, entry.child);
    return entry.child;
  }

  /** Drops every series whose label `name` is `value`. */
  removeWhere(name: string, value: string): void {
    let isRemoved = false;
    for (const [key, entry] of this.#byKey) {
      if (entry.labels[name] !== value) continue;
      this.removeSeries(entry.labels);
      this.#byKey.delete(key);
      isRemoved = true;
    }
    // A removed child no longer belongs to the metric: forget every identity shortcut (rare: once
    // per closed session; other sessions find their series again by key on their next sample).
    if (isRemoved) this.#byObject = new WeakMap();
  }
}

type CounterChild = ReturnType<Counter['labels']>;
type GaugeChild = ReturnType<Gauge['labels']>;
type HistogramChild = ReturnType<Histogram['labels']>;

function sortedBuckets(name: string, buckets: readonly number[]): number[] {
  const sorted = [...buckets].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.some((b, i) => !Number.isFinite(b) || b === sorted[i - 1]))
    throw new RangeError(`histogram '${name}' needs distinct finite buckets`);
  return sorted;
}

export class MediaHostMetrics {
  readonly registry = new Registry();
  readonly #counters = new Map<string, Family<CounterChild>>();
  readonly #gauges = new Map<string, Family<GaugeChild>>();
  readonly #histograms = new Map<string, Family<HistogramChild>>();
  readonly #buckets: Readonly<Record<string, readonly number[]>>;

  constructor(options: MediaHostMetricsOptions = {}) {
    this.#buckets = options.bucketsByName ?? {};
    const read = options.readProcessStats ?? readProcessStats;
    // Sampled once per render: the CPU counter's collector runs first (registration order).
    let stats: ProcessStats | undefined;
    let cpuSeconds = 0;
    new Counter({
      name: 'process_cpu_seconds_total',
      help: 'User and system CPU time of the media host process, in seconds.',
      registers: [this.registry],
      collect() {
        stats = read();
        // A total counted by the OS: set, never lowered.
        cpuSeconds = Math.max(cpuSeconds, stats.cpuTimeInMicroseconds / 1e6);
        this.reset();
        this.inc(cpuSeconds);
      },
    });
    new Gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident memory of the media host process.',
      registers: [this.registry],
      collect() {
        this.set((stats ?? read()).residentMemoryInBytes);
      },
    });
    new Gauge({
      name: 'nodejs_heap_used_bytes',
      help: 'V8 heap in use.',
      registers: [this.registry],
      collect() {
        this.set((stats ?? read()).heapUsedInBytes);
      },
    });
  }

  increment(name: string, by = 1, labels: Labels = noLabels): void {
    this.#family(
      this.#counters,
      name,
      labels,
      (help, labelNames) => new Counter({ name, help, labelNames, registers: [this.registry] }),
    )
      .child(labels)
      .inc(by);
  }

  set(name: string, value: number, labels: Labels = noLabels): void {
    this.#family(
      this.#gauges,
      name,
      labels,
      (help, labelNames) => new Gauge({ name, help, labelNames, registers: [this.registry] }),
    )
      .child(labels)
      .set(value);
  }

  observe(name: string, value: number, labels: Labels = noLabels): void {
    this.#family(this.#histograms, name, labels, (help, labelNames) => {
      const buckets = sortedBuckets(name, this.#buckets[name] ?? DEFAULT_LATENCY_BUCKETS_IN_MS);
      return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
    })
      .child(labels)
      .observe(value);
  }

  /** Drops every series labelled with this session. */
  forgetSession(sessionId: string): void {
    for (const families of [this.#counters, this.#gauges, this.#histograms]) {
      for (const family of families.values()) family.removeWhere('session', sessionId);
    }
  }

  /** The Prometheus text exposition (format 0.0.4), ending with a newline. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The family of `name`, registering its metric (label names from this first sample) if new. */
  #family<TChild>(
    families: Map<string, Family<TChild>>,
    name: string,
    labels: Labels,
    create: (
      help: string,
      labelNames: string[],
    ) => { labels(labels: Labels): TChild; remove(labels: Labels): void },
  ): Family<TChild> {
    let family = families.get(name);
    if (family === undefined) {
      const labelNames = Object.keys(labels).sort();
      const metric = create(MetricHelp[name] ?? `Media host metric ${name}.`, labelNames);
      family = new Family(
        labelNames,
        (l) => metric.labels(l),
        (l) => metric.remove(l),
      );
      families.set(name, family);
    }
    return family;
  }
}

export interface MetricsHandlerOptions {
  /**
   * The key a scraper presents as `Authorization: Bearer <key>` (`ATTEST_MEDIA_METRICS_KEY`, or
   * the control key when that is unset): the exposition names live sessions, so it is not public.
   */
  readonly bearerKey: string;
}

/**
 * A node `http` handler for `GET /metrics`: 200 with the exposition for a caller presenting the
 * key, 401 with a problem body without it, 405 for other methods, 500 (no figures) when a
 * collector fails. Mount it on the host's HTTP
 * server (`if (url === '/metrics') return handler(req, res)`).
 */
export function createMetricsHandler(
  metrics: Pick<MediaHostMetrics, 'render'>,
  options: MetricsHandlerOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const isAuthorized = createBearerCheck(options.bearerKey);
  const refuse = (response: ServerResponse, status: number, message: string): void => {
    const code =
      status === 401 ? 'ATT_UNAUTHORIZED' : status === 405 ? 'ATT_INVALID_REQUEST' : 'ATT_INTERNAL';
    const body = JSON.stringify({ code, message, status });
    response
      .writeHead(status, {
        'content-type': 'application/problem+json',
        ...(status === 401 ? { 'www-authenticate': 'Bearer realm="attest-media-metrics"' } : {}),
        ...(status === 405 ? { allow: 'GET, HEAD' } : {}),
      })
      .end(body);
  };
  return (request, response) => {
    if (!isAuthorized(request))
      return refuse(response, 401, 'Present the metrics key as Authorization: Bearer <key>.');
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return refuse(response, 405, 'Use GET /metrics.');
    metrics.render().then(
      (text) => {
        response.writeHead(200, {
          'content-type': PROMETHEUS_CONTENT_TYPE,
          'content-length': Buffer.byteLength(text),
        });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      // A collector failed (reading the process's figures): no partial exposition.
      () => refuse(response, 500, 'The metrics could not be collected; try again.'),
    );
  };
}
