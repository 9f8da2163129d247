"""``python -m bench.dask_target``: the generated ``value_and_grad_ce`` on Dask arrays.

Throughput (the default): the note's NumPy module on an in-memory X of ``--rows`` ×
``--features`` float64, against the same function given the same data as a Dask array
of row chunks (``--chunk-mib`` MiB each), on the threads scheduler and on a LocalCluster
of 2 worker processes (1 thread each) that hold the data; the median of ``--repeats``
calls each, and the ratios to NumPy. ``--disk GIB`` instead writes a float64 X of GIB GiB
(n = 100) to a file, computes ``grad_ce`` over it with 2 workers whose memory limit is
1 GiB, and reports the time, the workers' peak memory and the difference from the NumPy
module's sums over the file read piece by piece. Needs ``pip install '.[dask]'``.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GENERATED = Path(__file__).resolve().parent.parent / "generated"


def module():
    """The note's generated NumPy module, imported as ``logistic_regression``."""
    if str(GENERATED) not in sys.path:
        sys.path.insert(0, str(GENERATED))
    import logistic_regression

    return logistic_regression


def cluster(**options):
    """A LocalCluster of 2 worker processes of 1 thread, with the generated module on
    their path (``PYTHONPATH``), and its Client."""
    from dask.distributed import Client, LocalCluster

    module()
    options.setdefault("local_directory", tempfile.mkdtemp(prefix="derive-dask-workers-"))
    local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         dashboard_address=None, env={"PYTHONPATH": str(GENERATED)}, **options)
    return local, Client(local)


def median_seconds(call, repeats):
    call()  # the first call warms the caches and the pools
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def throughput(m, n, repeats, chunk_mib):
    import dask
    import dask.array as da

    f = module().value_and_grad_ce
    rows = max(1, chunk_mib * 2**20 // (8 * n))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(m, n))
    y = (rng.random(m) < 0.5).astype(np.float64)
    w, b = rng.normal(size=n) / np.sqrt(n), 0.1
    seconds = {"numpy": median_seconds(lambda: f(w, b, X, y), repeats)}
    Xd, yd = da.from_array(X, chunks=(rows, n)), da.from_array(y, chunks=rows)
    with dask.config.set(scheduler="threads"):
        seconds["dask, threads"] = median_seconds(lambda: f(w, b, Xd, yd), repeats)
    local, client = cluster()
    try:
        Xc, yc = client.persist(Xd), client.persist(yd)  # the same data, on the workers
        seconds["dask, 2-worker LocalCluster"] = median_seconds(lambda: f(w, b, Xc, yc),
                                                                repeats)
    finally:
        client.close()
        local.close()
    return {"m": m, "n": n, "chunk_rows": rows, "seconds": seconds,
            "ratio_to_numpy": {name: s / seconds["numpy"] for name, s in seconds.items()}}


def write_on_disk(folder, m, n, piece=200_000):
    """X (m, n) and y (m,) as .npy files in ``folder``, written piece by piece."""
    rng = np.random.default_rng(1)
    X = np.lib.format.open_memmap(folder / "X.npy", mode="w+", dtype=np.float64, shape=(m, n))
    y = np.lib.format.open_memmap(folder / "y.npy", mode="w+", dtype=np.float64, shape=(m,))
    w = rng.normal(size=n) / np.sqrt(n)
    for start in range(0, m, piece):
        rows = rng.normal(size=(min(piece, m - start), n))
        X[start:start + len(rows)] = rows
        y[start:start + len(rows)] = rows @ w + rng.normal(size=len(rows)) > 0
    X.flush()
    y.flush()
    return w


def gradient_on_disk(folder, gib=3.0, n=100, chunk_mib=64, memory_limit="1GiB"):
    """grad_ce over a float64 X of ``gib`` GiB on disk, on 2 workers of ``memory_limit``:
    its time, the workers' peak memory, and its difference from the NumPy module's."""
    import dask.array as da

    folder = Path(folder)
    m, rows = int(gib * 2**30) // (8 * n), chunk_mib * 2**20 // (8 * n)
    w = write_on_disk(folder, m, n)
    X_path, y_path = str(folder / "X.npy"), str(folder / "y.npy")

    def from_disk(path, block_info=None):  # runs on a worker: reads its rows only
        (start, stop), *_ = block_info[None]["array-location"]
        return np.array(np.load(path, mmap_mode="r")[start:stop])

    chunks = (tuple(min(rows, m - start) for start in range(0, m, rows)),)
    X = da.map_blocks(from_disk, X_path, chunks=(*chunks, (n,)), dtype=np.float64,
                      meta=np.empty((0, 0)))
    y = da.map_blocks(from_disk, y_path, chunks=chunks, dtype=np.float64, meta=np.empty(0))
    local, client = cluster(memory_limit=memory_limit, local_directory=str(folder / "workers"))
    try:
        started = time.perf_counter()
        dw, db = module().grad_ce(w, 0.1, X, y)
        seconds = time.perf_counter() - started
        peaks = client.run(_peak_memory)
        workers = len(client.scheduler_info()["workers"])
    finally:
        client.close()
        local.close()
    X, y = np.load(X_path, mmap_mode="r"), np.load(y_path, mmap_mode="r")
    sums = [module().grad_ce(w, 0.1, X[start:start + rows], y[start:start + rows], "sum")
            for start in range(0, m, rows)]
    expected = np.append(sum(s[0] for s in sums), sum(s[1] for s in sums)) / m
    got = np.append(dw, db)
    return {"gib": gib, "m": m, "n": n, "chunk_rows": rows, "memory_limit": memory_limit,
            "seconds": seconds, "workers": workers,
            "peak_worker_mib": max(peaks.values()) / 2**20,
            "relative_difference": float(np.max(np.abs(got - expected))
                                         / np.max(np.abs(expected)))}


def _peak_memory():
    """The peak resident memory of this process in bytes (VmHWM, Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.dask_target", description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--chunk-mib", type=int, default=128)
    parser.add_argument("--disk", type=float, metavar="GIB", help="the run on disk instead")
    parser.add_argument("--json", type=Path, help="write the results here")
    options = parser.parse_args(argv)
    if options.disk:
        with tempfile.TemporaryDirectory(prefix="derive-dask-") as folder:
            report = gradient_on_disk(folder, options.disk, chunk_mib=options.chunk_mib)
        print(json.dumps(report, indent=2))
    else:
        report = throughput(options.rows, options.features, options.repeats, options.chunk_mib)
        print(f"value_and_grad_ce, m = {report['m']:,}, n = {report['n']}, "
              f"chunks of {report['chunk_rows']:,} rows: median seconds (ratio to NumPy)")
        for name, seconds in report["seconds"].items():
            print(f"| {name} | {seconds:.4f} s | {report['ratio_to_numpy'][name]:.2f}× |")
    if options.json:
        options.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
