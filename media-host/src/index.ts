/** Public entry points of the media host (tests, the local runtime, `npm start`). */
export { startMediaHost, type MediaHost, type MediaHostDependencies } from './host/media-host';
export { loadConfig, type MediaHostConfig } from './config/media-host.config';
export { FrameTaps, type FrameListener, type TappedFrame } from './hooks/frame-tap';
export {
  MetricNames,
  noopMetrics,
  type MetricName,
  type MetricsSink,
  type MetricLabels,
} from './hooks/metrics-sink';
export type { BlockStore } from './sink/block-store';
export { createRawPassthroughFormatter } from './pipeline/raw-pcm.formatter';
export { createJsonLogger, silentLogger, type Logger } from './logging/logger';
