#!/usr/bin/env bash
# Runs the Go benchmarks (subscription list at 100,000 subscriptions, the
# answer to a Microsoft webhook call) and prints benchstat-ready output. Usage: scripts/bench.sh [-count N]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${2:-6}"
[[ "${1:-}" == "-count" ]] || count=6
out="${TMPDIR:-/tmp}/marketgate-bench.txt"
{
  go test -run '^$' -bench . -benchtime 200x -count "$count" ./server/api/
  go test -run '^$' -bench . -benchtime 2000x -count "$count" ./server/azuremp/
} | tee "$out"
