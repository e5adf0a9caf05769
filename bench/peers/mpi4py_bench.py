# tsrun's Open MPI peer for bench/collectives.ts: Allreduce, Bcast and Allgather through mpi4py on numpy
# buffers, timed like bench/collectives-rank.ts (barrier before every iteration, median seconds).
# Started by mpirun; rank 0 prints one JSON line per (op, bytes).
import json
import os
import statistics
import time

import numpy as np
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, world = comm.Get_rank(), comm.Get_size()


def warmup(nbytes):
    """Untimed calls before each measurement, as in bench/peers/torch_gloo.py and bench/collectives-rank.ts."""
    return 1000 if nbytes <= 65536 else 1


sizes = [int(s) for s in os.environ.get("SIZES", "4,1024,65536,1048576,16777216,67108864").split(",")]
# Process-wide warm-up, the same in every peer: the timed loop's calls at 4 B, untimed.
w, wy, wg = np.ones(1, dtype=np.float32), np.empty(1, dtype=np.float32), np.empty(world, dtype=np.float32)
for _ in range(1000):
    comm.Barrier()
    comm.Allreduce(w, wy, op=MPI.SUM)
    comm.Bcast(w, root=0)
    comm.Allgather(w, wg)
for nbytes in sizes:
    n = max(1, nbytes // 4)
    iters = 200 if nbytes <= 65536 else (30 if nbytes <= 1 << 20 else 8)
    x = np.ones(n, dtype=np.float32)
    y = np.empty_like(x)
    g = np.empty(n * world, dtype=np.float32)
    for op, fn in [
        ("all_reduce", lambda: comm.Allreduce(x, y, op=MPI.SUM)),
        ("broadcast", lambda: comm.Bcast(x, root=0)),
        ("all_gather", lambda: comm.Allgather(x, g)),
    ]:
        for _ in range(warmup(nbytes)):
            fn()
        ts = []
        for _ in range(iters):
            comm.Barrier()
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        if rank == 0:
            print(json.dumps({"peer": "openmpi", "op": op, "world": world, "bytes": n * 4, "sec": statistics.median(ts)}), flush=True)
