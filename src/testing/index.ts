/** tsrun/testing: run SPMD functions on real local ranks from any test runner. */
export {
  RankFailedError,
  type RankOutcome,
  type RunRanksOptions,
  runRanks,
  runRanksSettled,
  runRanksWith,
} from './run-ranks.js';
