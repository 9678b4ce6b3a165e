export * from './capture-merge';
export * from './interaction-manifest';
