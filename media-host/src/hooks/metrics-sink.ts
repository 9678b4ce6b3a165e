/**
 * The metrics port. The pipeline reports through {@link MetricsSink}; the `/metrics` endpoint
 * (Prometheus text) implements it. Names are fixed here so producers and the exporter agree.
 * Labels: `session` (opaque session id) where a metric is per session; none for host totals.
 */
export const MetricNames = {
  /** counter, per session: media frames received over the protocol. */
  framesReceived: 'attest_media_frames_received_total',
  /** counter, per session: frames dropped because persistence had not started or was paused. */
  framesDroppedNotPersisting: 'attest_media_frames_dropped_not_persisting_total',
  /** counter, per session: frames refused because the spool was full. */
  framesDroppedSpoolFull: 'attest_media_frames_dropped_spool_full_total',
  /** counter, per session: bytes committed to storage (stored bytes). */
  bytesCommitted: 'attest_media_bytes_committed_total',
  /** counter, per session: gaps recorded. */
  gapsRecorded: 'attest_media_gaps_recorded_total',
  /** counter, host: storage retries. */
  storageRetries: 'attest_media_storage_retries_total',
  /** counter, host: protocol connections ended for bad input. */
  protocolViolations: 'attest_media_protocol_violations_total',
  /** gauge, host: bytes in the spool (disk plus queued). */
  spoolBytes: 'attest_media_spool_bytes',
  /** gauge, host: live sessions. */
  activeSessions: 'attest_media_active_sessions',
  /** histogram-ish observation, host: commit latency in ms. */
  commitLatencyInMs: 'attest_media_commit_latency_ms',
  /** gauges, host: the .NET bridge's health as last read (see `MediaBridgeHealth`). */
  bridgeReachable: 'attest_media_bridge_reachable',
  bridgePlatformInitialized: 'attest_media_bridge_platform_initialized',
  bridgePlatformHealth: 'attest_media_bridge_platform_health',
  bridgePlatformHealthChanges: 'attest_media_bridge_platform_health_changes',
  bridgeSessions: 'attest_media_bridge_sessions',
  bridgeFramesPerSecond: 'attest_media_bridge_frames_per_second',
  bridgeQueueDepth: 'attest_media_bridge_queue_depth',
  bridgeFramesForwarded: 'attest_media_bridge_frames_forwarded',
  bridgeFramesDropped: 'attest_media_bridge_frames_dropped',
  bridgeGapReports: 'attest_media_bridge_gap_reports',
  bridgeUnackedFrames: 'attest_media_bridge_unacked_frames',
  bridgeDisconnectedSessions: 'attest_media_bridge_disconnected_sessions',
} as const;
export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];

export type MetricLabels = Readonly<Record<string, string>>;

export interface MetricsSink {
  increment(name: MetricName, by?: number, labels?: MetricLabels): void;
  set(name: MetricName, value: number, labels?: MetricLabels): void;
  observe(name: MetricName, value: number, labels?: MetricLabels): void;
  /** A session ended: drop its labelled series. */
  forgetSession?(sessionId: string): void;
}

export const noopMetrics: MetricsSink = {
  increment: () => undefined,
  set: () => undefined,
  observe: () => undefined,
};
