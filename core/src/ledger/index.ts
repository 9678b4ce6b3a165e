export * from './canonical-json';
export * from './ledger-entry';
export * from './checkpoint';
export * from './verify-ledger';
