export * from './media-host-metrics';
