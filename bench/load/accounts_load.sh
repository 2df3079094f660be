#!/usr/bin/env bash
# Accounts under load on loopback, bounded in time: sign-in throughput (Argon2id on the
# worker pool) and authenticated GET /api/v1/me, each with wrk at 64 connections; on SQLite,
# then on PostgreSQL (a throwaway cluster, scripts/test-postgres) in the same run (issue #17).
# Usage: bench/load/accounts_load.sh path/to/nightjar [seconds] [sqlite|postgres|both]
set -euo pipefail
bin=${1:?path to nightjar}
seconds=${2:-10}
engines=${3:-both}
[[ $engines == both ]] && engines="sqlite postgres"
root=$(cd "$(dirname "$0")/../.." && pwd)
pg=$(mktemp -d /tmp/nj-load-pg-XXXXXX)
chmod 0755 "$pg"  # the cluster runs as the postgres user
pid=
data=
cleanup() {
  [[ -n $pid ]] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
  [[ -n $data ]] && rm -rf "$data"
  "$root/scripts/test-postgres" stop "$pg/cluster" >/dev/null 2>&1 || true
  rm -rf "$pg"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "date: $(date -u +%Y-%m-%d)"
for engine in $engines; do
  data=$(mktemp -d /tmp/nj-load-XXXXXX)
  # Throttling is raised far above the load so that it measures the work, not the lockout.
  printf '[accounts]\naddress_lockout_threshold = 1000000\n' >"$data/nightjar.toml"
  database=()
  if [[ $engine == postgres ]]; then
    [[ -f $pg/cluster/port ]] || "$root/scripts/test-postgres" start "$pg/cluster" >/dev/null
    url="postgresql://nj@127.0.0.1:$(cat "$pg/cluster/port")/load"
    psql -X -q "postgresql://nj@127.0.0.1:$(cat "$pg/cluster/port")/postgres" \
      -c "DROP DATABASE IF EXISTS load" -c "CREATE DATABASE load"
    printf '[database]\nurl = "%s"\n' "$url" >>"$data/nightjar.toml"
    database=(--database "$url")
  fi
  "$bin" serve --data "$data" --config "$data/nightjar.toml" --http-port 0 --rtsp-port 0 \
    --mqtt-port 0 --web-root "$root/web/dist" --log-level warn &
  pid=$!
  for _ in $(seq 200); do [[ -f $data/ports.json ]] && break; sleep 0.05; done
  port=$(sed -E 's/.*"http": ([0-9]+).*/\1/' "$data/ports.json")
  url=http://127.0.0.1:$port
  json='Content-Type: application/json'

  policy=$(curl -sf "$url/api/v1/policy" | sed -E 's/.*"version":"([^"]+)".*/\1/')
  curl -sf -H "$json" -d "{\"email\":\"load@example.org\",\"password\":\"owl at dusk 77\",\"language\":\"en\",\"policy_version\":\"$policy\"}" \
    "$url/api/v1/auth/register" >/dev/null
  token=$("$bin" admin --data "$data" "${database[@]}" outbox |
    sed -nE 's/.*verify\?token=([A-Za-z0-9_-]+).*/\1/p' | head -1)
  curl -sf -H "$json" -d "{\"token\":\"$token\"}" "$url/api/v1/auth/verify" >/dev/null
  session=$(curl -sf -H "$json" -d '{"email":"load@example.org","password":"owl at dusk 77"}' \
    "$url/api/v1/auth/login" | sed -E 's/.*"token":"([^"]+)".*/\1/')

  echo "### $engine"
  lua=$(mktemp /tmp/nj-login-XXXXXX.lua)
  cat >"$lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"email":"load@example.org","password":"owl at dusk 77"}'
wrk.headers["Content-Type"] = "application/json"
LUA
  echo "== POST /api/v1/auth/login (Argon2id m=19 MiB t=2), wrk -t1 -c64 -d${seconds}s"
  wrk -t1 -c64 -d"${seconds}s" --timeout 10s --latency -s "$lua" "$url/api/v1/auth/login" |
    grep -E 'Requests/sec|50%|99%|Non-2xx|requests in'
  rm -f "$lua"
  echo "== GET /api/v1/me with a Bearer token, wrk -t1 -c64 -d${seconds}s"
  wrk -t1 -c64 -d"${seconds}s" --latency -H "Authorization: Bearer $session" "$url/api/v1/me" |
    grep -E 'Requests/sec|50%|99%|Non-2xx|requests in'
  echo "server RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
  rm -rf "$data"
  data=
done
