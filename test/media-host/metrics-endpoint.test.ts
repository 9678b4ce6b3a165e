import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MediaHostMetrics, createMetricsHandler } from '../../media-host/src/metrics';

const fixedStats = () => ({
  cpuTimeInMicroseconds: 2_500_000,
  residentMemoryInBytes: 123_456_789,
  heapUsedInBytes: 42_000_000,
});

const METRICS_KEY = 'metrics-key-for-tests-0123456789';
const withKey = { headers: { authorization: `Bearer ${METRICS_KEY}` } };

describe('GET /metrics', () => {
  let server: Server;
  let base: string;
  const metrics = new MediaHostMetrics({ readProcessStats: fixedStats });

  beforeAll(async () => {
    const handler = createMetricsHandler(metrics, { bearerKey: METRICS_KEY });
    server = createServer((req, res) =>
      req.url === '/metrics' ? handler(req, res) : res.writeHead(404).end(),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('serves per-session and per-host metrics reported through the pipeline port', async () => {
    const sessionId = '6f1c2d3e-0000-4000-8000-000000000001';
    const session = { session: sessionId };
    metrics.set('attest_media_active_sessions', 1);
    metrics.increment('attest_media_frames_received_total', 500, session);
    metrics.increment('attest_media_frames_dropped_not_persisting_total', 50, session);
    metrics.increment('attest_media_bytes_committed_total', 16_000, session);
    metrics.increment('attest_media_gaps_recorded_total', 1, session);
    metrics.set('attest_media_spool_bytes', 65_536);
    metrics.observe('attest_media_commit_latency_ms', 800);
    metrics.observe('attest_media_commit_latency_ms', 4000);

    const response = await fetch(`${base}/metrics`, withKey);
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toContain(
      '# HELP attest_media_frames_received_total Media frames received over the media protocol, per session.',
    );
    expect(text).toContain('# TYPE attest_media_frames_received_total counter');
    expect(text).toContain(`attest_media_frames_received_total{session="${sessionId}"} 500`);
    expect(text).toContain(
      `attest_media_frames_dropped_not_persisting_total{session="${sessionId}"} 50`,
    );
    expect(text).toContain(`attest_media_bytes_committed_total{session="${sessionId}"} 16000`);
    expect(text).toContain(`attest_media_gaps_recorded_total{session="${sessionId}"} 1`);
    expect(text).toContain('attest_media_spool_bytes 65536');
    expect(text).toContain('attest_media_active_sessions 1');
    expect(text).toContain('# TYPE attest_media_commit_latency_ms histogram');
    expect(text).toContain('attest_media_commit_latency_ms_bucket{le="1000"} 1');
    expect(text).toContain('attest_media_commit_latency_ms_bucket{le="5000"} 2');
    expect(text).toContain('attest_media_commit_latency_ms_count 2');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text).toContain('process_cpu_seconds_total 2.5');
    expect(text).toContain('process_resident_memory_bytes 123456789');
    // Every non-comment line is `name{labels} value`.
    for (const line of text
      .trim()
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.e+-]+|[+-]Inf|NaN)$/);
    }
  });

  it("forgets a session's series when it closes", async () => {
    const sessionId = '6f1c2d3e-0000-4000-8000-000000000002';
    metrics.increment('attest_media_frames_received_total', 3, { session: sessionId });
    metrics.forgetSession(sessionId);
    const text = await (await fetch(`${base}/metrics`, withKey)).text();
    expect(text).not.toContain(sessionId);
  });

  it('gives a sample that lacks a label of the metric an empty value instead of failing', async () => {
    metrics.increment('attest_media_frames_received_total', 1);
    expect(await metrics.render()).toContain('attest_media_frames_received_total{session=""} 1');
  });

  it('answers 405 with a problem body to other methods', async () => {
    const response = await fetch(`${base}/metrics`, { ...withKey, method: 'POST' });
    expect(response.status).toBe(405);
    expect(await response.json()).toEqual({
      code: 'ATT_INVALID_REQUEST',
      message: 'Use GET /metrics.',
      status: 405,
    });
  });

  it('answers 401 with a problem body and no figures without the metrics key', async () => {
    metrics.set('attest_media_active_sessions', 3);
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'ATT_UNAUTHORIZED', status: 401 });
    expect(text).not.toContain('attest_media');
  });

  it('answers 401 to a wrong key', async () => {
    const response = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_KEY}x` },
    });
    expect(response.status).toBe(401);
  });
  it('answers 500 with a problem body and no figures when the process figures cannot be read', async () => {
    const failing = new MediaHostMetrics({
      readProcessStats: () => {
        throw new Error('no figures');
      },
    });
    failing.set('attest_media_active_sessions', 2);
    const handler = createMetricsHandler(failing, { bearerKey: METRICS_KEY });
    const other = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const port = (other.address() as AddressInfo).port;
      const response = await fetch(`http://127.0.0.1:${port}/metrics`, withKey);
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ code: 'ATT_INTERNAL', status: 500 });
      expect(text).not.toContain('attest_media');
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });
});
