"""tsrun's Dask peer for bench/tasks.ts: a Dask distributed LocalCluster (one scheduler, N single-threaded
worker processes) measured the way bench/tasks.ts measures tsrun's pool.

usage: /usr/bin/python3 bench/peers/dask_tasks.py [WORKERS=2] [TASKS=10000]
Prints JSON lines: {"peer": "dask-distributed", "metric": ..., "workers": N, "value": ...}.
"""
import json
import statistics
import sys
import time

from dask.distributed import Client, LocalCluster


def identity(x):
    return x


def emit(metric, workers, value, **extra):
    print(json.dumps({"peer": "dask-distributed", "metric": metric, "workers": workers, "value": value, **extra}),
          flush=True)


def main():
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    tasks = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        client.gather(client.map(identity, range(200), pure=False))  # warm the workers up
        start = time.perf_counter()
        client.gather(client.map(identity, range(tasks), pure=False))
        emit("noop_tasks_per_sec", workers, tasks / (time.perf_counter() - start), tasks=tasks)
        rtts = []
        for i in range(200):
            start = time.perf_counter()
            client.submit(identity, i, pure=False).result()
            rtts.append(time.perf_counter() - start)
        emit("task_roundtrip_sec", workers, statistics.median(rtts))


if __name__ == "__main__":
    main()
