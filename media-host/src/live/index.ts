export * from './audio-mixer';
export * from './live-monitor';
export * from './websocket';
