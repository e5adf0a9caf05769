export { type CommonFlags, experimentCli, requirePositive, UsageError } from './flags.js';
export { Progress } from './progress.js';
export { printPaperText, writeResult } from './result.js';
export { runMain } from './run-main.js';
