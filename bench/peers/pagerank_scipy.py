"""tsrun's peer for global PageRank: scipy sparse power iteration in one process.

The graph is the edge CSV read as undirected (each edge both ways); damping 0.85; the mass of dangling
nodes is spread uniformly; it stops when the L1 change falls below TOL (default 1e-8).

usage: /usr/bin/python3 bench/peers/pagerank_scipy.py EDGES.csv [TOL=1e-8]
Prints one JSON line with the iterations, seconds and the top 10 [original id, score].
"""
import json
import sys
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp


def main():
    path = sys.argv[1]
    tol = float(sys.argv[2]) if len(sys.argv) > 2 else 1e-8
    start = time.time()
    edges = pd.read_csv(path, dtype=np.int64).values
    read_sec = time.time() - start
    ids, dense = np.unique(edges, return_inverse=True)
    dense = dense.reshape(-1, 2)
    n = len(ids)
    src = np.concatenate([dense[:, 0], dense[:, 1]])
    dst = np.concatenate([dense[:, 1], dense[:, 0]])
    degree = np.bincount(src, minlength=n).astype(np.float64)
    transition = sp.csr_matrix((1.0 / degree[src], (dst, src)), shape=(n, n))
    dangling = degree == 0
    damping = 0.85
    x = np.full(n, 1.0 / n)
    for iteration in range(1, 1001):
        nxt = damping * (transition @ x) + (1 - damping + damping * x[dangling].sum()) / n
        change = np.abs(nxt - x).sum()
        x = nxt
        if change < tol:
            break
    top = np.argsort(-x)[:10]
    print(json.dumps({"peer": "scipy", "exp": "pagerank-global", "edges": len(edges), "nodes": n,
                      "iters": iteration, "read_sec": read_sec, "sec": time.time() - start,
                      "top10": [[int(ids[i]), float(x[i])] for i in top]}), flush=True)


if __name__ == "__main__":
    main()
