#!/usr/bin/env python3
"""Qdrant Edge oracle for differential tests of @x/edge.

Runs one scenario against real Qdrant Edge (PyPI ``qdrant-edge-py`` 0.9.0, module ``qdrant_edge``):
reads ONE JSON document from stdin, writes ONE JSON document to stdout.

Request::

    {
      "config":   {"vectors": {"<name>": {"size": 4, "distance": "Cosine"|"Dot"|"Euclid"|"Manhattan",
                                          "datatype": "float32"|"float16"|"uint8" (optional)}}},
      "points":   [{"id": 1 | "uuid", "vector": [..] | {"<name>": [..]}, "payload": {...} | null}],
      "ops":      [ {"delete_points": {"points": [1, 2]}}, ... ]            (optional, applied in order)
      "queries":  [{"query": [..] | null, "using": "<name>", "limit": 10, "offset": 0,
                    "score_threshold": null | number, "with_payload": bool, "with_vector": bool,
                    "filter": {REST filter} (optional)}],
      "retrieve": [ids...]   or   {"ids": [...], "with_payload": bool, "with_vector": bool}   (optional)
      "scrolls":  [{"filter"?, "limit"?, "offset"?: id, "order_by"?: "key" | {"key", "direction"?: "asc"|"desc",
                    "start_from"?: number | datetime string}, "with_payload"?, "with_vector"?,
                    "all_pages"?: bool, "max_pages"?: int}]                   (optional)
      "counts":   [{"filter"?, "exact"?: bool (default true)}]                (optional)
      "facets":   [{"key", "limit"?, "exact"?, "filter"?}]                    (optional)
    }

scrolls, counts and facets run after the points and ops, in one process on one shard, so thousands of them cost
little more than the engine's own work. Unset fields take qdrant_edge's defaults (scroll limit 10; facet limit 10,
exact false; count exact true).

Response::

    {"results": [[{"id", "score", "version", "payload"?, "vector"?}, ...], ...],   # one list per query
     "retrieve": [{"id", "payload", "vector"}, ...],                                # only when asked
     "count": <exact count>,
     "info": {"segments_count", "points_count", "indexed_vectors_count"},
     "scrolls": [{"ids": [...], "next_page_offset": id | null,             # one per scroll, only when asked
                  "order_values": [...]  (only with order_by: the value each record was ordered by),
                  "payloads": [...]      (only when the item set with_payload to something other than false),
                  "vectors": [...]       (only when the item set with_vector to something other than false)}
                 or, with "all_pages": {"pages": [<one such object per page>, ...]}
                    (follows next_page_offset until it is null, at most max_pages (default 1000) pages)],
     "counts":  [n, ...],
     "facets":  [{"hits": [{"value": str | int | bool, "count": n}, ...]}, ...]}

Within scrolls, counts and facets, an item the engine refuses (including a filter qdrant_edge cannot build, e.g.
a float in match.value) becomes ``{"error": "<message exactly as raised>", "error_type": "<exception class>"}``
in place of its result, and the other items still run: the messages are the ones @x/edge must reproduce.
A request the oracle itself cannot understand (an unknown condition, a missing field) still fails as a whole.

On any error: ``{"error": "<message>", "error_type": "<python exception class>"}`` on stdout, exit status 1.

Supported ops (one key per object; REST batch-update names and the qdrant_edge method names both work):
  upsert / upsert_points            {"points": [point, ...], "update_mode"?: "upsert"|"insert_only"|"update_only",
                                     "condition"?: filter}
  delete / delete_points            {"points": [ids]} | {"filter": filter}
  set_payload, overwrite_payload    {"payload": {...}, "points": [ids] | "filter": filter, "key"?: "a.b"}
  delete_payload                    {"keys": [...], "points": [ids] | "filter": filter}
  clear_payload                     {"points": [ids]} | {"filter": filter}
  update_vectors                    {"points": [{"id", "vector"}], "update_filter"?: filter}
  delete_vectors                    {"vector": [names], "points": [ids] | "filter": filter}
  create_field_index                {"field_name": "k", "field_schema": "keyword"|"integer"|"float"|"geo"|
                                     "text"|"bool"|"datetime"|"uuid"}
  delete_field_index                {"field_name": "k"}
  flush / optimize                  {} (anything)

Output conventions: integer ids are JSON numbers, UUID ids are canonical lowercase strings; scores and vector
components are the f32 values qdrant_edge returns widened to f64 (e.g. 0.6000000238418579); non-finite floats
are written as the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers). Named-vector dicts are
emitted with sorted keys (qdrant_edge's own dict order is a hash-map order and varies between calls).
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import uuid
from typing import Any

import qdrant_edge as qe

UPSERT_BATCH = 256


class OracleError(Exception):
    """A malformed request (as opposed to an error raised by qdrant_edge)."""


# ----------------------------------------------------------------------------------------------------------------
# JSON -> qdrant_edge
# ----------------------------------------------------------------------------------------------------------------

def _enum_member(enum_cls: Any, name: Any, what: str) -> Any:
    if not isinstance(name, str):
        raise OracleError(f"{what} must be a string, got {name!r}")
    wanted = name.replace("_", "").lower()
    for member in dir(enum_cls):
        if not member.startswith("_") and member.replace("_", "").lower() == wanted:
            return getattr(enum_cls, member)
    options = [m for m in dir(enum_cls) if not m.startswith("_") and m[0].isupper()]
    raise OracleError(f"unknown {what} {name!r} (expected one of {options})")


def build_config(cfg: Any) -> qe.EdgeConfig:
    if not isinstance(cfg, dict):
        raise OracleError("'config' must be an object")
    vectors = cfg.get("vectors")
    if not isinstance(vectors, dict) or not vectors:
        raise OracleError("'config.vectors' must be a non-empty object of name -> {size, distance, datatype?}")
    params: dict[str, qe.EdgeVectorParams] = {}
    for name, p in vectors.items():
        if not isinstance(p, dict):
            raise OracleError(f"config.vectors[{name!r}] must be an object")
        unknown = set(p) - {"size", "distance", "datatype", "on_disk"}
        if unknown:
            raise OracleError(f"config.vectors[{name!r}]: unsupported keys {sorted(unknown)}")
        size = p.get("size")
        if not isinstance(size, int) or isinstance(size, bool):
            raise OracleError(f"config.vectors[{name!r}].size must be an integer")
        kwargs: dict[str, Any] = {
            "size": size,
            "distance": _enum_member(qe.Distance, p.get("distance"), "distance"),
        }
        if p.get("datatype") is not None:
            kwargs["datatype"] = _enum_member(qe.VectorStorageDatatype, p["datatype"], "datatype")
        if p.get("on_disk") is not None:
            kwargs["on_disk"] = bool(p["on_disk"])
        params[name] = qe.EdgeVectorParams(**kwargs)
    # A dict {"": params} is exactly what EdgeConfig(vectors=<single params>) builds internally.
    return qe.EdgeConfig(vectors=params)


def point_id(value: Any) -> int | str:
    # JSON true/false would otherwise pass as the ints 1/0.
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise OracleError(f"point id must be an unsigned integer or a UUID string, got {value!r}")
    return value


def point_ids(values: Any, what: str = "points") -> list[int | str]:
    if not isinstance(values, list):
        raise OracleError(f"'{what}' must be a list of point ids")
    return [point_id(v) for v in values]


def _dense_or_sparse(v: Any) -> Any:
    if isinstance(v, dict) and set(v) == {"indices", "values"}:
        return qe.SparseVector(indices=v["indices"], values=[float(x) for x in v["values"]])
    if isinstance(v, list):
        if v and isinstance(v[0], list):  # multivector
            return [[float(x) for x in row] for row in v]
        return [float(x) for x in v]
    raise OracleError(f"vector must be a list of numbers, a list of lists or {{indices, values}}, got {v!r}")


def vector_input(v: Any) -> Any:
    if isinstance(v, dict) and set(v) != {"indices", "values"}:
        return {str(name): _dense_or_sparse(x) for name, x in v.items()}
    return _dense_or_sparse(v)


def build_point(p: Any) -> qe.Point:
    if not isinstance(p, dict) or "id" not in p:
        raise OracleError(f"point must be an object with 'id' and 'vector', got {p!r}")
    payload = p.get("payload")
    if payload is not None and not isinstance(payload, dict):
        raise OracleError(f"point {p['id']!r}: payload must be an object or null")
    return qe.Point(point_id(p["id"]), vector_input(p.get("vector", {})), payload)


def _listify(x: Any) -> list:
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def _range(r: dict) -> Any:
    if not isinstance(r, dict):
        raise OracleError(f"range must be an object, got {r!r}")
    bounds = {k: r.get(k) for k in ("gte", "gt", "lte", "lt") if r.get(k) is not None}
    if any(isinstance(v, bool) or not isinstance(v, (int, float, str)) for v in bounds.values()):
        raise OracleError(f"range bounds must be numbers or datetime strings, got {r!r}")
    if any(isinstance(v, str) for v in bounds.values()):
        return qe.RangeDateTime(**bounds)
    return qe.RangeFloat(**{k: float(v) for k, v in bounds.items()})


def _geo_point(g: Any) -> Any:
    if not isinstance(g, dict) or any(isinstance(g.get(k), bool) or not isinstance(g.get(k), (int, float))
                                      for k in ("lon", "lat")):
        raise OracleError(f"geo point must be {{lon, lat}} numbers, got {g!r}")
    return qe.GeoPoint(lon=float(g["lon"]), lat=float(g["lat"]))


class _RestBool:
    """A boolean that qdrant_edge's MatchValue reads as a boolean.

    qdrant_edge 0.9.0 extracts MatchValue's argument as ``String | Integer | Bool`` in that order, and pyo3's
    integer extraction accepts Python bools, so ``MatchValue(True)`` becomes the integer 1: it matches the
    payload value 1 and never ``true``. REST's ``{"value": true}`` is a boolean match. pyo3's bool extraction
    also accepts numpy's ``bool_`` (recognised by module and type name, read through ``__bool__``), which has no
    ``__index__``, so this stand-in fails the integer variant and lands in the Bool variant, as REST does.
    """

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return self.value


_RestBool.__module__ = "numpy"
_RestBool.__name__ = "bool_"
_RestBool.__qualname__ = "bool_"


def _match_value(v: Any) -> Any:
    if isinstance(v, bool):
        return _RestBool(v)
    return v


def _match_list(values: Any, what: str) -> list:
    # REST's AnyVariants is a list of strings or a list of integers; qdrant_edge would read bools as integers.
    if not isinstance(values, list) or any(isinstance(v, bool) for v in values):
        raise OracleError(f"match.{what} must be a list of strings or of integers, got {values!r}")
    return values


def _match(m: dict) -> Any:
    if not isinstance(m, dict):
        raise OracleError(f"match must be an object, got {m!r}")
    if "value" in m:
        return qe.MatchValue(_match_value(m["value"]))
    if "any" in m:
        return qe.MatchAny(_match_list(m["any"], "any"))
    if "except" in m:
        return qe.MatchExcept(_match_list(m["except"], "except"))
    if "text" in m:
        return qe.MatchText(m["text"])
    if "text_any" in m:
        return qe.MatchTextAny(m["text_any"])
    if "phrase" in m:
        return qe.MatchPhrase(m["phrase"])
    if "prefix" in m:
        return qe.MatchPrefix(m["prefix"])
    if "substring" in m:
        return qe.MatchSubstring(m["substring"])
    raise OracleError(f"unsupported match {m!r}")


def _obj(x: Any, what: str, required: set[str], optional: set[str] = frozenset()) -> dict:
    if not isinstance(x, dict) or not required <= set(x) or set(x) - required - optional:
        raise OracleError(f"{what} must be an object with keys {sorted(required)} (optional {sorted(optional)}), "
                          f"got {x!r}")
    return x


def _ring(r: Any, what: str) -> list:
    r = _obj(r, what, {"points"})
    if not isinstance(r["points"], list):
        raise OracleError(f"{what}.points must be a list, got {r['points']!r}")
    return [_geo_point(x) for x in r["points"]]


def _values_count(v: Any) -> Any:
    v = _obj(v, "values_count", set(), {"lt", "gt", "lte", "gte"})
    bounds = {k: x for k, x in v.items() if x is not None}
    if any(isinstance(x, bool) or not isinstance(x, int) for x in bounds.values()):
        raise OracleError(f"values_count bounds must be integers, got {v!r}")
    return qe.ValuesCount(**bounds)


def _key_of(x: Any, what: str) -> str:
    if not isinstance(x, dict) or not isinstance(x.get("key"), str):
        raise OracleError(f"{what} must be an object with a string 'key', got {x!r}")
    return x["key"]


def build_condition(c: Any) -> Any:
    if not isinstance(c, dict):
        raise OracleError(f"filter condition must be an object, got {c!r}")
    if not c or {"must", "should", "must_not", "min_should"} & set(c):
        return build_filter(c)  # REST: an object with none of the condition keys is an (empty) Filter
    if "has_id" in c:
        return qe.HasIdCondition(set(point_ids(c["has_id"], "has_id")))
    if "has_vector" in c:
        if not isinstance(c["has_vector"], str):
            raise OracleError(f"has_vector must be a vector name, got {c['has_vector']!r}")
        return qe.HasVectorCondition(c["has_vector"])
    # {"is_empty": {"key": k}} is its own condition; {"key": k, "is_empty": true} is a field condition.
    if "key" not in c and "is_empty" in c:
        return qe.IsEmptyCondition(_key_of(c["is_empty"], "is_empty"))
    if "key" not in c and "is_null" in c:
        return qe.IsNullCondition(_key_of(c["is_null"], "is_null"))
    if "nested" in c:
        n = c["nested"]
        if not isinstance(n, dict) or not isinstance(n.get("filter"), dict):
            raise OracleError(f"nested must be {{key, filter}}, got {n!r}")
        return qe.NestedCondition(_key_of(n, "nested"), build_filter(n["filter"]))
    if "key" in c:
        if not isinstance(c["key"], str):
            raise OracleError(f"field condition key must be a string, got {c['key']!r}")
        unknown = set(c) - {"key", "match", "range", "values_count", "geo_bounding_box", "geo_radius",
                            "geo_polygon", "is_empty", "is_null"}
        if unknown:
            raise OracleError(f"field condition: unsupported keys {sorted(unknown)}")
        kw: dict[str, Any] = {}
        if c.get("match") is not None:
            kw["match"] = _match(c["match"])
        if c.get("range") is not None:
            kw["range"] = _range(c["range"])
        if c.get("values_count") is not None:
            kw["values_count"] = _values_count(c["values_count"])
        if c.get("geo_bounding_box") is not None:
            g = _obj(c["geo_bounding_box"], "geo_bounding_box", {"top_left", "bottom_right"})
            kw["geo_bounding_box"] = qe.GeoBoundingBox(_geo_point(g["top_left"]), _geo_point(g["bottom_right"]))
        if c.get("geo_radius") is not None:
            g = _obj(c["geo_radius"], "geo_radius", {"center", "radius"})
            if isinstance(g["radius"], bool) or not isinstance(g["radius"], (int, float)):
                raise OracleError(f"geo_radius.radius must be a number, got {g['radius']!r}")
            kw["geo_radius"] = qe.GeoRadius(_geo_point(g["center"]), float(g["radius"]))
        if c.get("geo_polygon") is not None:
            g = _obj(c["geo_polygon"], "geo_polygon", {"exterior"}, {"interiors"})
            interiors = [_ring(r, "geo_polygon.interiors[]") for r in _listify(g.get("interiors"))]
            kw["geo_polygon"] = qe.GeoPolygon(_ring(g["exterior"], "geo_polygon.exterior"), interiors or None)
        for flag in ("is_empty", "is_null"):
            if c.get(flag) is not None:
                if not isinstance(c[flag], bool):
                    raise OracleError(f"field condition {flag} must be a boolean, got {c[flag]!r}")
                kw[flag] = c[flag]
        if not kw:
            raise OracleError(f"field condition without a supported clause: {c!r}")
        return qe.FieldCondition(c["key"], **kw)
    raise OracleError(f"unsupported filter condition {c!r}")


def build_filter(f: Any) -> qe.Filter | None:
    if f is None:
        return None
    if not isinstance(f, dict):
        raise OracleError(f"filter must be an object, got {f!r}")
    unknown = set(f) - {"must", "should", "must_not", "min_should"}
    if unknown:
        raise OracleError(f"filter: unsupported keys {sorted(unknown)}")
    kw: dict[str, Any] = {}
    for clause in ("must", "should", "must_not"):
        if f.get(clause) is not None:
            kw[clause] = [build_condition(c) for c in _listify(f[clause])]
    if f.get("min_should") is not None:
        ms = f["min_should"]
        kw["min_should"] = qe.MinShould([build_condition(c) for c in ms["conditions"]], int(ms["min_count"]))
    return qe.Filter(**kw)


def _selector(body: dict, op: str) -> tuple[str, Any]:
    """Returns ("ids", [...]) or ("filter", Filter) for ops that accept either."""
    if body.get("points") is not None:
        return "ids", point_ids(body["points"])
    if body.get("filter") is not None:
        return "filter", build_filter(body["filter"])
    raise OracleError(f"op {op!r} needs 'points' (ids) or 'filter'")


def apply_upsert(shard: qe.EdgeShard, points: Any, condition: Any = None, update_mode: Any = None) -> None:
    if not isinstance(points, list):
        raise OracleError("'points' must be a list")
    built = [build_point(p) for p in points]
    kwargs: dict[str, Any] = {}
    if condition is not None:
        kwargs["condition"] = build_filter(condition)
    if update_mode is not None:
        kwargs["update_mode"] = _enum_member(qe.UpdateMode, update_mode, "update_mode")
    for start in range(0, len(built), UPSERT_BATCH):
        shard.update(qe.UpdateOperation.upsert_points(built[start:start + UPSERT_BATCH], **kwargs))


def apply_op(shard: qe.EdgeShard, op: Any) -> None:
    if not isinstance(op, dict) or len(op) != 1:
        raise OracleError(f"each op must be an object with exactly one key, got {op!r}")
    (name, body), = op.items()
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise OracleError(f"op {name!r}: body must be an object")
    U = qe.UpdateOperation
    if name in ("upsert", "upsert_points"):
        apply_upsert(shard, body.get("points"), body.get("condition"), body.get("update_mode"))
        return
    if name in ("delete", "delete_points"):
        kind, sel = _selector(body, name)
        shard.update(U.delete_points(sel) if kind == "ids" else U.delete_points_by_filter(sel))
    elif name in ("set_payload", "overwrite_payload"):
        kind, sel = _selector(body, name)
        payload = body.get("payload")
        if not isinstance(payload, dict):
            raise OracleError(f"op {name!r}: 'payload' must be an object")
        fn = getattr(U, name if kind == "ids" else f"{name}_by_filter")
        shard.update(fn(sel, payload, body.get("key")))
    elif name == "delete_payload":
        kind, sel = _selector(body, name)
        keys = body.get("keys")
        if not isinstance(keys, list):
            raise OracleError("op 'delete_payload': 'keys' must be a list")
        shard.update(U.delete_payload(sel, keys) if kind == "ids" else U.delete_payload_by_filter(sel, keys))
    elif name == "clear_payload":
        kind, sel = _selector(body, name)
        shard.update(U.clear_payload(sel) if kind == "ids" else U.clear_payload_by_filter(sel))
    elif name == "update_vectors":
        pts = body.get("points")
        if not isinstance(pts, list):
            raise OracleError("op 'update_vectors': 'points' must be a list of {id, vector}")
        pvs = [qe.PointVectors(point_id(p["id"]), vector_input(p["vector"])) for p in pts]
        cond = body.get("update_filter", body.get("condition"))
        shard.update(U.update_vectors(pvs, build_filter(cond)))
    elif name == "delete_vectors":
        kind, sel = _selector(body, name)
        names = _listify(body.get("vector", body.get("vectors")))
        shard.update(U.delete_vectors(sel, names) if kind == "ids" else U.delete_vectors_by_filter(sel, names))
    elif name == "create_field_index":
        schema = _enum_member(qe.PayloadSchemaType, body.get("field_schema"), "field_schema")
        shard.update(U.create_field_index(body["field_name"], schema))
    elif name == "delete_field_index":
        shard.update(U.delete_field_index(body["field_name"]))
    elif name == "flush":
        shard.flush()
    elif name == "optimize":
        shard.optimize()
    else:
        raise OracleError(
            f"unknown op {name!r} (supported: upsert, delete, set_payload, overwrite_payload, delete_payload, "
            "clear_payload, update_vectors, delete_vectors, create_field_index, delete_field_index, flush, optimize)"
        )


def _with_flag(value: Any, what: str) -> Any:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return value
    raise OracleError(f"'{what}' must be a bool or a list of names, got {value!r}")


def build_query(q: Any) -> tuple[qe.QueryRequest, bool, bool]:
    if not isinstance(q, dict):
        raise OracleError(f"query must be an object, got {q!r}")
    limit = q.get("limit", 10)
    offset = q.get("offset") or 0
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise OracleError(f"query limit must be a non-negative integer, got {limit!r}")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise OracleError(f"query offset must be a non-negative integer, got {offset!r}")
    with_payload = _with_flag(q.get("with_payload"), "with_payload")
    with_vector = _with_flag(q.get("with_vector"), "with_vector")
    using = q.get("using") or None  # None and "" both mean the default (unnamed) vector
    scoring = None
    if q.get("query") is not None:
        scoring = qe.Query.Nearest(_dense_or_sparse(q["query"]), using=using)
    threshold = q.get("score_threshold")
    req = qe.QueryRequest(
        limit=limit,
        offset=offset,
        query=scoring,
        with_vector=with_vector,
        with_payload=with_payload,
        filter=build_filter(q.get("filter")),
        score_threshold=None if threshold is None else float(threshold),
    )
    return req, with_payload is not False, with_vector is not False


# ----------------------------------------------------------------------------------------------------------------
# qdrant_edge -> JSON
# ----------------------------------------------------------------------------------------------------------------

def out_id(pid: Any) -> int | str:
    if isinstance(pid, uuid.UUID):
        return str(pid)
    if isinstance(pid, bool):
        raise OracleError(f"unexpected point id {pid!r}")
    if isinstance(pid, (int, str)):
        return pid
    raise OracleError(f"unexpected point id type {type(pid).__name__}: {pid!r}")


def out_float(x: Any) -> float | str:
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def out_vector(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, qe.SparseVector):
        return {"indices": list(v.indices), "values": [out_float(x) for x in v.values]}
    if isinstance(v, dict):
        return {str(k): out_vector(v[k]) for k in sorted(v)}
    if isinstance(v, (list, tuple)):
        return [out_vector(x) if isinstance(x, (list, tuple)) else out_float(x) for x in v]
    raise OracleError(f"unexpected vector type {type(v).__name__}: {v!r}")


def out_json(x: Any) -> Any:
    """Payload values: plain JSON already, except that non-finite floats must become strings."""
    if isinstance(x, float):
        return out_float(x)
    if isinstance(x, dict):
        return {str(k): out_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [out_json(v) for v in x]
    return x


def out_scored(p: Any, with_payload: bool, with_vector: bool) -> dict:
    d: dict[str, Any] = {"id": out_id(p.id), "score": out_float(p.score), "version": p.version}
    if with_payload:
        d["payload"] = out_json(p.payload)
    if with_vector:
        d["vector"] = out_vector(p.vector)
    if p.order_value is not None:
        d["order_value"] = p.order_value
    return d



# ----------------------------------------------------------------------------------------------------------------
# scroll / count / facet batches
# ----------------------------------------------------------------------------------------------------------------

def _items(value: Any, what: str) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        raise OracleError(f"'{what}' must be a list of objects")
    return value


def _check_keys(item: dict, allowed: set[str], what: str) -> None:
    unknown = set(item) - allowed
    if unknown:
        raise OracleError(f"{what}: unsupported keys {sorted(unknown)}")


def _engine_call(fn: Any) -> tuple[Any, dict | None]:
    """Runs fn(); an exception from qdrant_edge becomes an error item, an OracleError propagates."""
    try:
        return fn(), None
    except OracleError:
        raise
    except BaseException as e:  # pyo3 panics derive from BaseException
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return None, {"error": str(e) or type(e).__name__, "error_type": type(e).__name__}


def _optional_int(item: dict, key: str, what: str) -> int | None:
    v = item.get(key)
    if v is None:
        return None
    if not isinstance(v, int) or isinstance(v, bool):
        raise OracleError(f"{what}.{key} must be an integer, got {v!r}")
    return v


def _optional_bool(item: dict, key: str, what: str) -> bool | None:
    v = item.get(key)
    if v is None or isinstance(v, bool):
        return v
    raise OracleError(f"{what}.{key} must be a boolean, got {v!r}")


def build_order_by(o: Any) -> Any:
    if isinstance(o, str):
        return qe.OrderBy(o)
    if not isinstance(o, dict) or not isinstance(o.get("key"), str):
        raise OracleError(f"order_by must be a key or an object with 'key', got {o!r}")
    _check_keys(o, {"key", "direction", "start_from"}, "order_by")
    kw: dict[str, Any] = {}
    if o.get("direction") is not None:
        kw["direction"] = _enum_member(qe.Direction, o["direction"], "order_by.direction")
    start = o.get("start_from")
    if start is not None:
        if isinstance(start, bool) or not isinstance(start, (int, float, str)):
            raise OracleError(f"order_by.start_from must be a number or a datetime string, got {start!r}")
        kw["start_from"] = start
    return qe.OrderBy(o["key"], **kw)


def _with_option(value: Any, what: str) -> Any:
    """with_payload / with_vector of a scroll: None keeps the engine's default."""
    if value is None:
        return None
    return _with_flag(value, what)


