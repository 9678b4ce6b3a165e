export * from './completeness';
export * from './export-package';
