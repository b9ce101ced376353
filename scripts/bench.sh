#!/usr/bin/env bash
# Runs every benchmark at full size under Deno and Bun (results in bench/results/, summary in
# bench/README.md). Needs a quiet machine: other load skews the timings. CI runs the small sizes instead
# (scripts/test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for bench in bench/*.bench.ts; do
  echo "== $bench (deno)"
  node_modules/.bin/deno run --allow-all "$bench" --full
  echo "== $bench (bun)"
  node_modules/.bin/bun "$bench" --full
done
