#!/usr/bin/env bash
# Runs every test suite of @x/edge and ends with one line `N passed, N failed` summed over all of them:
#   lint     deno lint, deno fmt --check, and deno doc --lint (every export documented)
#   zig      native unit tests (baseline and x86-64-v3 builds), `zig build test`
#   deno     tests/**/*.test.ts under `deno test`
#   bun      the same files under `bun test`
#   python   tests/oracle (the Qdrant Edge oracle's own checks), pytest
#   compile  a `bun build --compile` single-file demo with the native library embedded, run from elsewhere
#   bench    every benchmark at its small size, under Deno and Bun (a run that fails counts as a failure)
# Exits non-zero if any suite fails. Installs what is missing first (scripts/setup.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

logs=.cache/test-logs
mkdir -p "$logs"
total_passed=0
total_failed=0
status=0

# record NAME PASSED FAILED EXIT: adds a suite's counts; a suite that exited non-zero without a counted
# failure still counts one failure, so a crash can never pass as green.
record() {
  local name=$1 passed=${2:-0} failed=${3:-0} code=$4
  if [ "$code" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  [ "$code" -ne 0 ] && status=1
  echo "suite $name: $passed passed, $failed failed (exit $code)"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
}

echo "== lint (deno lint, deno fmt --check, deno doc --lint over the public API)"
{
  node_modules/.bin/deno lint mod.ts lib tests bench scripts &&
    node_modules/.bin/deno fmt --check mod.ts lib tests bench scripts &&
    node_modules/.bin/deno doc --lint mod.ts
} > "$logs/lint.log" 2>&1
code=$?
tail -n 1 "$logs/lint.log"
if [ $code -eq 0 ]; then record lint 1 0 0; else record lint 0 1 $code; fi

echo "== zig"
(cd native && ../.venv/bin/python -m ziglang build test --summary all) > "$logs/zig.log" 2>&1
code=$?
tail -n 3 "$logs/zig.log"
# "Build Summary: 5/5 steps succeeded; 60/60 tests passed" (with "; N failed" when some fail)
zig_line=$(grep -E "tests passed" "$logs/zig.log" | tail -n 1)
zig_passed=$(echo "$zig_line" | sed -nE 's#.* ([0-9]+)/[0-9]+ tests passed.*#\1#p')
zig_failed=$(echo "$zig_line" | sed -nE 's#.*; ([0-9]+) failed.*#\1#p')
record zig "${zig_passed:-0}" "${zig_failed:-0}" $code

echo "== deno"
node_modules/.bin/deno test --allow-all --reporter=junit --junit-path="$logs/deno.xml" tests/ > "$logs/deno.log" 2>&1
code=$?
sed 's/\x1b\[[0-9;]*m//g' "$logs/deno.log" | grep -E "passed|failed" | tail -n 1
# Deno's summary counts describe() blocks as tests; its JUnit report names them, so count the leaves.
read -r deno_passed deno_failed deno_skipped < <(python3 scripts/_count_junit.py "$logs/deno.xml" 2>/dev/null || echo "0 0 0")
record deno "${deno_passed:-0}" "${deno_failed:-0}" $code

echo "== bun"
node_modules/.bin/bun test > "$logs/bun.log" 2>&1
code=$?
grep -E "^ *[0-9]+ (pass|fail)$" "$logs/bun.log"
bun_passed=$(sed -nE 's#^ *([0-9]+) pass$#\1#p' "$logs/bun.log" | tail -n 1)
bun_failed=$(sed -nE 's#^ *([0-9]+) fail$#\1#p' "$logs/bun.log" | tail -n 1)
record bun "${bun_passed:-0}" "${bun_failed:-0}" $code

echo "== python"
.venv/bin/python -m pytest -q tests/oracle > "$logs/python.log" 2>&1
code=$?
tail -n 1 "$logs/python.log"
py_passed=$(tail -n 1 "$logs/python.log" | grep -oE "[0-9]+ passed" | grep -oE "[0-9]+")
py_failed=$(tail -n 1 "$logs/python.log" | grep -oE "[0-9]+ failed" | grep -oE "[0-9]+")
record python "${py_passed:-0}" "${py_failed:-0}" $code

echo "== compile"
bash scripts/check_executable.sh > "$logs/compile.log" 2>&1
code=$?
tail -n 2 "$logs/compile.log"
if [ $code -eq 0 ]; then record compile 1 0 0; else record compile 0 1 $code; fi

echo "== bench (small sizes; full sizes with --full, see bench/README.md)"
for bench in bench/*.bench.ts; do
  name=$(basename "$bench" .bench.ts)
  node_modules/.bin/deno run --allow-all "$bench" > "$logs/bench-$name-deno.log" 2>&1
  code=$?
  if [ $code -eq 0 ]; then record "bench $name (deno)" 1 0 0; else record "bench $name (deno)" 0 1 $code; fi
  node_modules/.bin/bun "$bench" > "$logs/bench-$name-bun.log" 2>&1
  code=$?
  if [ $code -eq 0 ]; then record "bench $name (bun)" 1 0 0; else record "bench $name (bun)" 0 1 $code; fi
done

[ $status -ne 0 ] && echo "logs: $root/$logs"
echo "$total_passed passed, $total_failed failed"
exit $status
