#!/usr/bin/env node
// Shim: registers the TypeScript loader of this package, then runs the CLI, so `npx tsrun` and
// `node bin/tsrun.js` work from any directory without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../launcher/cli.ts');
