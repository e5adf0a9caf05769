#!/usr/bin/env node
// Entry of the `tsrun` command. An installed package runs its compiled launcher (dist/). A clone of the
// repository has no build step: there the launcher runs from its TypeScript sources under tsx, and the
// ranks it starts resolve `import 'tsrun'` to the sources too (the `tsrun-source` export condition).
import { existsSync } from 'node:fs';

const source = new URL('../launcher/cli.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/launcher/cli.js');
}
