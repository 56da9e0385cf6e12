#!/usr/bin/env bash
# Builds the portal (npm ci + Vite) and the binary bin/marketgate with the
# portal embedded. Usage: scripts/build.sh [--go-only]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

if [[ "${1:-}" != "--go-only" ]]; then
  frontend_deps
  step "the portal API's contract (OpenAPI document and TypeScript types)"
  portal_contract
  step "building the portal"
  (cd frontend && npm run --silent build)
fi

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
step "building bin/marketgate ($version)"
mkdir -p bin
go build -trimpath -ldflags "-X github.com/marketgate/marketgate/server/app.Version=$version" -o bin/marketgate .
