export * from './capture-merge';
export * from './interaction-manifest';
export * from './playback-plan';
