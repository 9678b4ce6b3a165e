export * from './comms-notifications';
export * from './invite';
export * from './roster';
