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
sizes = [int(s) for s in os.environ.get("SIZES", "4,1024,65536,1048576,16777216,67108864").split(",")]
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
        fn()  # warm-up
        ts = []
        for _ in range(iters):
            comm.Barrier()
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        if rank == 0:
            print(json.dumps({"peer": "openmpi", "op": op, "world": world, "bytes": n * 4, "sec": statistics.median(ts)}), flush=True)
