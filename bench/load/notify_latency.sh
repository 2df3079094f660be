#!/usr/bin/env bash
# The alarm figure of docs/BENCHMARKS.md (issue #14), on loopback, bounded in count and time:
# N device sessions (bench/device_load.cc) report motion at R new events a second in all;
# one person owns them all, has consented to in-app notifications and keeps a tab open
# (bench/load/notify_listen.mjs). For each start the load tool logs when it published it; the
# tab logs when the notification arrived. Latency is the difference, per device in order.
# Grouping is off ([events] group_seconds = 0, cooldown 0) so every start is told.
# With channel=push the person consents to Web Push only, and one browser of theirs is
# subscribed through a push service on loopback (bench/load/push_listen.mjs: the tests'
# web-push-testing model, which checks VAPID and decrypts every message); latency is then
# to the push service's receipt of the encrypted request, and the server's own histogram
# (deciding -> the push service's answer) is printed beside it.
# PUSH_ANSWER_MS=30 in the environment makes the push service answer each push 30 ms after
# it arrived (an internet round trip): the senders then wait, and queueing shows.
# Usage: bench/load/notify_latency.sh BUILD_BIN_DIR [devices=200] [rate=100] [seconds=30]
#        [channel=in_app|push]
set -euo pipefail
bin=${1:?path to the bin directory of a build}
devices=${2:-200}
rate=${3:-100}
seconds=${4:-30}
channel=${5:-in_app}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh" notify-latency

extra_config='[events]\ngroup_seconds = 0\n'
# A push service on loopback and plain HTTP: allowed here, never by default.
[[ $channel == push ]] && extra_config+='[notify]\npush_hosts = ["127.0.0.1"]\npush_allow_http = true\n'
start_server
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$http/healthz" >/dev/null && break; sleep 0.05; done
machine

token=$(sign_up alarms@example.org)
auth=(-H "Authorization: Bearer $token")
curl -s -o /dev/null -X PUT "$api/me/consents/notify.$channel" "${auth[@]}" -H 'Content-Type: application/json' -d '{"granted":true}'
curl -s -o /dev/null -X PATCH "$api/me/notifications" "${auth[@]}" -H 'Content-Type: application/json' -d '{"cooldown_s":0}'

{ echo serial; for i in $(seq "$devices"); do echo "ALARM-$i"; done; } >"$work/factory.csv"
"$bin/nightjar" admin --data "$work/data" device import --file "$work/factory.csv" >"$work/secrets.csv"
while IFS=, read -r serial secret; do
  bind=$(curl -s -X POST "$api/bind-tokens" "${auth[@]}" | sed -E 's/.*"token": *"([^"]+)".*/\1/')
  echo "$serial,$secret,$bind"
done <"$work/secrets.csv" >"$work/devices.csv"

if [[ $channel == push ]]; then
  node "$here/push_listen.mjs" "$api" "$token" "$work/received" &
else
  node "$here/notify_listen.mjs" "ws://127.0.0.1:$http/api/v1/notifications" "$token" "$work/received" &
fi
listener=$!
pids+=("$listener")
"$bin/device_load" --mqtt "127.0.0.1:$mqtt" --devices "$work/devices.csv" --seconds $((seconds + 25)) \
  --events-per-second "$rate" --events-after 20 --events-log "$work/published" >"$work/load.out" &
load=$!
pids+=("$load")
sleep 18
online=$(curl -s "$api/devices" "${auth[@]}" | { grep -o '"online":true' || true; } | wc -l)
echo "$online of $devices devices bound and online"
sleep 2
s0=$(cpu "$server")
sleep "$seconds"
s1=$(cpu "$server")
wait "$load" || true
sleep 1
if [[ $channel == push ]]; then  # the listener writes what arrived when told to stop
  sleep 1
  kill -TERM "$listener" 2>/dev/null || true
  for _ in $(seq 100); do [[ -s $work/received ]] && break; sleep 0.1; done
fi
# serial → device id, then pair each device's k-th start with its k-th notification.
curl -s "$api/devices" "${auth[@]}" | grep -o '"id":"[0-9a-f]*"[^}]*"serial":"[A-Z0-9-]*"' |
  sed -E 's/"id":"([0-9a-f]*)".*"serial":"([A-Z0-9-]*)"/\2 \1/' >"$work/ids"
awk '
  FILENAME == ARGV[1] { id[$1] = $2; next }
  FILENAME == ARGV[2] { k = id[$1] SUBSEP (++p[id[$1]]); sent[k] = $2; next }
  { k = $1 SUBSEP (++r[$1]); if (k in sent) printf "%.3f\n", ($2 - sent[k]) / 1000 }
  ' "$work/ids" "$work/published" "$work/received" | sort -n >"$work/latency"
published=$(wc -l <"$work/published")
target=$([[ $channel == push ]] && echo "push service received" || echo "in-app WebSocket")
awk -v target="$target" -v published="$published" -v cpu=$((s1 - s0)) -v t="$ticks" -v d="$seconds" '
  { v[++n] = $1 }
  END {
    printf "%d starts published, %d notifications received (paired in order per device)\n", published, n
    printf "publish -> %s: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", target,
      v[int(n * 0.5)], v[int(n * 0.9)], v[int(n * 0.99)], v[n]
    printf "nightjar CPU while reporting: %.1f%% of one core\n", cpu / t / d * 100
  }' "$work/latency"
if [[ $channel == push ]]; then
  echo "the server's own histogram (deciding -> the push service answered):"
  curl -s "http://127.0.0.1:$http/metrics" | grep '^nightjar_notification_push_seconds' || true
fi
