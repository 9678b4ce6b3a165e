/**
 * The media host's metrics, per host and per session (label `session_id`, an opaque id), with
 * named methods for the pipeline to call. Process CPU and memory are sampled at render time
 * through an injectable reader, so tests see fixed values.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Counter, Gauge, Histogram} from './metrics-registry';
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
  return { cpuTimeInMicroseconds: cpu.user + cpu.system, residentMemoryInBytes: memory.rss, heapUsedInBytes: memory.heapUsed };
}

export interface MediaHostMetricsOptions {
  readonly readProcessStats?: () => ProcessStats;
  /** Upper bounds of the commit latency buckets, in seconds. */
  readonly commitLatencyBucketsInSeconds?: readonly number[];
}

/** Stream kinds as they appear in the `kind` label. */
export type StreamKindLabel = 'audio' | 'video' | 'vbss';

export class MediaHostMetrics {
  readonly registry = new MetricsRegistry();
  readonly #framesReceived: Counter;
  readonly #framesDroppedBeforeRecording: Counter;
  readonly #framesDropped: Counter;
  readonly #bytesStored: Counter;
  readonly #blocksCommitted: Counter;
  readonly #commitLatency: Histogram;
  readonly #gaps: Counter;
  readonly #gapSeconds: Counter;
  readonly #spoolDepthBytes: Gauge;
  readonly #spoolDepthFrames: Gauge;
  readonly #activeSessions: Gauge;
  readonly #liveListeners: Gauge;
  readonly #cpuSeconds: Counter;
  readonly #residentMemory: Gauge;
  readonly #heapUsed: Gauge;

  constructor(options: MediaHostMetricsOptions = {}) {
    const r = this.registry;
    const session = ['session_id', 'kind'];
    this.#framesReceived = r.counter('attest_media_frames_received_total', 'Media frames received, per session and stream kind.', session);
    this.#framesDroppedBeforeRecording = r.counter(
      'attest_media_frames_dropped_before_recording_total',
      'Frames received before the function app confirmed recording; never stored.',
      session,
    );
    this.#framesDropped = r.counter('attest_media_frames_dropped_total', 'Frames dropped after recording started, by reason.', [
      'session_id',
      'kind',
      'reason',
    ]);
    this.#bytesStored = r.counter('attest_media_bytes_stored_total', 'Bytes committed to storage, per session and stream kind.', session);
    this.#blocksCommitted = r.counter('attest_media_blocks_committed_total', 'Blocks committed to storage, per session.', ['session_id']);
    this.#commitLatency = r.histogram(
      'attest_media_commit_latency_seconds',
      'Time from a frame entering the spool to its block being committed.',
      options.commitLatencyBucketsInSeconds ?? [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      [],
    );
    this.#gaps = r.counter('attest_media_gaps_total', 'Gaps (missing media) recorded, per session and stream kind.', session);
    this.#gapSeconds = r.counter('attest_media_gap_seconds_total', 'Seconds of media missing, per session and stream kind.', session);
    this.#spoolDepthBytes = r.gauge('attest_media_spool_depth_bytes', 'Bytes in the local spool not yet committed to storage.', []);
    this.#spoolDepthFrames = r.gauge('attest_media_spool_depth_frames', 'Frames in the local spool not yet committed, per session.', [
      'session_id',
    ]);
    this.#activeSessions = r.gauge('attest_media_sessions_active', 'Media sessions open on this host.', []);
    this.#liveListeners = r.gauge('attest_media_live_listeners', 'Supervisors listening in live, per session.', ['session_id']);
    this.#cpuSeconds = r.counter('process_cpu_seconds_total', 'User and system CPU time of the media host process, in seconds.', []);
    this.#residentMemory = r.gauge('process_resident_memory_bytes', 'Resident memory of the media host process.', []);
    this.#heapUsed = r.gauge('nodejs_heap_used_bytes', 'V8 heap in use.', []);
    const read = options.readProcessStats ?? readProcessStats;
    r.addCollector(() => {
      const stats = read();
      this.#cpuSeconds.setTotal({}, stats.cpuTimeInMicroseconds / 1e6);
      this.#residentMemory.set({}, stats.residentMemoryInBytes);
      this.#heapUsed.set({}, stats.heapUsedInBytes);
    });
    this.#activeSessions.set({}, 0);
    this.#spoolDepthBytes.set({}, 0);
  }

  sessionOpened(): void {
    this.#activeSessions.add({}, 1);
  }

  /** Counts the session closed and drops its series (its totals are in the manifest). */
  sessionClosed(sessionId: string): void {
    this.#activeSessions.add({}, -1);
    this.registry.removeMatching({ session_id: sessionId });
  }

  framesReceived(sessionId: string, kind: StreamKindLabel, count = 1): void {
    this.#framesReceived.inc({ session_id: sessionId, kind }, count);
  }

  framesDroppedBeforeRecording(sessionId: string, kind: StreamKindLabel, count = 1): void {
    this.#framesDroppedBeforeRecording.inc({ session_id: sessionId, kind }, count);
  }

  /** Frames lost after recording began, with a short constant reason (`spoolFull`, `paused`, `beforeKeyFrame`). */
  framesDropped(sessionId: string, kind: StreamKindLabel, reason: string, count = 1): void {
    this.#framesDropped.inc({ session_id: sessionId, kind, reason }, count);
  }

  blockCommitted(sessionId: string, kind: StreamKindLabel, byteCount: number, latencyInMs: number): void {
    this.#bytesStored.inc({ session_id: sessionId, kind }, byteCount);
    this.#blocksCommitted.inc({ session_id: sessionId });
    this.#commitLatency.observe({}, latencyInMs / 1000);
  }

  gapRecorded(sessionId: string, kind: StreamKindLabel, durationInMs: number): void {
    this.#gaps.inc({ session_id: sessionId, kind });
    this.#gapSeconds.inc({ session_id: sessionId, kind }, durationInMs / 1000);
  }

  spoolDepth(totalBytes: number): void {
    this.#spoolDepthBytes.set({}, totalBytes);
  }

  sessionSpoolDepth(sessionId: string, frames: number): void {
    this.#spoolDepthFrames.set({ session_id: sessionId }, frames);
  }

  liveListeners(sessionId: string, count: number): void {
    this.#liveListeners.set({ session_id: sessionId }, count);
  }

  render(): string {
    return this.registry.render();
  }
}

/**
 * A node `http` handler for `GET /metrics`: 200 with the exposition, 405 with a problem body for
 * other methods. Mount it on the host's HTTP server (`if (url === '/metrics') return handler(req, res)`).
 */
export function createMetricsHandler(metrics: MediaHostMetrics): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const body = JSON.stringify({ code: 'ATT_INVALID_REQUEST', message: 'Use GET /metrics.', status: 405 });
      response.writeHead(405, { 'content-type': 'application/problem+json', allow: 'GET, HEAD' }).end(body);
      return;
    }
    const text = metrics.render();
    response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
    response.end(request.method === 'HEAD' ? undefined : text);
  };
}
