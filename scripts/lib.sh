# Shared helpers for the scripts. Source it; do not run it.

step() { printf '\n==> %s (at %d s)\n' "$*" "$SECONDS"; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
apt_install() {
  if [[ -z "$apt_updated" ]]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# frontend_deps runs npm ci when package-lock.json changed since the last one.
frontend_deps() {
  command -v npm >/dev/null || { echo "npm is missing: install Node.js 20" >&2; exit 1; }
  local sum stamp=frontend/node_modules/.marketgate-lock
  sum=$(sha256sum frontend/package-lock.json | cut -d' ' -f1)
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$sum" ]]; then
    step "installing portal dependencies (npm ci)"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
    echo "$sum" > "$stamp"
  fi
  # Some npm packages ship Go files; a go.mod here keeps them out of ./...
  [[ -f frontend/node_modules/go.mod ]] || echo "module node_modules // keeps npm's Go files out of ./..." > frontend/node_modules/go.mod
}

# portal_contract writes the portal API's OpenAPI document, made from the
# server's Go types (server/api/contract.go), and the portal's TypeScript
# types generated from it (frontend/src/shared/api/). Both are committed.
portal_contract() {
  go run ./server/api/gencontract frontend/src/shared/api/portal-openapi.json
  (cd frontend && npm run --silent gen:api >/dev/null)
}

# start_postgres starts a throw-away PostgreSQL server on loopback in a
# temporary directory (installing it when missing) and exports
# MARKETGATE_TEST_POSTGRES_URL. stop_postgres stops it.
pg_dir=""
start_postgres() {
  if [[ -n "${MARKETGATE_TEST_POSTGRES_URL:-}" ]]; then
    echo "using the Postgres server at MARKETGATE_TEST_POSTGRES_URL"
    return
  fi
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    step "installing PostgreSQL (apt-get)"
    apt_install postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  pg_dir=$(mktemp -d /tmp/marketgate-pg.XXXXXX)
  local port run=()
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres "$pg_dir"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
  "${run[@]}" "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_dir -c fsync=off -c synchronous_commit=off -c max_connections=400" start >/dev/null
  export MARKETGATE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  PG_BIN="$bin"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_postgres() {
  if [[ -n "$pg_dir" ]]; then
    local run=()
    [[ $(id -u) -eq 0 ]] && run=(runuser -u postgres --)
    "${run[@]}" "$PG_BIN/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
    pg_dir=""
  fi
}
