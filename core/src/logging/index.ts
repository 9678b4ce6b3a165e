export * from './log-line';
