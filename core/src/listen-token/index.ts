export * from './listen-token';
