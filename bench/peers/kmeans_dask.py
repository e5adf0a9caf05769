"""tsrun's peer for the paper-mode k-means: the seed's Ray method with Dask distributed in Ray's place.

One task per block of CSV rows (about 20 MiB of text), scikit-learn KMeans(16, random_state=42) on the
(node1, node2) rows as 2-D points, the Calinski-Harabasz score per block, the mean over blocks.

usage: /usr/bin/python3 bench/peers/kmeans_dask.py EDGES.csv WORKERS [ROWS_PER_BLOCK=1200000]
Prints one JSON line: {"peer": "dask+sklearn", "exp": "kmeans-blocks", ..., "ch_mean": ..., "sec": ...}.
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from dask.distributed import Client, LocalCluster


def score_block(points):
    from sklearn.cluster import KMeans
    from sklearn.metrics import calinski_harabasz_score

    labels = KMeans(n_clusters=16, random_state=42, n_init=1).fit(points).labels_
    return calinski_harabasz_score(points, labels)


def main():
    path, workers = sys.argv[1], int(sys.argv[2])
    rows_per_block = int(sys.argv[3]) if len(sys.argv) > 3 else 1_200_000
    start = time.time()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        blocks = pd.read_csv(path, chunksize=rows_per_block, dtype=np.int64)
        scores = client.gather([client.submit(score_block, b.values, pure=False) for b in blocks])
    print(json.dumps({"peer": "dask+sklearn", "exp": "kmeans-blocks", "workers": workers, "blocks": len(scores),
                      "ch_mean": float(np.mean(scores)), "sec": time.time() - start}), flush=True)


if __name__ == "__main__":
    main()
