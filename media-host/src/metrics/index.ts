export * from './metrics-registry';
export * from './media-host-metrics';
