// Copies the files of the library that are not TypeScript (the dashboard page, the rank's parent watch)
// into dist/, beside the compiled modules that load them by a path relative to themselves.
import { cpSync } from 'node:fs';

const assets = ['src/dashboard/page', 'src/process/parent-watch.mjs'];
for (const rel of assets) cpSync(rel, `dist/${rel}`, { recursive: true });
