#!/usr/bin/env bash
# Runs the benchmarks and prints their figures (medians of repeated runs):
#   - the subscription list at 100,000 subscriptions (go test -bench),
#   - the answer to a Microsoft webhook call (go test -bench),
#   - the metering engine without HTTP (go test -bench): batches of 1,000
#     and groups of 8 on SQLite, and batches of 1,000 with a month of
#     hours kept for every subscription (BenchmarkIngestAfterAMonth; on
#     Postgres too with MARKETGATE_TEST_POSTGRES_URL),
#   - the usage ids' set (store's BenchmarkUsageSeenLookups): its part of
#     ingesting an event, holding four million ids,
#   - the seat check without HTTP (seats' BenchmarkCheck), under a context
#     that cannot be cancelled and under a request's,
#   - metering with the real binary over loopback HTTP on SQLite: the usage
#     API with batches of 1,000 events at 16 concurrent clients and with
#     single events at 64, beside plain inserts of the same rows (the
#     ceiling, measured before each round); dispatch of 10,000 and 100,000 subscriptions × 2 dimensions with 50 ms
#     of added latency per marketplace call; peak RSS of both; the seat check
#     at 10,000 customers × 100 seats (requests/s, p99 latency and CPU per
#     check),
#   - one observation of metering (the health's counts and the last 7 days
#     of records by status) and the metering page's records list (a page
#     and its total) with a week of records kept, 6,000 an hour, on SQLite
#     and, with MARKETGATE_TEST_POSTGRES_URL, on Postgres.
# Usage: scripts/bench.sh [-count N]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
count="${2:-6}"
[[ "${1:-}" == "-count" ]] || count=6
out="${TMPDIR:-/tmp}/marketgate-bench.txt"
frontend_deps
bash scripts/build.sh >/dev/null
{
  go test -run '^$' -bench . -benchtime 200x -count "$count" ./server/api/
  go test -run '^$' -bench . -benchtime 2000x -count "$count" ./server/azuremp/
  go test -run '^$' -bench . -benchtime 30x -count "$count" ./server/metering/
  go test -run '^$' -bench Check -benchtime 20000x -count "$count" ./server/seats/
  go test -run '^$' -bench MeteringHealthAfterAWeek -benchtime 20x -count 1 ./store/
  go test -run '^$' -bench UsageSeenLookups -benchtime 800000x -count "$count" ./store/
  MARKETGATE_BENCH=1 MARKETGATE_BIN="$PWD/bin/marketgate" go test -count=1 -timeout 20m -run 'TestBench' -v . | grep -E 'bench_test|^(ok|FAIL|---)'
} | tee "$out"

# --- Usage ingestion and seat check (issue 18) -------------------------------
# TestBenchUsageAPI (run above with the other TestBench*) prints each usage
# figure as a ratio to its same-run ceiling: plain inserts of the same rows
# into a table alike without HTTP, with ids in sequence and with ids spread
# like random UUIDs, measured just before each round of the API (the median
# of the rounds' ratios), and the server's CPU time per event. Batches of
# 1,000 at 16 clients, single events at 64: each client on a connection of
# its own, writing its requests' bytes itself (as the seat check's clients
# do: Go's http.Client takes about as much of the shared cores as the
# server), and through Go's http.Client too, as earlier figures were.
# With MARKETGATE_TEST_POSTGRES_URL naming a Postgres server (as for the
# tests) it measures the same on Postgres with one and with two replicas in
# the same run, printed beside SQLite, with what the database's sessions
# did during the single events (pg_stat_activity, sampled every 20 ms).
# TestBenchSeatCheck: 10,000 customers × 100 seats at 16 clients,
# requests/s, p99 (with p50 and p90) and the server's CPU time per check;
# then the same users again at 4, 8, 16 and 32 clients (latency against
# load); then at 4 and 16 with the server's threads on one core and the
# load generator's on the other (sched_setaffinity), as when the seller's
# application runs elsewhere. Its clients write requests on connections of
# their own (about 40 µs of CPU a check); one line gives the same users
# through Go's http.Client too (about 75 µs), as earlier figures used.
# Each of those clients waits for its answer before asking again, so they
# ask as fast as the cores answer (saturation). Two lines ask at a fixed
# rate instead (5,000 and 10,000 a second, spread evenly, on up to 64
# connections), the seat check and GET /healthz, on shared cores and then
# with the server on its own core (also at 7,500 a second): each latency
# counts from when the request was due, so a stall counts for every request
# it delays.

# ---- Issue 18 (list, search, dispatch, how cost grows) ----------------------
# The subscription list's queries (default page, offer+plan filter, text
# search broad and for one customer, a page 20,000 rows deep by offset and
# by cursor), the seller's access check, the sealing and dispatch of one
# hour with 50 ms per marketplace call (the real binary), the metering
# health after it, its peak RSS and the database's size at 10,000,
# 100,000 and 1,000,000 subscriptions (MARKETGATE_BENCH_SIZES) on SQLite,
# and at 10,000 and 100,000 on PostgreSQL (one and two replicas
# dispatching) when MARKETGATE_TEST_POSTGRES_URL is set. The 100,000-row
# list through HTTP is BenchmarkListSubscriptions above (deep_keyset_page50
# is the portal's way down a long list).
{
  echo "== how cost grows (TestCostCurve)"
  MARKETGATE_BENCH=1 MARKETGATE_BIN="$PWD/bin/marketgate" go test -count=1 -timeout 90m -run 'TestCostCurve' -v . |
    grep -E 'bench_scale_test|^(ok|FAIL|---)|subscriptions:'
} | tee -a "$out"
