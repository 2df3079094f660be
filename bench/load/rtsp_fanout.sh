#!/usr/bin/env bash
# Fan-out to real RTSP players, Nightjar beside GStreamer's RTSP server, in one run: what
# each added `ffmpeg -c copy -f null` player costs the server, on loopback, bounded in count
# and time. The clip is the media issue's (720p H.264 + AAC, ~2 Mbit/s).
# - Nightjar: one `ffmpeg -re` pusher of the clip; one player, then PLAYERS in all.
# - GStreamer: gst-rtsp-server (tests/peers/gst_rtsp_server.cc) relaying the same clip,
#   sent to it as MPEG-TS over UDP by an `ffmpeg -re` pusher (it takes no RTSP push), from
#   one shared live pipeline; one player, then PLAYERS in all.
# - The floor: bench/rtsp_floor.cc writes the stream as a Nightjar player got it (recorded
#   first) to every player, one send a recorded read, and does nothing else.
# Per player = (server CPU with PLAYERS − with one) / (PLAYERS − 1), so the ingest, the
# pipeline and the first player are left out alike. The servers take turns, ROUNDS times:
# a figure on this machine moves by up to a third from one minute to the next.
# Usage: bench/load/rtsp_fanout.sh BUILD_DIR [players=50] [seconds=15] [rounds=2]
set -euo pipefail
build=${1:?path to a build directory (its bin/ and tests/)}
bin=$build/bin
players_n=${2:-50}
seconds=${3:-15}
rounds=${4:-2}
((players_n >= 2)) || { echo "players: at least 2" >&2; exit 2; }
peers=ffmpeg
. "$(dirname "$0")/common.sh" rtsp-fanout

make_clip "$work/clip.mp4"
machine

# PID SECONDS: the process's writes to sockets a second (sendmsg, sendto, write, writev), by
# perf where it is present ("-" where not), in a window of its own after the CPU's.
writes() {
  command -v perf >/dev/null || { echo -; return; }
  perf stat -x, -p "$1" -e syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto \
    -e syscalls:sys_enter_write,syscalls:sys_enter_writev -- sleep "$2" 2>&1 >/dev/null |
    awk -F, -v s="$2" '{ n += $1 } END { printf "%.0f", n / s }'
}

measure() {  # label pid: CPU with one player, then with all of them (players started by the caller)
  local label=$1 pid=$2 c0 c1 c2 c3 r0 r1
  sleep 4
  c0=$(cpu "$pid"); r0=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  sleep "$seconds"
  c1=$(cpu "$pid")
  play_run "$work/rest.txt" $((seconds + 14)) >/dev/null &
  local rest=$!
  sleep 4
  c2=$(cpu "$pid")
  sleep "$seconds"
  c3=$(cpu "$pid"); r1=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  local w
  w=$(writes "$pid" 5)
  awk -v a="$((c1 - c0))" -v b="$((c3 - c2))" -v t="$ticks" -v s="$seconds" -v n="$players_n" \
    -v r="$((r1 - r0))" -v label="$label" -v w="$w" 'BEGIN {
      printf "%-10s one player %.2f%%, %d players %.2f%% of a core: %.3f%% a player, %.0f KB RSS a player",
        label, a / t / s * 100, n, b / t / s * 100, (b - a) / t / s * 100 / (n - 1), r / (n - 1)
      if (w != "-") printf ", %.1f writes a second a player", w / n
      printf "\n" }'
  pkill -P "$rest" 2>/dev/null || true
  wait "$rest" 2>/dev/null || true
}

nightjar_round() {
  start_server
  local play
  token() { "$bin/nightjar" admin --data "$work/data" stream-token --serial F1 --purpose "$1" --ttl-seconds 3600; }
  echo "rtsp://127.0.0.1:$rtsp/push/F1?token=$(token push)" >"$work/push.txt"
  play="rtsp://127.0.0.1:$rtsp/live/F1?token=$(token play)"
  echo "$play" >"$work/first.txt"
  for _ in $(seq $((players_n - 1))); do echo "$play"; done >"$work/rest.txt"
  push_run "$work/push.txt" $((seconds * 2 + 30)) >/dev/null &
  local pusher=$!
  sleep 3
  play_run "$work/first.txt" $((seconds * 2 + 20)) >/dev/null &
  local first=$!
  measure Nightjar "$server"
  pkill -P "$first" 2>/dev/null || true
  pkill -P "$pusher" 2>/dev/null || true
  wait "$first" "$pusher" 2>/dev/null || true
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=
  rm -rf "$work/data"
}

