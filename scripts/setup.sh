#!/usr/bin/env bash
# Installs everything @x/edge needs on a fresh machine and builds the native library.
# Idempotent and quick when nothing changed: each step is skipped while its input's hash is unchanged.
#   1. npm ci: deno and bun (exact pins, devDependencies) and the benchmark peers;
#   2. .venv: a project-local Python venv with ziglang (the Zig compiler), qdrant-edge-py (test oracle) and
#      the ANN benchmark's embedding model; Debian's package lists (its corpus) if the machine has none;
#   3. zig build: libedge.so for x86-64 baseline, x86-64-v3 and aarch64 (cross-compiled).
set -euo pipefail
cd "$(dirname "$0")/.."
stamps=.cache/stamps
mkdir -p "$stamps"

hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }
fresh() { [ "$(cat "$stamps/$1" 2>/dev/null)" = "$2" ]; }

# hnswlib-node compiles with node-gyp; point it at the system's Node headers so it never downloads them.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi

npm_hash=$(hash_of package.json package-lock.json)
if ! fresh npm "$npm_hash" || [ ! -x node_modules/.bin/deno ] || [ ! -x node_modules/.bin/bun ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_hash" > "$stamps/npm"
fi

py_hash=$(hash_of requirements.txt bench/ann/requirements.txt)
if ! fresh venv "$py_hash" || [ ! -x .venv/bin/python ]; then
  echo "setup: python venv (.venv)" >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  # Packages whose declared dependencies are not needed (PyTorch among them): see the file.
  .venv/bin/pip install --quiet --disable-pip-version-check --no-deps -r bench/ann/requirements.txt
  echo "$py_hash" > "$stamps/venv"
fi

# The ANN benchmark's corpus is the package synopses that `apt-cache dumpavail` lists: fetch the lists once
# on a machine that has none. Not fatal: only that benchmark needs them, and it says so.
if command -v apt-get > /dev/null && ! compgen -G "/var/lib/apt/lists/*_Packages*" > /dev/null; then
  echo "setup: apt-get update (Debian package lists, the ANN benchmark's corpus)" >&2
  if [ "$(id -u)" -ne 0 ] || ! apt-get update -qq; then
    echo "setup: apt-get update failed or needs root; bench/ann/make_dataset.py will have no corpus" >&2
  fi
fi

# Zig's own cache makes an unchanged rebuild take well under a second.
echo "setup: zig build (native/)" >&2
(cd native && ../.venv/bin/python -m ziglang build)
