#!/usr/bin/env bash
# How much broker CPU provisioning N cameras costs (issue #17), with Nightjar's plugin for the
# cameras' logins (nightjar-devices.so) or mosquitto's dynamic-security plugin alone: a server
# with its embedded broker, `nightjar admin device import` of N devices, and mosquitto's CPU
# ticks counted until it has been idle for 2 s; then the last camera logs in with its secret
# (mosquitto_pub), which proves it was provisioned.
# Usage: bench/load/broker_provisioning.sh BUILD_BIN_DIR [devices=2000] [plugin|dynsec]
set -euo pipefail
bin=${1:?path to the bin directory of a build}
devices=${2:-2000}
mode=${3:-plugin}
. "$(dirname "$0")/common.sh" broker-provisioning

extra_config="[mqtt]\ndevice_logins = \"$mode\"\n"
start_server
broker=$(pgrep -f "[m]osquitto -c $work/data/mqtt/mosquitto.conf")
machine
{ echo serial; for i in $(seq "$devices"); do echo "PROV-$i"; done; } >"$work/factory.csv"
before=$(cpu "$broker")
started=$(date +%s.%N)
"$bin/nightjar" admin --data "$work/data" device import --file "$work/factory.csv" >"$work/secrets.csv"
# Idle: no tick for 2 s, once the server has sent them (it syncs every 2 s).
sleep 3
last=$(cpu "$broker")
idle=0
for _ in $(seq 600); do
  sleep 1
  now=$(cpu "$broker")
  if [[ $now == "$last" ]]; then idle=$((idle + 1)); else idle=0; fi
  last=$now
  [[ $idle -ge 2 ]] && break
done
took=$(awk -v a="$(date +%s.%N)" -v b="$started" 'BEGIN {print a - b - 2}')
IFS=, read -r serial secret < <(tail -1 "$work/secrets.csv")
if mosquitto_pub -h 127.0.0.1 -p "$mqtt" -u "$serial" -P "$secret" -t "nj/v1/$serial/telemetry" \
  -m '{}' -q 1 2>/dev/null; then login=yes; else login=NO; fi
state=$(stat -c %s "$work/data/mqtt/dynamic-security.json")
awk -v n="$devices" -v mode="$mode" -v t=$((last - before)) -v hz="$ticks" -v took="$took" \
  -v state="$state" -v login="$login" 'BEGIN {
    printf "%s devices, %s: mosquitto CPU %.2f s, done in %.1f s, state file %.2f MB, last camera logs in: %s\n",
      n, mode, t / hz, took, state / 1048576, login }'
