/**
 * The media host's metrics exporter. It implements the pipeline's metrics port (`MetricsSink` in
 * `../hooks/metrics-sink.ts`: `increment`, `set`, `observe`, `forgetSession`) structurally, so the
 * pipeline reports through the port and `GET /metrics` renders the Prometheus text format.
 *
 * A metric is registered on its first use: `increment` makes a counter, `set` a gauge, `observe` a
 * histogram (buckets for milliseconds by default). The label names of a metric are fixed by its
 * first use; a later sample lacking one gets an empty value. Per-session series carry the label
 * `session` (an opaque id) and are dropped by `forgetSession`. Process CPU and memory are sampled
 * at render time through an injectable reader.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBearerCheck } from '../net/bearer';
import type { Counter, Gauge, Histogram, Labels } from './metrics-registry';
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from './metrics-registry';

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

export class MediaHostMetrics {
  readonly registry = new MetricsRegistry();
  readonly #counters = new Map<string, Counter>();
  readonly #gauges = new Map<string, Gauge>();
  readonly #histograms = new Map<string, Histogram>();
  readonly #buckets: Readonly<Record<string, readonly number[]>>;

  constructor(options: MediaHostMetricsOptions = {}) {
    this.#buckets = options.bucketsByName ?? {};
    const cpu = this.registry.counter(
      'process_cpu_seconds_total',
      'User and system CPU time of the media host process, in seconds.',
    );
    const rss = this.registry.gauge(
      'process_resident_memory_bytes',
      'Resident memory of the media host process.',
    );
    const heap = this.registry.gauge('nodejs_heap_used_bytes', 'V8 heap in use.');
    const read = options.readProcessStats ?? readProcessStats;
    this.registry.addCollector(() => {
      const stats = read();
      cpu.setTotal({}, stats.cpuTimeInMicroseconds / 1e6);
      rss.set({}, stats.residentMemoryInBytes);
      heap.set({}, stats.heapUsedInBytes);
    });
  }

  increment(name: string, by = 1, labels: Labels = {}): void {
    const counter = this.#metric(this.#counters, name, labels, (help, names) =>
      this.registry.counter(name, help, names),
    );
    counter.inc(this.#fill(counter.labelNames, labels), by);
  }

  set(name: string, value: number, labels: Labels = {}): void {
    const gauge = this.#metric(this.#gauges, name, labels, (help, names) =>
      this.registry.gauge(name, help, names),
    );
    gauge.set(this.#fill(gauge.labelNames, labels), value);
  }

  observe(name: string, value: number, labels: Labels = {}): void {
    const histogram = this.#metric(this.#histograms, name, labels, (help, names) =>
      this.registry.histogram(
        name,
        help,
        this.#buckets[name] ?? DEFAULT_LATENCY_BUCKETS_IN_MS,
        names,
      ),
    );
    histogram.observe(this.#fill(histogram.labelNames, labels), value);
  }

  /** Drops every series labelled with this session. */
  forgetSession(sessionId: string): void {
    this.registry.removeMatching({ session: sessionId });
  }

  /** The Prometheus text exposition. */
  render(): string {
    return this.registry.render();
  }

  #metric<T extends Counter | Gauge | Histogram>(
    map: Map<string, T>,
    name: string,
    labels: Labels,
    create: (help: string, labelNames: string[]) => T,
  ): T {
    let metric = map.get(name);
    if (metric === undefined) {
      metric = create(MetricHelp[name] ?? `Media host metric ${name}.`, Object.keys(labels).sort());
      map.set(name, metric);
    }
    return metric;
  }

  #fill(labelNames: readonly string[], labels: Labels): Labels {
    return Object.fromEntries(labelNames.map((n) => [n, labels[n] ?? '']));
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
 * key, 401 with a problem body without it, 405 for other methods. Mount it on the host's HTTP
 * server (`if (url === '/metrics') return handler(req, res)`).
 */
export function createMetricsHandler(
  metrics: Pick<MediaHostMetrics, 'render'>,
  options: MetricsHandlerOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const isAuthorized = createBearerCheck(options.bearerKey);
  const refuse = (response: ServerResponse, status: number, message: string): void => {
    const body = JSON.stringify({
      code: status === 401 ? 'ATT_UNAUTHORIZED' : 'ATT_INVALID_REQUEST',
      message,
      status,
    });
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
    const text = metrics.render();
    response.writeHead(200, {
      'content-type': PROMETHEUS_CONTENT_TYPE,
      'content-length': Buffer.byteLength(text),
    });
    response.end(request.method === 'HEAD' ? undefined : text);
  };
}
