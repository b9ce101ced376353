#!/usr/bin/env python3
"""Qdrant Edge (PyPI ``qdrant-edge-py`` 0.9.0) as the peer of @x/edge's approximate-nearest-neighbour benchmark.

Reads a dataset written by ``bench/ann/make_dataset.py`` (``base.f32``, ``queries.f32``, ``gt*.i32``,
``meta.json``), builds a shard with an HNSW index over the base vectors, and measures queries against the
exact ground truth. ONE JSON request (first argument, or stdin when there is none), ONE JSON result on
stdout (``{"error": ...}`` and exit status 1 on failure); progress on stderr. Only the standard library
and ``qdrant_edge`` are used.

Request fields (all but ``dataset`` optional):

``dataset``              the dataset directory
``workdir``              where the shard is created (a fresh temporary directory under it; removed after)
``m``, ``ef_construct``  HNSW graph parameters (default 16 and 100)
``full_scan_threshold``  Qdrant's threshold in KB under which a search (or a filter's estimated matches)
                         is scanned exactly instead of walking the graph (default 10,000, Qdrant's)
``indexing_threads``     ``max_indexing_threads`` of the HNSW build (default 0: Qdrant picks, all cores)
``segments``             ``default_segment_number`` of the optimizer (default 1: one graph, like ours)
``quantization``         ``null`` (default), ``"int8"`` (scalar) or ``"binary"``
``oversampling``         with quantization: search ``oversampling × k`` candidates in the quantized vectors
                         and rescore them with the originals (default: Qdrant's defaults, no oversampling)
``efs``                  the ``hnsw_ef`` values of the sweep (default [16, 32, 64, 128, 256])
``filtered_efs``         the sweep for filtered queries (default ``efs``)
``selectivities``        filter selectivities in percent (default [1, 10, 50]), each needs ``gt_f<s>.i32``
``k``                    neighbours per query (default 10)
``exact``                also time an exact search (``SearchParams(exact=True)``), the baseline that shows
                         the index is used (default true)

Every query is ``shard.query`` with one vector, ``limit=k``, on a shard whose search pool has one thread
(``max_search_threads=1``); the ``QueryRequest`` objects are built before the clock starts. Each
configuration runs one untimed pass over up to 20 queries, then all queries once, timed one by one.
Recall@k of a query is the share of the first k ground-truth ids (fewer when the filter matches fewer
points) found among its k results.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from array import array
from typing import Any

import qdrant_edge as qe

UPSERT_BATCH = 1000
WARMUP = 20


def log(message: str) -> None:
    print(f"ann_peer: {message}", file=sys.stderr, flush=True)


def memory() -> dict:
    """Resident memory of this process (bytes), from /proc/self/status."""
    out: dict[str, int] = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                    out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def read_array(path: str, typecode: str, count: int) -> array:
    """``count`` little-endian values of ``typecode`` (``"f"`` or ``"i"``) from a raw file."""
    values = array(typecode)
    with open(path, "rb") as f:
        values.frombytes(f.read())
    if sys.byteorder != "little":
        values.byteswap()
    if len(values) != count:
        raise ValueError(f"{path}: expected {count} values, found {len(values)}")
    return values


def rows(values: array, count: int, width: int) -> list:
    return [values[i * width:(i + 1) * width] for i in range(count)]


def recall(results: list, gt: list, k: int) -> float:
    """Mean recall@k: per query, the share of its first k ground-truth ids (ignoring -1 padding) found."""
    total = 0.0
    counted = 0
    for found, truth in zip(results, gt):
        expected = [i for i in truth[:k] if i >= 0]
        if not expected:
            continue
        total += len(set(found) & set(expected)) / len(expected)
        counted += 1
    return total / counted if counted else 1.0


def timed_queries(shard: Any, requests: list) -> tuple[list, list]:
    """Runs an untimed warm-up, then every request once; returns the ids found and each call's seconds."""
    for request in requests[:WARMUP]:
        shard.query(request)
    found, seconds = [], []
    for request in requests:
        t = time.perf_counter()
        hits = shard.query(request)
        seconds.append(time.perf_counter() - t)
        found.append([hit.id for hit in hits])
    return found, seconds


def summary(found: list, seconds: list, gt: list, k: int) -> dict:
    ordered = sorted(seconds)
    return {
        "qps": round(len(seconds) / sum(seconds), 1),
        "recall": round(recall(found, gt, k), 4),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 4),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 4),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 4),
    }


def quantization_config(kind: str | None) -> Any:
    if kind is None:
        return None
    if kind == "int8":
        return qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8)
    if kind == "binary":
        return qe.BinaryQuantizationConfig()
    raise ValueError(f"unknown quantization {kind!r}; expected null, 'int8' or 'binary'")


