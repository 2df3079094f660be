#!/usr/bin/env bash
# The several-nodes figures of docs/BENCHMARKS.md (issue #17), on loopback, bounded in count
# and time: a throwaway PostgreSQL, one broker (`nightjar broker`) and three nodes; N light
# device sessions (bench/device_load.cc: MQTT only, one process) registered, bound by their
# own bind tokens and online, each node acting on the reports of the cameras placed on it.
# Prints how long until all were online, then each node's and the broker's CPU and memory
# while they are held.
# Usage: bench/load/cluster_load.sh BUILD_BIN_DIR [devices=1000] [seconds=20]
set -euo pipefail
bin=${1:?path to the bin directory of a build}
devices=${2:-1000}
seconds=${3:-20}
. "$(dirname "$0")/common.sh" cluster-load
root=$(cd "$(dirname "$0")/../.." && pwd)
stop_pg() { "$root/scripts/test-postgres" stop "$work/pg" >/dev/null 2>&1 || true; }
trap 'stop_pg; cleanup' EXIT
machine

chmod 0755 "$work"  # the postgres user reaches its cluster under it
pg_port=$("$root/scripts/test-postgres" start "$work/pg")
psql -X -q -h 127.0.0.1 -p "$pg_port" -U nj -d postgres -c "CREATE DATABASE nightjar"
database="postgresql://nj@127.0.0.1:$pg_port/nightjar"

"$bin/nightjar" broker --dir "$work/broker" --port 0 >"$work/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s "$work/broker/broker.json" ]] && break; sleep 0.1; done
field() { sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$1"; }
mqtt=$(field "$work/broker/broker.json" port)
broker=$(pgrep -f "[m]osquitto -c $work/broker/mosquitto.conf")

nodes=()
https=()
mkdir -p "$work/shared-keys" "$work/keys-at-rest"
for n in a b c; do
  cat >"$work/node-$n.toml" <<EOF
keys = "$work/keys-at-rest"
[http]
max_connections_per_address = 0
[database]
url = "$database"
[cluster]
node = "node-$n"
keys_dir = "$work/shared-keys"
[mqtt]
external_host = "127.0.0.1"
external_port = $mqtt
admin_username = "$(field "$work/broker/broker.json" admin_username)"
admin_password = "$(field "$work/broker/broker.json" admin_password)"
device_logins = "$(field "$work/broker/broker.json" device_logins)"
EOF
  "$bin/nightjar" serve --config "$work/node-$n.toml" --data "$work/node-$n" --http-port 0 \
    --rtsp-port 0 --log-level warn >"$work/node-$n.log" 2>&1 &
  nodes+=($!)
  pids+=($!)
  for _ in $(seq 150); do [[ -f $work/node-$n/ports.json ]] && break; sleep 0.1; done
  https+=("$(sed -E 's/.*"http": ([0-9]+).*/\1/' "$work/node-$n/ports.json")")
done
api="http://127.0.0.1:${https[0]}/api/v1"
echo "idle: nodes RSS $(for p in "${nodes[@]}"; do printf '%s ' "$(rss_mb "$p")"; done)MB, mosquitto RSS $(rss_mb "$broker") MB"

# An account (through node A; its mail kept in the shared database), and the devices.
policy=$(curl -s "$api/policy" | sed -E 's/.*"version": *"([^"]+)".*/\1/')
curl -s -o /dev/null -X POST "$api/auth/register" -H 'Content-Type: application/json' \
  -d "{\"email\":\"load@example.org\",\"password\":\"load test passphrase 42\",\"language\":\"en\",\"policy_version\":\"$policy\"}"
verify=$("$bin/nightjar" admin --data "$work/node-a" --database "$database" outbox |
  grep -o 'token=[A-Za-z0-9_-]*' | tail -1 | cut -d= -f2)
curl -s -o /dev/null -X POST "$api/auth/verify" -H 'Content-Type: application/json' -d "{\"token\":\"$verify\"}"
token=$(curl -s -X POST "$api/auth/login" -H 'Content-Type: application/json' \
  -d '{"email":"load@example.org","password":"load test passphrase 42"}' |
  sed -E 's/.*"token": *"([^"]+)".*/\1/')
auth=(-H "Authorization: Bearer $token")
{ echo serial; for i in $(seq "$devices"); do echo "LOAD-$i"; done; } >"$work/factory.csv"
"$bin/nightjar" admin --data "$work/node-a" --database "$database" --shared-keys "$work/shared-keys" device import \
  --file "$work/factory.csv" >"$work/secrets.csv"
i=0
while IFS=, read -r serial secret; do
  # Bind tokens from each node in turn: any node answers the API.
  node_api="http://127.0.0.1:${https[$((i % 3))]}/api/v1"
  i=$((i + 1))
  bind=$(curl -s -X POST "$node_api/bind-tokens" "${auth[@]}" | sed -E 's/.*"token": *"([^"]+)".*/\1/')
  echo "$serial,$secret,$bind"
done <"$work/secrets.csv" >"$work/devices.csv"

"$bin/device_load" --mqtt "127.0.0.1:$mqtt" --devices "$work/devices.csv" --seconds $((seconds + 120)) \
  >"$work/load.out" &
load=$!
pids+=("$load")
start=$(date +%s.%N)
for _ in $(seq 1200); do
  online=$(curl -s "$api/devices" "${auth[@]}" | { grep -o '"online":true' || true; } | wc -l)
  [[ $online -ge $devices ]] && break
  sleep 0.1
done
echo "$online of $devices devices bound and online after $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}') s"
sleep 2
before=()
for p in "${nodes[@]}" "$broker" "$load"; do before+=("$(cpu "$p")"); done
sleep "$seconds"
k=0
for p in "${nodes[@]}" "$broker" "$load"; do
  name=(node-a node-b node-c mosquitto load-tool)
  awk -v n="${name[$k]}" -v c=$(($(cpu "$p") - before[k])) -v t="$ticks" -v d="$seconds" \
    -v r="$(rss_mb "$p")" 'BEGIN { printf "  %-9s CPU %.2f%% of one core, RSS %s MB\n", n, c / t / d * 100, r }'
  k=$((k + 1))
done
