# Starts N ranks of a torch.distributed script on this host with the environment torchrun would give
# them (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT): Debian's torchrun
# (torch 1.13) fails on Python 3.11. Usage: launch_torch.py N script.py [args...]; MASTER_PORT from the
# environment (default 29511). Exits with the first non-zero rank status; a failed rank stops the others.
import os
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 3 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 1:
        sys.exit("usage: launch_torch.py N script.py [args...]  (N = number of ranks, at least 1)")
    n = int(sys.argv[1])
    port = os.environ.get("MASTER_PORT", "29511")
    procs = []
    for r in range(n):
        env = dict(os.environ, RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(n), LOCAL_WORLD_SIZE=str(n),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=port, OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen([sys.executable] + sys.argv[2:], env=env))
    rc = 0
    while procs:
        for p in list(procs):
            code = p.poll()
            if code is None:
                continue
            procs.remove(p)
            if code != 0 and rc == 0:
                rc = code
                for q in procs:
                    q.terminate()
        time.sleep(0.05)
    sys.exit(rc)


main()
