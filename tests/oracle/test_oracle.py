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