def _scroll_page(records: Any, next_offset: Any, ordered: bool, payloads: bool, vectors: bool) -> dict:
    page: dict[str, Any] = {
        "ids": [out_id(r.id) for r in records],
        "next_page_offset": None if next_offset is None else out_id(next_offset),
    }
    if ordered:
        page["order_values"] = [r.order_value for r in records]
    if payloads:
        page["payloads"] = [out_json(r.payload) for r in records]
    if vectors:
        page["vectors"] = [out_vector(r.vector) for r in records]
    return page


def run_scroll(shard: qe.EdgeShard, item: dict) -> dict:
    _check_keys(item, {"filter", "limit", "offset", "order_by", "with_payload", "with_vector", "all_pages",
                       "max_pages"}, "scroll")
    limit = _optional_int(item, "limit", "scroll")
    offset = None if item.get("offset") is None else point_id(item["offset"])
    with_payload = _with_option(item.get("with_payload"), "scroll.with_payload")
    with_vector = _with_option(item.get("with_vector"), "scroll.with_vector")
    all_pages = bool(_optional_bool(item, "all_pages", "scroll"))
    max_pages = _optional_int(item, "max_pages", "scroll") or 1000
    ordered = item.get("order_by") is not None
    show_payloads = with_payload not in (None, False)
    show_vectors = with_vector not in (None, False)

    def page_at(start: Any) -> tuple[Any, Any]:
        # Built inside the engine call: OrderBy parses a datetime start_from and may raise.
        order_by = build_order_by(item["order_by"]) if ordered else None
        kw: dict[str, Any] = {"offset": start, "limit": limit, "filter": build_filter(item.get("filter")),
                              "with_payload": with_payload, "with_vector": with_vector, "order_by": order_by}
        return shard.scroll(qe.ScrollRequest(**{k: v for k, v in kw.items() if v is not None}))

    pages: list[dict] = []
    start = offset
    while True:
        result, error = _engine_call(lambda: page_at(start))
        if error is not None:
            if not pages:
                return error
            pages.append(error)
            break
        records, next_offset = result
        pages.append(_scroll_page(records, next_offset, ordered, show_payloads, show_vectors))
        if not all_pages or next_offset is None or len(pages) >= max_pages:
            break
        start = next_offset
    return {"pages": pages} if all_pages else pages[0]


