export * from './hash';
export * from './media-envelope';
export * from './signing';
export * from './key-vault-errors';
