/**
 * Test and benchmark fakes for the media host: an in-memory block store and synthetic media.
 * Not part of the product: `media-host/src` never imports this folder (ESLint enforces it) and
 * the build does not ship it.
 */
export { MemoryBlockStore } from './memory-block-store';
export * from './h264-test-streams';
export * from './test-signals';
export * from './ws-codec';
