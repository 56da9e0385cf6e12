#!/usr/bin/env bash
# The portal at scale in Chromium (issue 18): seeds a data directory of
# SIZE subscriptions (default 1,000,000) with the cost curve's seeder
# (TestCostCurve, which also prints that size's row of the curve) unless
# one is kept from an earlier run, then times in Chromium the subscriptions
# list's first rows, a filter by state and then by offer, a broad search,
# and opening a subscription (medians of 7 runs, once the server has sent
# the metering backlog of the hours since the directory was last used;
# frontend/e2e/bench-portal.mjs).
# Usage: scripts/bench-portal.sh [SIZE]   (kept in $TMPDIR/marketgate-bench/SIZE)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
size="${1:-1000000}"
keep="${TMPDIR:-/tmp}/marketgate-bench"
frontend_deps
command -v chromium >/dev/null || apt_install chromium
bash scripts/build.sh >/dev/null
if [[ ! -f "$keep/$size/marketgate.db" ]]; then
  step "seeding $size subscriptions (TestCostCurve)"
  env -u MARKETGATE_TEST_POSTGRES_URL MARKETGATE_BENCH_KEEP="$keep" MARKETGATE_BENCH_SIZES="$size" MARKETGATE_BENCH=1 \
    MARKETGATE_BIN="$PWD/bin/marketgate" go test -count=1 -timeout 90m -run 'TestCostCurve' -v . |
    grep -E 'bench_scale_test|^(ok|FAIL|---)|subscriptions:'
fi
step "the portal at $size subscriptions, in Chromium"
(cd frontend && MARKETGATE_BIN="$PWD/../bin/marketgate" MARKETGATE_BENCH_PORTAL_DIR="$keep/$size" node e2e/bench-portal.mjs)
