export * from './listen-token';
export * from './listen-subprotocol';
