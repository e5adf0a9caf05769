/**
 * Write-then-rename: readers of `path` see either the old file or the complete new one, never a
 * half-written result, even when the writer is killed mid-way (a job stopped by the launcher).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Atomically replace `path` with `data`; the parent directory is created when missing. `mode` applies
 * from the temp file's creation (0o600 for secrets: no moment where others could read it).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o666): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  // The temp file sits in the same directory: rename(2) is only atomic within one filesystem.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
