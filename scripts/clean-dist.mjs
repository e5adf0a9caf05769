// Empties dist/ before a build, so a module deleted from the sources never ships from an old build.
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
