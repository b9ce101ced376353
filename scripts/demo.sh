#!/usr/bin/env bash
# The README's first command: installs everything (scripts/setup.sh), then runs the demo under Deno
# with the permissions @x/edge needs, and under Bun.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== demo under Deno"
node_modules/.bin/deno run --allow-ffi --allow-read --allow-write --allow-env scripts/demo.ts .cache/demo-shard
echo "== demo under Bun"
node_modules/.bin/bun scripts/demo.ts .cache/demo-shard
