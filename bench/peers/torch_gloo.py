# tsrun's gloo peer for bench/collectives.ts: torch.distributed (gloo, CPU) all_reduce, broadcast and
# all_gather timed the way bench/collectives-rank.ts times tsrun (barrier before every iteration, median
# seconds). Started by launch_torch.py (RANK/WORLD_SIZE/MASTER_* per process); rank 0 prints one JSON
# line per (op, bytes).
import json
import os
import statistics
import time

import torch
import torch.distributed as dist


def warmup(nbytes):
    """Untimed calls before each measurement, the same in every peer of bench/collectives.ts: 1,000 up to
    64 KiB (V8's JIT in tsrun's ranks reaches steady state after ~1,000 calls), 1 above (bandwidth-bound)."""
    return 1000 if nbytes <= 65536 else 1


def timed(fn, iters):
    ts = []
    for _ in range(iters):
        dist.barrier()
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    sizes = [int(s) for s in os.environ.get("SIZES", "4,1024,65536,1048576,16777216,67108864").split(",")]
    # Process-wide warm-up, the same in every peer: the timed loop's calls at 4 B, untimed.
    w = torch.ones(1, dtype=torch.float32)
    wo = [torch.empty(1, dtype=torch.float32) for _ in range(world)]
    for _ in range(1000):
        dist.barrier()
        dist.all_reduce(w)
        dist.broadcast(w, 0)
        dist.all_gather(wo, w)
    for nbytes in sizes:
        n = max(1, nbytes // 4)
        iters = 200 if nbytes <= 65536 else (30 if nbytes <= 1 << 20 else 8)
        x = torch.ones(n, dtype=torch.float32)
        outs = [torch.empty(n, dtype=torch.float32) for _ in range(world)]
        for op, fn in [
            ("all_reduce", lambda: dist.all_reduce(x)),
            ("broadcast", lambda: dist.broadcast(x, 0)),
            ("all_gather", lambda: dist.all_gather(outs, x)),
        ]:
            for _ in range(warmup(nbytes)):
                fn()
            t = timed(fn, iters)
            if rank == 0:
                print(json.dumps({"peer": "torch-gloo", "op": op, "world": world, "bytes": n * 4, "sec": t}), flush=True)
    dist.destroy_process_group()


main()
