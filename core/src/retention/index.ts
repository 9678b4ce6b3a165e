export * from './retention-class';
export * from './legal-hold';