def run_count(shard: qe.EdgeShard, item: dict) -> Any:
    _check_keys(item, {"filter", "exact"}, "count")
    exact = _optional_bool(item, "exact", "count")

    def call() -> int:
        kw: dict[str, Any] = {"filter": build_filter(item.get("filter"))}
        if exact is not None:
            kw["exact"] = exact
        return shard.count(qe.CountRequest(**kw))

    result, error = _engine_call(call)
    return error if error is not None else result


def out_facet_value(v: Any) -> Any:
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, (str, int, bool)):
        return v
    raise OracleError(f"unexpected facet value type {type(v).__name__}: {v!r}")


def run_facet(shard: qe.EdgeShard, item: dict) -> Any:
    _check_keys(item, {"key", "limit", "exact", "filter"}, "facet")
    if not isinstance(item.get("key"), str):
        raise OracleError(f"facet.key must be a string, got {item.get('key')!r}")
    limit = _optional_int(item, "limit", "facet")
    exact = _optional_bool(item, "exact", "facet")

    def call() -> Any:
        kw: dict[str, Any] = {"filter": build_filter(item.get("filter"))}
        if limit is not None:
            kw["limit"] = limit
        if exact is not None:
            kw["exact"] = exact
        return shard.facet(qe.FacetRequest(item["key"], **kw))

    result, error = _engine_call(call)
    if error is not None:
        return error
    return {"hits": [{"value": out_facet_value(h.value), "count": h.count} for h in result.hits]}

