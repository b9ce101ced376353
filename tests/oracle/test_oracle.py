"""Checks of the Qdrant Edge oracle (qdrant_oracle.py) on tiny hand-made datasets.

Each test runs the driver as a subprocess, exactly as the TypeScript differential tests do, and asserts values
computed by hand or with plain Python math. They pin down the semantics of real qdrant_edge 0.9.0 that @x/edge
must reproduce: scores are f32 (compare with a tolerance), Cosine normalises stored vectors, Euclid/Manhattan
scores are distances (smaller is better), score_threshold is strict and compared in f32, offset skips after
thresholding, retrieve skips missing ids and keeps the input order, versions are 0-based WAL op numbers.
"""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys

import pytest

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "qdrant_oracle.py")
TOL = 1e-6


def run_oracle(request: dict, expect_ok: bool = True) -> dict:
    proc = subprocess.run(
        [sys.executable, DRIVER],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = json.loads(proc.stdout)
    if expect_ok:
        assert proc.returncode == 0, (proc.returncode, out, proc.stderr)
        assert "error" not in out
    else:
        assert proc.returncode == 1, (proc.returncode, out, proc.stderr)
        assert set(out) >= {"error"}
    return out


def f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def f16(x: float) -> float:
    return struct.unpack("e", struct.pack("e", x))[0]


def cfg(distance: str, size: int = 2, datatype: str | None = None, name: str = "") -> dict:
    params: dict = {"size": size, "distance": distance}
    if datatype is not None:
        params["datatype"] = datatype
    return {"vectors": {name: params}}


def ids(hits: list[dict]) -> list:
    return [h["id"] for h in hits]


def scores(hits: list[dict]) -> list[float]:
    return [h["score"] for h in hits]


def q(vector, limit=10, **kw) -> dict:
    return {"query": vector, "limit": limit, **kw}


# ---------------------------------------------------------------------------------------------------------------
# Cosine
# ---------------------------------------------------------------------------------------------------------------

COSINE_POINTS = [
    {"id": 1, "vector": [3.0, 4.0], "payload": {"name": "a"}},
    {"id": 2, "vector": [1.0, 0.0], "payload": None},
    {"id": 3, "vector": [0.0, 5.0], "payload": {"name": "c"}},
    {"id": 4, "vector": [-1.0, -1.0], "payload": {"name": "d"}},
]


def test_cosine_scores_and_normalisation_at_insert():
    out = run_oracle({
        "config": cfg("Cosine"),
        "points": COSINE_POINTS,
        # The query is normalised too: [2, 0] scores exactly like [1, 0].
        "queries": [q([2.0, 0.0], with_payload=True, with_vector=True), q([1.0, 0.0])],
    })
    hits = out["results"][0]
    assert ids(hits) == [2, 1, 3, 4]
    expected = [1.0, 0.6, 0.0, -1 / math.sqrt(2)]
    assert scores(hits) == pytest.approx(expected, abs=TOL)
    assert scores(out["results"][1]) == scores(hits)
    # Stored vectors are normalised at insert; with_vector returns the normalised f32 vector (a plain list,
    # because the config only has the default vector "").
    by_id = {h["id"]: h for h in hits}
    assert by_id[1]["vector"] == [f32(0.6), f32(0.8)]
    assert by_id[3]["vector"] == [0.0, 1.0]
    assert by_id[4]["vector"] == pytest.approx([-1 / math.sqrt(2)] * 2, abs=TOL)
    # A null payload comes back as {} when the payload is requested; without with_* the keys are absent.
    assert by_id[2]["payload"] == {}
    assert by_id[1]["payload"] == {"name": "a"}
    assert set(out["results"][1][0]) == {"id", "score", "version"}
    # Everything was written by the first update call: version (WAL op number) 0.
    assert {h["version"] for h in hits} == {0}
    assert out["count"] == 4
    assert out["info"] == {"segments_count": 1, "points_count": 4, "indexed_vectors_count": 0}


def test_cosine_zero_vector_is_not_normalised_and_scores_zero():
    out = run_oracle({
        "config": cfg("Cosine"),
        "points": [{"id": 1, "vector": [0.0, 0.0]}, {"id": 2, "vector": [1.0, 1.0]}],
        "queries": [q([1.0, 0.0], with_vector=True), q([0.0, 0.0])],
    })
    hits = out["results"][0]
    assert ids(hits) == [2, 1]
    assert hits[1] == {"id": 1, "score": 0.0, "version": 0, "vector": [0.0, 0.0]}
    assert scores(out["results"][1]) == [0.0, 0.0]  # a zero query scores 0 against everything


def test_cosine_threshold_is_strict_and_compared_in_f32():
    out = run_oracle({
        "config": cfg("Cosine"),
        "points": COSINE_POINTS,
        "queries": [
            q([1.0, 0.0], score_threshold=1.0),    # point 2 scores exactly 1.0: excluded (strict >)
            q([1.0, 0.0], score_threshold=0.999),  # point 2 kept
            # Point 1 scores f32(0.6) = 0.6000000238..., and the threshold 0.6 is cast to f32 before comparing,
            # so it is NOT strictly greater and is excluded, although 0.6000000238 > 0.6 in f64.
            q([1.0, 0.0], score_threshold=0.6),
            q([1.0, 0.0], score_threshold=0.5999),
            q([1.0, 0.0], score_threshold=-0.5),   # negative thresholds work: only point 4 (-0.707) goes
        ],
    })
    r = out["results"]
    assert ids(r[0]) == []
    assert ids(r[1]) == [2]
    assert ids(r[2]) == [2]
    assert ids(r[3]) == [2, 1]
    assert ids(r[4]) == [2, 1, 3]


# ---------------------------------------------------------------------------------------------------------------
# Dot
# ---------------------------------------------------------------------------------------------------------------

DOT_POINTS = [
    {"id": 1, "vector": [1.0, 2.0], "payload": {"k": 1}},
    {"id": 2, "vector": [3.0, -1.0], "payload": {"k": 2}},
    {"id": 3, "vector": [0.5, 0.5], "payload": {"k": 3}},
    {"id": 4, "vector": [-2.0, 0.0], "payload": {"k": 4}},
]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def test_dot_scores_vectors_unchanged():
    query = [2.0, 1.0]
    out = run_oracle({"config": cfg("Dot"), "points": DOT_POINTS, "queries": [q(query, with_vector=True)]})
    hits = out["results"][0]
    expected = sorted(((dot(p["vector"], query), p["id"]) for p in DOT_POINTS), reverse=True)
    assert ids(hits) == [i for _, i in expected] == [2, 1, 3, 4]
    assert scores(hits) == [5.0, 4.0, 1.5, -4.0]
    # Dot does not normalise: vectors come back as inserted.
    assert {h["id"]: h["vector"] for h in hits} == {p["id"]: p["vector"] for p in DOT_POINTS}


def test_dot_offset_limit_threshold():
    out = run_oracle({
        "config": cfg("Dot"),
        "points": DOT_POINTS,
        "queries": [
            q([2.0, 1.0], limit=2, offset=1),
            q([2.0, 1.0], limit=10, offset=3),
            q([2.0, 1.0], limit=10, offset=4),
            q([2.0, 1.0], limit=1, offset=1, score_threshold=4.0),  # threshold first (keeps [2]), then offset
            q([2.0, 1.0], score_threshold=4.0),                     # 4.0 is not > 4.0
            q([2.0, 1.0], limit=0),
        ],
    })
    r = out["results"]
    assert ids(r[0]) == [1, 3]
    assert ids(r[1]) == [4]
    assert ids(r[2]) == []
    assert ids(r[3]) == []
    assert ids(r[4]) == [2]
    assert r[5] == []


# ---------------------------------------------------------------------------------------------------------------
# Euclid
# ---------------------------------------------------------------------------------------------------------------

EUCLID_POINTS = [
    {"id": 10, "vector": [0.0, 0.0]},
    {"id": 11, "vector": [3.0, 4.0]},
    {"id": 12, "vector": [1.0, 1.0]},
    {"id": 13, "vector": [-6.0, 8.0]},
]


def test_euclid_score_is_plain_distance_ascending():
    query = [0.0, 0.0]
    out = run_oracle({"config": cfg("Euclid"), "points": EUCLID_POINTS, "queries": [q(query, with_vector=True)]})
    hits = out["results"][0]
    assert ids(hits) == [10, 12, 11, 13]
    # sqrt of the squared distance (5, not 25), smallest first
    assert scores(hits) == pytest.approx([0.0, math.sqrt(2), 5.0, 10.0], abs=TOL)
    assert hits[2]["score"] == 5.0
    assert hits[1]["vector"] == [1.0, 1.0]  # no normalisation


def test_euclid_threshold_is_an_exclusive_upper_bound():
    out = run_oracle({
        "config": cfg("Euclid"),
        "points": EUCLID_POINTS,
        "queries": [
            q([0.0, 0.0], score_threshold=5.0),     # 11 is at exactly 5.0: excluded (strict <)
            q([0.0, 0.0], score_threshold=5.0001),
            q([0.0, 0.0], score_threshold=0.0),     # even the exact match (distance 0) is excluded
            q([0.0, 0.0], score_threshold=100.0, offset=1, limit=2),
        ],
    })
    r = out["results"]
    assert ids(r[0]) == [10, 12]
    assert ids(r[1]) == [10, 12, 11]
    assert ids(r[2]) == []
    assert ids(r[3]) == [12, 11]


# ---------------------------------------------------------------------------------------------------------------
# Manhattan
# ---------------------------------------------------------------------------------------------------------------

def test_manhattan_score_is_l1_distance_ascending():
    points = [
        {"id": 1, "vector": [1.0, 2.0, -1.0]},
        {"id": 2, "vector": [-1.0, 0.0, 0.0]},
        {"id": 3, "vector": [4.0, 4.0, 4.0]},
        {"id": 4, "vector": [0.5, -0.25, 2.0]},
    ]
    query = [0.0, 1.0, 0.0]
    out = run_oracle({
        "config": cfg("Manhattan", size=3),
        "points": points,
        "queries": [q(query), q(query, score_threshold=2.0), q(query, score_threshold=2.0001)],
    })
    l1 = {p["id"]: sum(abs(a - b) for a, b in zip(p["vector"], query)) for p in points}
    assert l1 == {1: 3.0, 2: 2.0, 3: 11.0, 4: 3.75}
    hits = out["results"][0]
    assert ids(hits) == [2, 1, 4, 3]
    assert scores(hits) == [2.0, 3.0, 3.75, 11.0]
    assert ids(out["results"][1]) == []
    assert ids(out["results"][2]) == [2]


# ---------------------------------------------------------------------------------------------------------------
# Retrieve, ids, versions, ops
# ---------------------------------------------------------------------------------------------------------------

UUID_A = "550e8400-e29b-41d4-a716-446655440000"
UUID_B = "00000000-0000-0000-0000-000000000001"


def test_retrieve_skips_missing_and_follows_input_order():
    out = run_oracle({
        "config": cfg("Cosine"),
        "points": COSINE_POINTS + [{"id": UUID_A.upper(), "vector": [0.0, -2.0], "payload": {"u": True}}],
        "retrieve": [3, 99, UUID_B, 1, UUID_A, 2],
    })
    recs = out["retrieve"]
    # Missing ids (99, UUID_B) are skipped silently; UUIDs come back canonical lowercase strings.
    assert [r["id"] for r in recs] == [3, 1, UUID_A, 2]
    assert recs[0] == {"id": 3, "payload": {"name": "c"}, "vector": [0.0, 1.0]}
    assert recs[1]["vector"] == [f32(0.6), f32(0.8)]
    assert recs[2] == {"id": UUID_A, "payload": {"u": True}, "vector": [0.0, -1.0]}
    assert recs[3] == {"id": 2, "payload": {}, "vector": [1.0, 0.0]}
    assert isinstance(recs[0]["id"], int) and isinstance(recs[2]["id"], str)


def test_retrieve_object_form_selects_fields():
    out = run_oracle({
        "config": cfg("Dot"),
        "points": DOT_POINTS,
        "retrieve": {"ids": [4, 1], "with_payload": False, "with_vector": True},
    })
    assert out["retrieve"] == [{"id": 4, "vector": [-2.0, 0.0]}, {"id": 1, "vector": [1.0, 2.0]}]


def test_delete_ops_versions_and_batches():
    # 300 points are inserted in batches of 256: two update calls, WAL ops 0 and 1.
    points = [{"id": i, "vector": [float(i), 1.0], "payload": {"i": i}} for i in range(1, 301)]
    out = run_oracle({
        "config": cfg("Dot"),
        "points": points,
        "ops": [
            {"delete_points": {"points": [300, 299, 12345]}},     # op 2; unknown ids are ignored
            {"delete": {"filter": {"must": [{"key": "i", "range": {"gte": 297}}]}}},  # op 3 (REST name)
            {"set_payload": {"points": [1], "payload": {"x": "y"}}},  # op 4
        ],
        "queries": [q([1.0, 0.0], limit=3, with_payload=True), q([-1.0, 0.0], limit=2, with_payload=True)],
        "retrieve": [300, 296, 256, 257],
    })
    top, bottom = out["results"]
    assert ids(top) == [296, 295, 294] and scores(top) == [296.0, 295.0, 294.0]
    assert {h["version"] for h in top} == {1}
    assert ids(bottom) == [1, 2]
    assert bottom[0]["version"] == 4 and bottom[0]["payload"] == {"i": 1, "x": "y"}
    assert bottom[1]["version"] == 0
    assert [r["id"] for r in out["retrieve"]] == [296, 256, 257]
    assert out["count"] == 296
    assert out["info"]["points_count"] == 296


def test_reupsert_replaces_point_and_bumps_version():
    out = run_oracle({
        "config": cfg("Euclid"),
        "points": EUCLID_POINTS,
        "ops": [{"upsert": {"points": [{"id": 11, "vector": [0.0, 0.5], "payload": {"new": 1}}]}}],
        "queries": [q([0.0, 0.0], limit=2, with_payload=True)],
    })
    assert out["results"][0] == [
        {"id": 10, "score": 0.0, "version": 0, "payload": {}},
        {"id": 11, "score": 0.5, "version": 1, "payload": {"new": 1}},
    ]
    assert out["count"] == 4


def test_named_vectors_output_dict_and_using():
    out = run_oracle({
        "config": {"vectors": {
            "img": {"size": 2, "distance": "Euclid"},
            "txt": {"size": 3, "distance": "Cosine"},
        }},
        "points": [
            {"id": 1, "vector": {"img": [3.0, 4.0], "txt": [0.0, 0.0, 2.0]}},
            {"id": 2, "vector": {"img": [1.0, 0.0]}},  # no "txt" vector at all
        ],
        "queries": [
            q([0.0, 0.0], using="img", with_vector=True),
            q([0.0, 0.0, 1.0], using="txt", with_vector=True),
            q([0.0, 0.0], using="img", with_vector=["txt"]),
        ],
    })
    img, txt, only_txt = out["results"]
    assert ids(img) == [2, 1] and scores(img) == [1.0, 5.0]
    # Named configs give dict vectors; a point lacking a vector simply lacks the key.
    assert img[0]["vector"] == {"img": [1.0, 0.0]}
    assert img[1]["vector"] == {"img": [3.0, 4.0], "txt": [0.0, 0.0, 1.0]}
    assert ids(txt) == [1] and scores(txt) == [1.0]  # points without the vector are not candidates
    assert only_txt[1]["vector"] == {"txt": [0.0, 0.0, 1.0]} and only_txt[0]["vector"] == {}


def test_named_default_vector_in_multi_vector_config_is_a_dict():
    out = run_oracle({
        "config": {"vectors": {"": {"size": 2, "distance": "Dot"}, "b": {"size": 1, "distance": "Dot"}}},
        "points": [{"id": 1, "vector": {"": [1.0, 2.0], "b": [3.0]}}],
        "queries": [q([1.0, 1.0], with_vector=True), q([2.0], using="b")],
    })
    assert out["results"][0][0]["vector"] == {"": [1.0, 2.0], "b": [3.0]}
    assert out["results"][0][0]["score"] == 3.0
    assert out["results"][1][0]["score"] == 6.0


# ---------------------------------------------------------------------------------------------------------------
# Datatypes
# ---------------------------------------------------------------------------------------------------------------

def test_uint8_truncates_saturates_and_cosine_is_not_normalised():
    points = [{"id": 1, "vector": [0.99, 254.6, 1.5]}, {"id": 2, "vector": [-0.5, 255.5, 300.0]}]
    query = [0.5, 1.5, -2.7]  # the query is converted to uint8 as well: [0, 1, 0]
    stored = {1: [0.0, 254.0, 1.0], 2: [0.0, 255.0, 255.0]}
    qu8 = [0.0, 1.0, 0.0]
    res = {}
    for dist in ("Dot", "Cosine", "Euclid", "Manhattan"):
        out = run_oracle({
            "config": cfg(dist, size=3, datatype="uint8"),
            "points": points,
            "queries": [q(query, with_vector=True)],
        })
        res[dist] = out["results"][0]
        assert {h["id"]: h["vector"] for h in res[dist]} == stored  # as `as u8`: truncate, clamp to 0..255
    assert [(h["id"], h["score"]) for h in res["Dot"]] == [(2, 255.0), (1, 254.0)]
    # Cosine with uint8: stored vectors keep their raw (un-normalised) values; the score is a true cosine.
    cos = {i: dot(v, qu8) / math.sqrt(dot(v, v)) / math.sqrt(dot(qu8, qu8)) for i, v in stored.items()}
    assert ids(res["Cosine"]) == [1, 2]
    assert scores(res["Cosine"]) == pytest.approx([cos[1], cos[2]], abs=TOL)
    l2 = {i: math.dist(v, qu8) for i, v in stored.items()}
    assert scores(res["Euclid"]) == pytest.approx([l2[1], l2[2]], abs=1e-4)
    assert [(h["id"], h["score"]) for h in res["Manhattan"]] == [(1, 254.0), (2, 509.0)]


def test_float16_rounds_stored_and_query_vectors():
    out = run_oracle({
        "config": cfg("Dot", size=2, datatype="float16"),
        "points": [{"id": 1, "vector": [1.0, 0.1]}],
        "queries": [q([0.1, 0.0], with_vector=True)],
    })
    hit = out["results"][0][0]
    assert hit["vector"] == [1.0, f16(0.1)]  # 0.0999755859375
    assert hit["score"] == f16(0.1)          # the query is rounded to f16 too
    out = run_oracle({
        "config": cfg("Cosine", size=2, datatype="float16"),
        "points": [{"id": 1, "vector": [3.0, 4.0]}],
        "queries": [q([1.0, 0.0], with_vector=True)],
    })
    hit = out["results"][0][0]
    assert hit["vector"] == [f16(0.6), f16(0.8)]  # normalised in f32, then stored as f16
    assert hit["score"] == pytest.approx(f16(0.6), abs=TOL)


# ---------------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------------

def test_errors_are_reported_as_json_with_exit_1():
    out = run_oracle({"config": cfg("Dot"), "points": [{"id": 1, "vector": [1.0, 2.0, 3.0]}]}, expect_ok=False)
    assert out["error"] == "Vector dimension error: expected dim: 2, got 3"
    out = run_oracle({"config": cfg("Dot"), "ops": [{"frobnicate": {}}]}, expect_ok=False)
    assert "unknown op 'frobnicate'" in out["error"]
    out = run_oracle({"config": cfg("Dot"), "queries": [q([1.0, 0.0], using="nope")]}, expect_ok=False)
    assert out["error"].startswith("Not existing vector name error: nope")
    out = run_oracle({"config": cfg("Dot"), "points": [{"id": "not-a-uuid", "vector": [1.0, 0.0]}]},
                     expect_ok=False)
    assert "failed to parse not-a-uuid as UUID" in out["error"]
    out = run_oracle({"config": cfg("Chebyshev")}, expect_ok=False)
    assert "unknown distance" in out["error"]


# ---------------------------------------------------------------------------------------------------------------
# scrolls / counts / facets batches (used by tests/filter_differential.test.ts)
# ---------------------------------------------------------------------------------------------------------------

UUID_A = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
UUID_B = "00000000-0000-0000-0000-00000000000b"

FILTER_POINTS = [
    {"id": 9, "vector": [1.0, 0.0], "payload": {
        "kw": "red", "n": 3, "f": 1.5, "b": True, "tags": ["a", "b"], "text": "The quick brown fox",
        "dt": "2024-01-02T00:00:00Z", "geo": {"lon": 13.4, "lat": 52.5},
        "items": [{"name": "x", "qty": 1}, {"name": "y", "qty": 5}]}},
    {"id": 2, "vector": [1.0, 0.0], "payload": {
        "kw": "blue", "n": 7, "f": 2.5, "b": False, "tags": [], "text": "lazy dog",
        "dt": "2024-01-03T01:00:00+02:00", "geo": {"lon": 2.35, "lat": 48.86},
        "items": [{"name": "x", "qty": 5}]}},
    {"id": UUID_A, "vector": [1.0, 0.0], "payload": {
        "kw": ["red", "blue"], "n": 1, "b": 1, "tags": ["a"], "text": "quick dog",
        "dt": "2024-01-04T00:00:00.5Z", "geo": {"lon": 13.5, "lat": 52.6}, "opt": None}},
    {"id": 5, "vector": [1.0, 0.0], "payload": {"kw": None, "n": [2, 8], "f": 2, "opt": []}},
    {"id": 7, "vector": [0.0, 1.0], "payload": None},
]


def batch(scrolls=(), counts=(), facets=(), ops=(), points=FILTER_POINTS) -> dict:
    return run_oracle({"config": cfg("Cosine"), "points": points, "ops": list(ops),
                       "scrolls": list(scrolls), "counts": list(counts), "facets": list(facets)})


def field(key, **clause) -> dict:
    return {"key": key, **clause}


def test_scroll_orders_ids_ints_before_uuids_and_pages_with_inclusive_next_offset():
    out = batch(scrolls=[
        {},                                    # default limit 10
        {"limit": 2},
        {"limit": 2, "offset": 5},             # inclusive offset
        {"limit": 2, "offset": 6},             # a missing id: starts at the next one
        {"limit": 2, "all_pages": True},
        {"limit": 0},                          # no records, next_page_offset is the first id
        {"offset": UUID_B},                    # UUIDs sort after every integer, then by value
        {"limit": 1, "filter": {"must": [field("kw", match={"value": "red"})]}, "with_payload": ["kw"]},
    ])
    s = out["scrolls"]
    assert s[0] == {"ids": [2, 5, 7, 9, UUID_A], "next_page_offset": None}
    assert s[1] == {"ids": [2, 5], "next_page_offset": 7}
    assert s[2] == {"ids": [5, 7], "next_page_offset": 9}
    assert s[3] == {"ids": [7, 9], "next_page_offset": UUID_A}
    assert s[4] == {"pages": [
        {"ids": [2, 5], "next_page_offset": 7},
        {"ids": [7, 9], "next_page_offset": UUID_A},
        {"ids": [UUID_A], "next_page_offset": None},
    ]}
    assert s[5] == {"ids": [], "next_page_offset": 2}
    assert s[6] == {"ids": [UUID_A], "next_page_offset": None}
    assert s[7] == {"ids": [9], "next_page_offset": UUID_A, "payloads": [{"kw": "red"}]}


def test_count_covers_every_condition_type():
    polygon = {"exterior": {"points": [{"lon": 13.0, "lat": 52.0}, {"lon": 14.0, "lat": 52.0},
                                       {"lon": 14.0, "lat": 53.0}, {"lon": 13.0, "lat": 53.0},
                                       {"lon": 13.0, "lat": 52.0}]}}
    hole = {"points": [{"lon": 13.45, "lat": 52.55}, {"lon": 13.6, "lat": 52.55}, {"lon": 13.6, "lat": 52.7},
                       {"lon": 13.45, "lat": 52.7}, {"lon": 13.45, "lat": 52.55}]}  # around the UUID's point
    cases = [
        ({"must": [field("kw", match={"value": "red"})]}, 2),              # 9 and the array of the UUID
        ({"must": [field("kw", match={"any": ["blue", "green"]})]}, 2),
        ({"must": [field("kw", match={"except": ["red"]})]}, 2),            # 2, and the UUID's "blue"
        ({"must": [field("n", match={"value": 8})]}, 1),
        ({"must": [field("n", match={"any": [1, 2]})]}, 2),
        ({"must": [field("text", match={"text": "QUICK"})]}, 2),            # tokenised and lowercased
        ({"must": [field("text", match={"text_any": "fox lazy"})]}, 2),
        ({"must": [field("text", match={"phrase": "quick brown"})]}, 1),
        ({"must": [field("kw", match={"prefix": "bl"})]}, 2),
        ({"must": [field("n", range={"gt": 2, "lte": 7})]}, 2),              # 3 and 7; not [2, 8]
        ({"must": [field("f", range={"gte": 2})]}, 2),
        ({"must": [field("dt", range={"gte": "2024-01-02T23:00:00Z", "lt": "2024-01-04T00:00:00.5Z"})]}, 1),
        ({"must": [field("geo", geo_bounding_box={"top_left": {"lon": 13.0, "lat": 53.0},
                                                   "bottom_right": {"lon": 14.0, "lat": 52.0}})]}, 2),
        ({"must": [field("geo", geo_radius={"center": {"lon": 2.35, "lat": 48.86}, "radius": 1000.0})]}, 1),
        ({"must": [field("geo", geo_polygon=polygon)]}, 2),
        ({"must": [field("geo", geo_polygon={**polygon, "interiors": [hole]})]}, 1),
        ({"must": [field("tags", values_count={"gte": 1})]}, 2),
        ({"must": [{"is_empty": {"key": "tags"}}]}, 3),                    # [], missing, missing
        ({"must": [{"is_null": {"key": "kw"}}]}, 1),
        ({"must": [field("opt", is_empty=True)]}, 5),                      # missing, null and [] alike
        ({"must": [{"has_id": [2, UUID_A, 1000]}]}, 2),
        ({"must": [{"has_vector": ""}]}, 5),
        ({"must": [{"nested": {"key": "items", "filter": {"must": [field("name", match={"value": "x"}),
                                                                   field("qty", range={"gte": 5})]}}}]}, 1),
        ({"must": [field("items[].name", match={"value": "x"}), field("items[].qty", range={"gte": 5})]}, 2),
        ({"min_should": {"conditions": [field("kw", match={"value": "red"}), field("b", match={"value": True}),
                                        field("n", range={"lt": 2})], "min_count": 2}}, 2),
        ({"should": [{"must": [field("b", match={"value": False})]}, {"must_not": [{"has_vector": ""}]}]}, 1),
        ({}, 5),
    ]
    out = batch(counts=[{"filter": f} for f, _ in cases])
    assert out["counts"] == [n for _, n in cases]


def test_match_value_true_is_a_boolean_match():
    # qdrant_edge reads MatchValue(True) as the integer 1; the oracle passes a real boolean, as REST does.
    points = [{"id": i + 1, "vector": [1.0, 0.0], "payload": {"b": v}}
              for i, v in enumerate([True, False, 1, 0, 1.0, "true", [True, 5]])]
    out = batch(points=points, counts=[
        {"filter": {"must": [field("b", match={"value": True})]}},
        {"filter": {"must": [field("b", match={"value": False})]}},
        {"filter": {"must": [field("b", match={"value": 1})]}},
    ])
    assert out["counts"] == [2, 1, 1]
    out = run_oracle({"config": cfg("Cosine"), "counts": [{"filter": {"must": [field("b", match={"any": [True]})]}}]},
                     expect_ok=False)
    assert "match.any must be a list of strings or of integers" in out["error"]


def test_scroll_order_by_lists_a_point_once_per_distinct_value():
    points = [
        {"id": 1, "vector": [1.0, 0.0], "payload": {"f": [0.5, 1.0, 3.0], "d": "2024-01-01T00:00:00Z"}},
        {"id": 2, "vector": [1.0, 0.0], "payload": {"f": [1.0, 1.0], "d": "2024-01-01T00:00:01.25+01:00"}},
        {"id": 3, "vector": [1.0, 0.0], "payload": {"f": "text"}},
    ]
    ops = [{"create_field_index": {"field_name": "f", "field_schema": "float"}},
           {"create_field_index": {"field_name": "d", "field_schema": "datetime"}}]
    out = batch(points=points, ops=ops, scrolls=[
        {"order_by": "f"},
        {"order_by": {"key": "f", "direction": "desc", "start_from": 1.0}},
        {"order_by": {"key": "d"}, "limit": 1},
    ])
    s = out["scrolls"]
    assert s[0]["order_values"] == [0.5, 1.0, 1.0, 3.0]
    assert s[0]["ids"][0] == 1 and sorted(s[0]["ids"][1:3]) == [1, 2] and s[0]["ids"][3] == 1
    assert s[0]["next_page_offset"] is None
    assert s[1]["order_values"] == [1.0, 1.0, 0.5] and sorted(s[1]["ids"][:2]) == [1, 2]
    # Datetimes order by microseconds since the epoch, in UTC.
    assert s[2] == {"ids": [2], "next_page_offset": None, "order_values": [1704063601250000]}


ORDER_BY_NO_INDEX = ("No range index for `order_by` key: `{}`. Please create one to use `order_by`. Check "
                     "https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload "
                     "schemas support Range conditions")
FACET_NO_INDEX = ("No appropriate index for faceting: `{}`. Please create one to facet on this field. Check "
                  "https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload "
                  "schemas support Match conditions")
ORDER_BY_OFFSET = "Validation failed: Offset is not supported when ordering by field"


def test_errors_of_items_are_recorded_verbatim_and_the_batch_goes_on():
    ops = [{"create_field_index": {"field_name": "kw", "field_schema": "keyword"}},
           {"create_field_index": {"field_name": "f", "field_schema": "float"}}]
    open_polygon = {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 1, "lat": 1},
                                            {"lon": 0, "lat": 1}]}}
    out = batch(ops=ops, scrolls=[
        {"order_by": "n"},                     # no index
        {"order_by": "kw"},                    # a keyword index cannot order
        {"order_by": "n", "offset": 2},        # offset is checked before the index
        {"order_by": "f", "offset": 2},
        {"filter": {"must": [field("geo", geo_polygon=open_polygon)]}},
        {"limit": 1},
    ], facets=[
        {"key": "n"},                          # no index
        {"key": "f"},                          # a float index cannot facet
        {"key": "kw", "limit": 1},
    ], counts=[{"filter": {"must": [field("geo", geo_radius={"center": {"lon": 0, "lat": 91}, "radius": 1})]}}])
    s, f = out["scrolls"], out["facets"]
    assert s[0] == {"error": ORDER_BY_NO_INDEX.format("n"), "error_type": "Exception"}
    assert s[1] == {"error": ORDER_BY_NO_INDEX.format("kw"), "error_type": "Exception"}
    assert s[2] == {"error": ORDER_BY_OFFSET, "error_type": "Exception"}
    assert s[3] == {"error": ORDER_BY_OFFSET, "error_type": "Exception"}
    assert s[4]["error"] == ("Validation failed: polygon invalid, the first and the last points should be the "
                             "same to form a closed line")
    assert s[5] == {"ids": [2], "next_page_offset": 5}
    assert f[0] == {"error": FACET_NO_INDEX.format("n"), "error_type": "Exception"}
    assert f[1] == {"error": FACET_NO_INDEX.format("f"), "error_type": "Exception"}
    # kw: red twice (9 and the UUID), blue twice (2 and the UUID); ties go to the smaller value.
    assert f[2] == {"hits": [{"value": "blue", "count": 2}]}
    assert out["counts"][0]["error"].startswith("Wrong format of GeoPoint payload: expected `lat` = 91")


