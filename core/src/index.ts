export * from './errors';
export * from './ids';
export * from './control-api';
export * from './interaction';
export * from './crypto';
export * from './media-protocol';
