import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MediaHostMetrics, createMetricsHandler } from '../../media-host/src/metrics';

const fixedStats = () => ({ cpuTimeInMicroseconds: 2_500_000, residentMemoryInBytes: 123_456_789, heapUsedInBytes: 42_000_000 });

describe('GET /metrics', () => {
  let server: Server;
  let base: string;
  const metrics = new MediaHostMetrics({ readProcessStats: fixedStats });

  beforeAll(async () => {
    const handler = createMetricsHandler(metrics);
    server = createServer((req, res) => (req.url === '/metrics' ? handler(req, res) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('serves per-session and per-host metrics in the Prometheus text format', async () => {
    const sessionId = '6f1c2d3e-0000-4000-8000-000000000001';
    metrics.sessionOpened();
    metrics.framesReceived(sessionId, 'audio', 500);
    metrics.framesDroppedBeforeRecording(sessionId, 'audio', 50);
    metrics.blockCommitted(sessionId, 'audio', 16_000, 800);
    metrics.gapRecorded(sessionId, 'audio', 500);
    metrics.spoolDepth(65_536);

    const response = await fetch(`${base}/metrics`);
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text).toContain(`attest_media_frames_received_total{session_id="${sessionId}",kind="audio"} 500`);
    expect(text).toContain(`attest_media_frames_dropped_before_recording_total{session_id="${sessionId}",kind="audio"} 50`);
    expect(text).toContain(`attest_media_bytes_stored_total{session_id="${sessionId}",kind="audio"} 16000`);
    expect(text).toContain('attest_media_commit_latency_seconds_bucket{le="1"} 1');
    expect(text).toContain(`attest_media_gap_seconds_total{session_id="${sessionId}",kind="audio"} 0.5`);
    expect(text).toContain('attest_media_spool_depth_bytes 65536');
    expect(text).toContain('attest_media_sessions_active 1');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text).toContain('process_cpu_seconds_total 2.5');
    expect(text).toContain('process_resident_memory_bytes 123456789');
    // Every non-comment line is `name{labels} value`.
    for (const line of text.trim().split('\n').filter((l) => !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+$|Inf$/);
    }
  });

  it('forgets a session\'s series when it closes', async () => {
    const sessionId = '6f1c2d3e-0000-4000-8000-000000000002';
    metrics.sessionOpened();
    metrics.framesReceived(sessionId, 'video', 3);
    metrics.sessionClosed(sessionId);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).not.toContain(sessionId);
  });

  it('answers 405 with a problem body to other methods', async () => {
    const response = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(await response.json()).toEqual({ code: 'ATT_INVALID_REQUEST', message: 'Use GET /metrics.', status: 405 });
  });
});
