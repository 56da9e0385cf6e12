#!/usr/bin/env bash
# Runs every check: formatting, go vet, staticcheck, Go tests with the race
# detector on SQLite and a real PostgreSQL, the portal's type-check, lint and
# unit tests, and a browser test in Chromium against the real binary.
# Installs what it needs (PostgreSQL, Chromium, npm packages) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
trap stop_postgres EXIT

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [[ -n "$unformatted" ]]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi

step "go vet"
go vet ./...

step "staticcheck"
if ! command -v staticcheck >/dev/null && [[ ! -x "$(go env GOPATH)/bin/staticcheck" ]]; then
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
PATH="$PATH:$(go env GOPATH)/bin" staticcheck ./...

step "portal: the API contract, type-check, lint, unit tests"
frontend_deps
contract=(frontend/src/shared/api/portal-openapi.json frontend/src/shared/api/schema.gen.ts)
before=$(cat "${contract[@]}" 2>/dev/null | sha256sum)
# The portal's types come from the server's Go types: regenerate them, so a
# field the portal reads that the API no longer sends fails the type-check.
portal_contract
(cd frontend && npm run --silent typecheck && npm run --silent lint && npm run --silent test)
if [[ "$(cat "${contract[@]}" | sha256sum)" != "$before" ]]; then
  echo "the portal API's contract was stale: ${contract[*]} now match the Go types; commit them" >&2
  exit 1
fi

step "build"
scripts/build.sh

step "PostgreSQL for the store tests"
start_postgres

step "go test -race (SQLite and PostgreSQL, end-to-end against bin/marketgate)"
MARKETGATE_BIN="$PWD/bin/marketgate" go test -race -count=1 -timeout 30m ./...

step "browser test (Chromium + playwright-core)"
if ! command -v chromium >/dev/null; then
  step "installing Chromium (apt-get)"
  apt_install chromium
fi
# A Japanese font, so the Japanese pages' screenshots show text, not boxes.
if ! (command -v fc-list >/dev/null && fc-list :lang=ja | grep -q .); then
  step "installing a Japanese font (apt-get)"
  apt_install fonts-ipafont-gothic
fi
(cd frontend && MARKETGATE_BIN="$PWD/../bin/marketgate" npm run --silent e2e)
echo "screenshots of every page (per role): frontend/e2e/artifacts/"

step "all checks passed"
