#!/usr/bin/env bash
# Builds everything and runs Marketgate in sandbox mode on SQLite (./data),
# with demo data and a ready admin account. Extra arguments go to serve.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh

export MARKETGATE_SANDBOX=true
export MARKETGATE_ADMIN_EMAIL="${MARKETGATE_ADMIN_EMAIL:-admin@example.com}"
export MARKETGATE_ADMIN_PASSWORD="${MARKETGATE_ADMIN_PASSWORD:-marketgate-sandbox}"
addr="${MARKETGATE_ADDR:-127.0.0.1:8080}"
export MARKETGATE_ADDR="$addr"

cat <<MSG

  Marketgate (sandbox) is starting on  http://$addr
  Sign in with  $MARKETGATE_ADMIN_EMAIL  /  $MARKETGATE_ADMIN_PASSWORD
  Data lives in ${MARKETGATE_DATA_DIR:-./data}; delete it to start over. Ctrl-C stops.

MSG
exec bin/marketgate serve "$@"
