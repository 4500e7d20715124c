export * from './frames';
export * from './connection';
export * from './messages';
