// Preloaded into every rank (node --import) by the local spawner. Ranks run in their own process group
// so `tsrun` can signal a rank together with its children; the price is that a rank no longer dies with
// its launcher. If the launcher vanishes without cleaning up (SIGKILL, OOM killer), this watch notices
// within one poll and takes the rank's whole process group down, so no orphan outlives its job.
// Plain JavaScript because it is loaded before (or without) the TypeScript loader.
const parentPid = Number(process.env.TSRUN_PARENT_PID);
const pollMs = Number(process.env.TSRUN_PARENT_POLL_MS || 500);

function parentAlive() {
  try {
    process.kill(parentPid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid exists but belongs to someone else (reused) — treat as gone only on ESRCH.
    return err.code !== 'ESRCH';
  }
}

if (Number.isInteger(parentPid) && parentPid > 1) {
  const timer = setInterval(() => {
    // Reparenting to init/subreaper also means the launcher is gone.
    if (parentAlive() && process.ppid === parentPid) return;
    clearInterval(timer);
    process.stderr.write(
      `tsrun: launcher (pid ${parentPid}) is gone; rank ${process.env.RANK ?? '?'} exits\n`,
    );
    try {
      process.kill(-process.pid, 'SIGTERM');
    } catch {
      process.exit(143);
    }
    setTimeout(() => {
      try {
        process.kill(-process.pid, 'SIGKILL');
      } finally {
        process.exit(137);
      }
    }, 3000).unref();
  }, pollMs);
  timer.unref();
}
