export * from './media-protocol';
