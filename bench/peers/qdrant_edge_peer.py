#!/usr/bin/env python3
"""Qdrant Edge (PyPI ``qdrant-edge-py`` 0.9.0) as the peer of @x/edge's benchmarks.

The TypeScript benchmarks run this script as a child process: ONE JSON request on stdin, ONE JSON result on
stdout (``{"error": ...}`` and exit status 1 on failure). The data is the same as on the TypeScript side:
the vectors come from a raw little-endian f32 file written by ``bench/_datasets.ts`` (point ``i`` is the
``i``-th row), and payloads follow the same formula (``payload_of`` below, ``payloadOf`` there). Only the
standard library and ``qdrant_edge`` are used.

Commands (``"command"`` in the request):

``upsert``   ``{vectors, n, dim, distance, batch, reps, workdir}``: for each repetition, creates a fresh shard
             in ``workdir``, builds the ``Point`` objects (untimed), then times each
             ``shard.update(UpdateOperation.upsert_points(batch))`` call; closes (timed apart) and removes
             the shard. Returns the seconds of the update calls per repetition.
``build``    ``{vectors, n, dim, distance, path}``: creates a shard of the first ``n`` points, batches of
             1,000, and closes it (used to build the shards that ``open`` and footprint measure).
``empty``    ``{dim, distance, path}``: creates an empty shard and closes it.
``open``     ``{path, vectors, dim, query_index, warm_queries}``: in this fresh process, times
             ``EdgeShard.load`` and the first query (the vector of point ``query_index``), then a few more
             queries, and reports the process's memory from ``/proc/self/status``.
``filter``   see ``cmd_filter``: filtered count and top-10 query at several selectivities.
``baseline`` ``{}``: only imports ``qdrant_edge`` and reports the process's memory.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from array import array
from typing import Any

_t_import = time.perf_counter()
import qdrant_edge as qe  # noqa: E402

IMPORT_SECONDS = time.perf_counter() - _t_import
BUILD_BATCH = 1000


def payload_of(i: int) -> dict:
    """The payload of point ``i``: the same formula as ``payloadOf`` in bench/_datasets.ts."""
    return {"i": i, "group": f"g{i % 16}", "price": (i % 1000) / 10}


def memory() -> dict:
    """Resident memory of this process (bytes), from /proc/self/status."""
    out: dict[str, int] = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def config(dim: int, distance: str) -> Any:
    return qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=dim, distance=getattr(qe.Distance, distance)))


def read_rows(path: str, start: int, count: int, dim: int) -> array:
    """Rows ``start .. start + count`` of the f32 file as one flat array('f')."""
    rows = array("f")
    with open(path, "rb") as f:
        f.seek(start * dim * 4)
        rows.frombytes(f.read(count * dim * 4))
    if sys.byteorder != "little":
        rows.byteswap()
    if len(rows) != count * dim:
        raise ValueError(f"{path}: expected {count} rows of {dim} floats from row {start}, got {len(rows)} floats")
    return rows


def points(rows: array, start: int, count: int, dim: int) -> list:
    # Point accepts any float sequence; an array slice is a compact copy of the row.
    return [qe.Point(start + j, rows[j * dim:(j + 1) * dim], payload_of(start + j)) for j in range(count)]


def cmd_upsert(req: dict) -> dict:
    n, dim, batch = req["n"], req["dim"], req["batch"]
    rows = read_rows(req["vectors"], 0, n, dim)
    reps = []
    for rep in range(req["reps"]):
        path = os.path.join(req["workdir"], f"qdrant-upsert-b{batch}-r{rep}")
        shutil.rmtree(path, ignore_errors=True)
        t = time.perf_counter()
        pts = points(rows, 0, n, dim)
        construct = time.perf_counter() - t
        shard = qe.EdgeShard.create(path, config(dim, req["distance"]))
        seconds = 0.0
        for at in range(0, n, batch):
            chunk = pts[at:at + batch]
            t = time.perf_counter()
            shard.update(qe.UpdateOperation.upsert_points(chunk))
            seconds += time.perf_counter() - t
        count = shard.count(qe.CountRequest(exact=True))
        t = time.perf_counter()
        shard.close()
        close = time.perf_counter() - t
        shutil.rmtree(path, ignore_errors=True)
        if count != n:
            raise RuntimeError(f"expected {n} points after the upserts, the shard counts {count}")
        reps.append({"upsert_s": seconds, "point_construct_s": construct, "close_s": close})
    return {"reps": reps}


def cmd_build(req: dict) -> dict:
    n, dim, path = req["n"], req["dim"], req["path"]
    shutil.rmtree(path, ignore_errors=True)
    t = time.perf_counter()
    shard = qe.EdgeShard.create(path, config(dim, req["distance"]))
    for at in range(0, n, BUILD_BATCH):
        count = min(BUILD_BATCH, n - at)
        shard.update(qe.UpdateOperation.upsert_points(points(read_rows(req["vectors"], at, count, dim), at, count, dim)))
    got = shard.count(qe.CountRequest(exact=True))
    shard.close()
    if got != n:
        raise RuntimeError(f"expected {n} points in the built shard, it counts {got}")
    return {"build_s": time.perf_counter() - t}


def cmd_empty(req: dict) -> dict:
    shutil.rmtree(req["path"], ignore_errors=True)
    qe.EdgeShard.create(req["path"], config(req["dim"], req["distance"])).close()
    return {}


def cmd_open(req: dict) -> dict:
    dim, index = req["dim"], req["query_index"]
    query = read_rows(req["vectors"], index, 1, dim).tolist()
    request = qe.QueryRequest(limit=10, query=qe.Query.Nearest(query))
    t0 = time.perf_counter()
    shard = qe.EdgeShard.load(req["path"])
    t1 = time.perf_counter()
    hits = shard.query(request)
    t2 = time.perf_counter()
    mem = memory()
    warm = []
    for _ in range(req.get("warm_queries", 5)):
        t = time.perf_counter()
        shard.query(request)
        warm.append(time.perf_counter() - t)
    top = hits[0].id if hits else None
    count = shard.count(qe.CountRequest(exact=True))
    shard.close()
    return {
        "import_ms": IMPORT_SECONDS * 1000,
        "load_ms": (t1 - t0) * 1000,
        "first_query_ms": (t2 - t1) * 1000,
        "warm_query_ms": statistics.median(warm) * 1000 if warm else None,
        "top_id": top,
        "count": count,
        "memory": mem,
    }


def cmd_filter(req: dict) -> dict:
    """``{vectors, n, dim, distance, workdir, selectivities, queries, indexed}``: builds a shard of ``n``
    points (with a float index on ``price`` when ``indexed``), then for each selectivity ``s`` (the filter
    ``price < 100 * s``) times ``count`` and a top-10 filtered query per query vector (rows after ``n``).
    Returns per selectivity the median milliseconds, the count, and the ids of each query's hits."""
    n, dim = req["n"], req["dim"]
    path = os.path.join(req["workdir"], f"qdrant-filter-{int(req['indexed'])}")
    shutil.rmtree(path, ignore_errors=True)
    shard = qe.EdgeShard.create(path, config(dim, req["distance"]))
    if req["indexed"]:
        shard.update(qe.UpdateOperation.create_field_index("price", qe.PayloadSchemaType.Float))
    rows = read_rows(req["vectors"], 0, n, dim)
    for start in range(0, n, BUILD_BATCH):
        points = [
            qe.Point(i, rows[i * dim:(i + 1) * dim].tolist(), payload_of(i)) for i in range(start, min(n, start + BUILD_BATCH))
        ]
        shard.update(qe.UpdateOperation.upsert_points(points))
    queries = read_rows(req["vectors"], n, req["queries"], dim)
    out = []
    for selectivity in req["selectivities"]:
        flt = qe.Filter(must=[qe.FieldCondition(key="price", range=qe.RangeFloat(lt=100 * selectivity))])
        count_ms, query_ms, hits, count = [], [], [], 0
        for q in range(req["queries"]):
            t = time.perf_counter()
            count = shard.count(qe.CountRequest(filter=flt, exact=True))
            count_ms.append((time.perf_counter() - t) * 1000)
            vector = queries[q * dim:(q + 1) * dim].tolist()
            t = time.perf_counter()
            found = shard.query(qe.QueryRequest(limit=10, query=qe.Query.Nearest(vector), filter=flt))
            query_ms.append((time.perf_counter() - t) * 1000)
            hits.append([p.id for p in found])
        out.append({
            "selectivity": selectivity,
            "count": count,
            "count_ms": statistics.median(count_ms),
            "query_ms": statistics.median(query_ms),
            "hits": hits,
        })
    shard.close()
    shutil.rmtree(path, ignore_errors=True)
    return {"rows": out}


def cmd_baseline(_req: dict) -> dict:
    return {"import_ms": IMPORT_SECONDS * 1000, "memory": memory()}


COMMANDS = {
    "upsert": cmd_upsert,
    "build": cmd_build,
    "empty": cmd_empty,
    "open": cmd_open,
    "filter": cmd_filter,
    "baseline": cmd_baseline,
}


def main() -> int:
    try:
        req = json.loads(sys.stdin.read())
        command = COMMANDS.get(req.get("command"))
        if command is None:
            raise ValueError(f"unknown command {req.get('command')!r}; expected one of {sorted(COMMANDS)}")
        result = command(req)
        result["qdrant_edge_version"] = getattr(qe, "__version__", None) or _dist_version()
    except BaseException as e:  # pyo3 panics derive from BaseException
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        sys.stdout.write(json.dumps({"error": f"{type(e).__name__}: {e}"}) + "\n")
        return 1
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


def _dist_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("qdrant-edge-py")
    except Exception:
        return None


if __name__ == "__main__":
    sys.exit(main())
