#!/usr/bin/env bash
# Builds the demo as a single-file Bun executable with the native library embedded, runs it from an
# unrelated directory (so nothing can be found through the checkout), and checks what it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(pwd)/dist/edge-demo
node_modules/.bin/bun build --compile scripts/demo_executable.ts --outfile "$out"
elsewhere=$(mktemp -d)
trap 'rm -rf "$elsewhere"' EXIT
cp "$out" "$elsewhere/edge-demo"
cd "$elsewhere"
EDGE_LIB_PATH= ./edge-demo shard > output.txt
cat output.txt
grep -q "inserted 20000 points of 384 dimensions" output.txt
grep -q "reopened in .* ms: 20000 points" output.txt
grep -q "first query after reopening is identical: yes" output.txt
echo "single-file executable: ok ($(du -h "$out" | cut -f1))"