# ----------------------------------------------------------------------------------------------------------------

def run(request: Any) -> dict:
    if not isinstance(request, dict):
        raise OracleError("request must be a JSON object")
    unknown = set(request) - {"config", "points", "ops", "queries", "retrieve", "scrolls", "counts", "facets"}
    if unknown:
        raise OracleError(f"unknown request keys {sorted(unknown)}")
    config = build_config(request.get("config"))
    queries = [build_query(q) for q in _listify(request.get("queries"))]

    response: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="qdrant-oracle-") as tmp:
        shard = qe.EdgeShard.create(os.path.join(tmp, "shard"), config)
        try:
            apply_upsert(shard, request.get("points") or [])
            for op in _listify(request.get("ops")):
                apply_op(shard, op)

            response["results"] = [
                [out_scored(p, wp, wv) for p in shard.query(req)] for req, wp, wv in queries
            ]

            retrieve = request.get("retrieve")
            if retrieve is not None:
                if isinstance(retrieve, dict):
                    ids = point_ids(retrieve.get("ids"), "retrieve.ids")
                    wp = _with_flag(retrieve.get("with_payload", True), "retrieve.with_payload")
                    wv = _with_flag(retrieve.get("with_vector", True), "retrieve.with_vector")
                else:
                    ids, wp, wv = point_ids(retrieve, "retrieve"), True, True
                # 0.9 has no defaults here: with_payload and with_vector are required positional arguments.
                records = shard.retrieve(ids, wp, wv)
                response["retrieve"] = []
                for r in records:
                    d: dict[str, Any] = {"id": out_id(r.id)}
                    if wp is not False:
                        d["payload"] = out_json(r.payload)
                    if wv is not False:
                        d["vector"] = out_vector(r.vector)
                    response["retrieve"].append(d)

            if request.get("scrolls") is not None:
                response["scrolls"] = [run_scroll(shard, item) for item in _items(request["scrolls"], "scrolls")]
            if request.get("counts") is not None:
                response["counts"] = [run_count(shard, item) for item in _items(request["counts"], "counts")]
            if request.get("facets") is not None:
                response["facets"] = [run_facet(shard, item) for item in _items(request["facets"], "facets")]

            response["count"] = shard.count(qe.CountRequest(exact=True))
            info = shard.info()
            response["info"] = {
                "segments_count": info.segments_count,
                "points_count": info.points_count,
                "indexed_vectors_count": info.indexed_vectors_count,
            }
        finally:
            shard.close()
    return response


def main() -> int:
    try:
        raw = sys.stdin.read()
        try:
            request = json.loads(raw)
        except json.JSONDecodeError as e:
            raise OracleError(f"invalid JSON on stdin: {e}") from None
        response = run(request)
    except BaseException as e:  # pyo3 panics derive from BaseException
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        message = str(e) or type(e).__name__
        sys.stdout.write(json.dumps({"error": message, "error_type": type(e).__name__}) + "\n")
        sys.stdout.flush()
        return 1
    sys.stdout.write(json.dumps(response, allow_nan=False) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
