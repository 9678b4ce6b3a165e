export * from './blob-names';
