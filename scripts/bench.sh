#!/usr/bin/env bash
# Runs the Go benchmarks (subscription list at 100,000 subscriptions) and
# prints benchstat-ready output. Usage: scripts/bench.sh [-count N]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${2:-6}"
[[ "${1:-}" == "-count" ]] || count=6
go test -run '^$' -bench . -benchtime 200x -count "$count" ./server/api/ | tee /tmp/marketgate-bench.txt
