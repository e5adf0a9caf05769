/** tsrun: run one TypeScript program on many processes and hosts. */
export * from '../collectives/index.js';
export { type RankEnvironment, readRankEnvironment } from './env.js';
export * from './pool/index.js';