gstreamer_round() {
  local udp
  udp=$(node -e "const s = require('dgram').createSocket('udp4');
    s.bind(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
  "$build/tests/gst_rtsp_server" fan out "$udp" >"$work/gst.out" 2>/dev/null &
  local gst=$!
  pids+=("$gst")
  timeout $((seconds * 2 + 30)) ffmpeg -loglevel quiet -re -stream_loop -1 -i "$work/clip.mp4" \
    -c copy -f mpegts "udp://127.0.0.1:$udp?pkt_size=1316" </dev/null &
  local pusher=$!
  for _ in $(seq 100); do grep -q PORT "$work/gst.out" && break; sleep 0.05; done
  local play first
  play="rtsp://fan:out@127.0.0.1:$(awk '/PORT/ {print $2}' "$work/gst.out")/cam"
  echo "$play" >"$work/first.txt"
  for _ in $(seq $((players_n - 1))); do echo "$play"; done >"$work/rest.txt"
  # Its pipeline starts on the first DESCRIBE. Here, a first DESCRIBE 2 s after the pusher
  # started (one GOP: as a keyframe came) at times left its video stalled for good; 1 s
  # after, it did not in nine tries.
  sleep 1
  play_run "$work/first.txt" $((seconds * 2 + 20)) >/dev/null &
  first=$!
  measure GStreamer "$gst"
  pkill -P "$first" 2>/dev/null || true
  kill "$pusher" 2>/dev/null || true
  wait "$first" "$pusher" 2>/dev/null || true
  kill "$gst"
  wait "$gst" 2>/dev/null || true
}

# The floor: the same stream as a Nightjar player got it (recorded once, below), written by
# bench/rtsp_floor.cc to every player, one send a recorded read a player, nothing else done.
# What any server must at least spend per player here; its writes a second are printed beside.
record_floor() {
  start_server
  token() { "$bin/nightjar" admin --data "$work/data" stream-token --serial F1 --purpose "$1" --ttl-seconds 3600; }
  echo "rtsp://127.0.0.1:$rtsp/push/F1?token=$(token push)" >"$work/push.txt"
  push_run "$work/push.txt" $((seconds * 2 + 40)) >/dev/null &
  local pusher=$!
  sleep 3
  "$bin/rtsp_floor" record "rtsp://127.0.0.1:$rtsp/live/F1?token=$(token play)" \
    "$work/floor.rec" $((seconds * 2 + 20)) >"$work/record.out"
  awk -v s=$((seconds * 2 + 20)) '/^recorded/ {
    printf "floor: %d reads recorded in %d s, so %.1f writes a second a player\n", $2, s, $2 / s }' \
    "$work/record.out"
  pkill -P "$pusher" 2>/dev/null || true
  wait "$pusher" 2>/dev/null || true
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=
  rm -rf "$work/data"
}

floor_round() {
  "$bin/rtsp_floor" serve "$work/floor.rec" >"$work/floor.out" 2>/dev/null &
  local floor=$!
  pids+=("$floor")
  for _ in $(seq 100); do grep -q PORT "$work/floor.out" && break; sleep 0.05; done
  local play first
  play="rtsp://127.0.0.1:$(awk '/PORT/ {print $2}' "$work/floor.out")/cam"
  echo "$play" >"$work/first.txt"
  for _ in $(seq $((players_n - 1))); do echo "$play"; done >"$work/rest.txt"
  play_run "$work/first.txt" $((seconds * 2 + 20)) >/dev/null &
  first=$!
  measure floor "$floor"
  pkill -P "$first" 2>/dev/null || true
  wait "$first" 2>/dev/null || true
  kill "$floor" 2>/dev/null || true
  wait "$floor" 2>/dev/null || true
}

record_floor
for round in $(seq "$rounds"); do
  echo "round $round"
  nightjar_round
  gstreamer_round
  floor_round
done