def test_facet_sorts_by_count_then_value_and_canonicalises_uuids():
    points = [{"id": i + 1, "vector": [1.0, 0.0], "payload": p} for i, p in enumerate([
        {"k": "b", "i": 2, "u": UUID_A.upper(), "t": True},
        {"k": ["a", "b", "b"], "i": [1, 2], "u": UUID_A, "t": [True, False]},
        {"k": "c", "i": 1, "u": UUID_B},
        {"k": 3, "i": 1.5},
    ])]
    ops = [{"create_field_index": {"field_name": name, "field_schema": schema}}
           for name, schema in (("k", "keyword"), ("i", "integer"), ("u", "uuid"), ("t", "bool"))]
    out = batch(points=points, ops=ops, facets=[
        {"key": "k"},
        {"key": "k", "filter": {"must": [field("i", match={"value": 1})]}},
        {"key": "i", "exact": True},
        {"key": "u", "limit": 1},
        {"key": "t"},
    ])
    f = out["facets"]
    assert f[0] == {"hits": [{"value": "b", "count": 2}, {"value": "a", "count": 1}, {"value": "c", "count": 1}]}
    assert f[1] == {"hits": [{"value": "a", "count": 1}, {"value": "b", "count": 1}, {"value": "c", "count": 1}]}
    assert f[2] == {"hits": [{"value": 1, "count": 2}, {"value": 2, "count": 2}]}
    assert f[3] == {"hits": [{"value": UUID_A, "count": 2}]}
    assert f[4] == {"hits": [{"value": True, "count": 2}, {"value": False, "count": 1}]}


def test_malformed_batch_items_fail_the_whole_request():
    out = run_oracle({"config": cfg("Cosine"), "counts": [{"filter": {"must": [{"key": "a", "match": {"zz": 1}}]}}]},
                     expect_ok=False)
    assert "unsupported match" in out["error"]
    out = run_oracle({"config": cfg("Cosine"), "scrolls": [{"limit": 1, "page": 2}]}, expect_ok=False)
    assert "scroll: unsupported keys ['page']" in out["error"]
    out = run_oracle({"config": cfg("Cosine"), "facets": [{"limit": 1}]}, expect_ok=False)
    assert "facet.key must be a string" in out["error"]
