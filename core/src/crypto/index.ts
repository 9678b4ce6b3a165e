export * from './media-envelope';
export * from './signing';