def run(req: dict) -> dict:
    directory = req["dataset"]
    with open(os.path.join(directory, "meta.json")) as f:
        meta = json.load(f)
    n, q, dim, gt_k = meta["n"], meta["q"], meta["dim"], meta["gt_k"]
    m = req.get("m", 16)
    ef_construct = req.get("ef_construct", 100)
    full_scan_threshold = req.get("full_scan_threshold", 10_000)
    indexing_threads = req.get("indexing_threads", 0)
    segments = req.get("segments", 1)
    quantization = req.get("quantization")
    oversampling = req.get("oversampling")
    efs = req.get("efs", [16, 32, 64, 128, 256])
    filtered_efs = req.get("filtered_efs", efs)
    selectivities = req.get("selectivities", [1, 10, 50])
    k = req.get("k", 10)
    memory_start = memory()

    base = rows(read_array(os.path.join(directory, "base.f32"), "f", n * dim), n, dim)
    queries = [v.tolist() for v in rows(read_array(os.path.join(directory, "queries.f32"), "f", q * dim), q, dim)]

    def gt_rows(name: str) -> list:
        return [list(r) for r in rows(read_array(os.path.join(directory, name), "i", q * gt_k), q, gt_k)]

    gt = gt_rows("gt.i32")
    config = qe.EdgeConfig(
        vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine),
        hnsw_config=qe.HnswIndexConfig(
            m=m,
            ef_construct=ef_construct,
            full_scan_threshold=full_scan_threshold,
            max_indexing_threads=indexing_threads,
        ),
        quantization_config=quantization_config(quantization),
        # indexing_threshold (KB) well under the data, so that optimize() always builds the graph.
        optimizers=qe.EdgeOptimizersConfig(default_segment_number=segments, indexing_threshold=1),
        max_search_threads=1,
    )
    os.makedirs(req.get("workdir") or tempfile.gettempdir(), exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="qdrant-ann-", dir=req.get("workdir"))
    try:
        shard = qe.EdgeShard.create(os.path.join(workdir, "shard"), config)
        shard.update(qe.UpdateOperation.create_field_index(
            "bucket", qe.IntegerIndexParams(lookup=False, range=True)))
        log(f"upserting {n} points")
        t = time.perf_counter()
        for at in range(0, n, UPSERT_BATCH):
            points = [qe.Point(i, base[i], {"bucket": i % 100}) for i in range(at, min(n, at + UPSERT_BATCH))]
            shard.update(qe.UpdateOperation.upsert_points(points))
        upsert_s = time.perf_counter() - t
        before = shard.info()
        memory_upserted = memory()
        log("optimize (HNSW build)")
        cpu = os.times()
        t = time.perf_counter()
        optimized = shard.optimize()
        build_s = time.perf_counter() - t
        build_cpu_s = (os.times().user - cpu.user) + (os.times().system - cpu.system)
        info = shard.info()
        memory_built = memory()

        rescoring = None if oversampling is None else qe.QuantizationSearchParams(rescore=True, oversampling=oversampling)

        def requests(ef: int | None, flt: Any = None) -> list:
            params = qe.SearchParams(exact=True) if ef is None else qe.SearchParams(hnsw_ef=ef, quantization=rescoring)
            return [qe.QueryRequest(limit=k, query=qe.Query.Nearest(v), filter=flt, params=params) for v in queries]

        unfiltered = []
        for ef in efs:
            found, seconds = timed_queries(shard, requests(ef))
            unfiltered.append({"ef": ef, **summary(found, seconds, gt, k)})
            log(f"ef {ef}: {unfiltered[-1]}")
        exact = None
        if req.get("exact", True):
            found, seconds = timed_queries(shard, requests(None))
            exact = summary(found, seconds, gt, k)
            log(f"exact: {exact}")
        filtered = []
        for s in selectivities:
            flt = qe.Filter(must=[qe.FieldCondition(key="bucket", range=qe.RangeFloat(lt=s))])
            gt_s = gt_rows(f"gt_f{s}.i32")
            for ef in filtered_efs:
                found, seconds = timed_queries(shard, requests(ef, flt))
                filtered.append({"selectivity": s, "ef": ef, **summary(found, seconds, gt_s, k)})
                log(f"filter {s} %, ef {ef}: {filtered[-1]}")
        memory_queried = memory()
        shard.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    hnsw_qps = max((row["qps"] for row in unfiltered), default=None)
    return {
        "engine": f"qdrant-edge-py {_dist_version()}",
        "dataset": {"dir": directory, "n": n, "q": q, "dim": dim, "model": meta.get("model")},
        "config": {
            "distance": "Cosine",
            "m": m,
            "ef_construct": ef_construct,
            "full_scan_threshold_kb": full_scan_threshold,
            "max_indexing_threads": f"{indexing_threads} (0: Qdrant picks; see build_cpu_s / build_s)",
            "default_segment_number": segments,
            "quantization": quantization,
            "oversampling": oversampling,
            "max_search_threads": 1,
            "payload_index": "bucket: integer (range)",
            "k": k,
        },
        "upsert_s": round(upsert_s, 3),
        "build_s": round(build_s, 3),
        "build_points_per_s": round(n / build_s, 1),
        # CPU seconds of the process over the build: over build_s, the threads the build kept busy.
        "build_cpu_s": round(build_cpu_s, 3),
        "optimize_returned": optimized,
        "info_before_optimize": _info(before),
        "info": _info(info),
        # The graph is searched if optimize indexed the vectors and queries beat the exact scan (unknown
        # without the exact run).
        "hnsw_used": None if exact is None else info.indexed_vectors_count == n and hnsw_qps > 2 * exact["qps"],
        "unfiltered": unfiltered,
        "exact": exact,
        "filtered": filtered,
        # Other work on the machine skews every timing: the 1-, 5- and 15-minute load averages at the end.
        "load": [round(x, 2) for x in os.getloadavg()],
        "memory": {
            "start": memory_start,
            "after_upsert": memory_upserted,
            "after_build": memory_built,
            "after_queries": memory_queried,
        },
    }


def _info(info: Any) -> dict:
    return {
        "segments_count": info.segments_count,
        "points_count": info.points_count,
        "indexed_vectors_count": info.indexed_vectors_count,
    }


def _dist_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("qdrant-edge-py")
    except Exception:
        return None


def main() -> int:
    try:
        req = json.loads(sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read())
        result = run(req)
    except BaseException as e:  # pyo3 panics derive from BaseException
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        sys.stdout.write(json.dumps({"error": f"{type(e).__name__}: {e}"}) + "\n")
        return 1
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
