export * from './media-envelope';
