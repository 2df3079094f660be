#!/usr/bin/env bash
# The media figures of docs/BENCHMARKS.md, on loopback, bounded in count and time, with the
# load tool (bench/rtsp_load.cc: our RTSP client and WebSocket code, many sessions in one
# process) instead of one ffmpeg per stream:
#   1. ingest: N pushed streams, no viewers;   2. the same with one WebSocket viewer each,
#   2b. or one RTSP player each;
#   3. fan-out: one stream to V WebSocket viewers;   4. one stream to V RTSP players.
# The server's CPU comes from /proc (the load tool's own is printed apart), RSS from
# /proc/PID/status; first-frame times from the tool; relay delay from /metrics.
# With peers=ffmpeg the pushers, players and viewers are real peers instead (see common.sh):
# the first-frame times (5.) still come from the tool, the only peer that times them. The
# sixth argument sets the RTSP players apart (tool|ffmpeg, the peers' by default): 500
# ffmpeg players do not fit two cores beside the server, the tool's do.
# Usage: bench/load/media_load.sh BUILD_BIN_DIR [streams=200] [viewers=1000] [seconds=20] [tool|ffmpeg] [tool|ffmpeg]
set -euo pipefail
bin=${1:?path to the bin directory of a build}
streams=${2:-200}
viewers=${3:-1000}
seconds=${4:-20}
peers=${5:-tool}
players=${6:-$peers}
. "$(dirname "$0")/common.sh" media-load

# A 720p H.264 + AAC clip at ~2 Mbit/s, as the issue asks.
make_clip "$work/clip.mp4"
start_server
token() { "$bin/nightjar" admin --data "$work/data" stream-token --serial "$1" --purpose "$2" --ttl-seconds 3600; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }
report() {  # label c0 c1 per
  awk -v c="$(($3 - $2))" -v t="$ticks" -v s="$seconds" -v n="$4" -v label="$1" -v rss="$(rss_kb)" \
    'BEGIN { pct = c / t / s * 100; printf "%s: server CPU %.2f%% of one core (%.3f%% per stream), RSS %.1f MB\n", label, pct, pct / n, rss / 1024 }'
}
buckets() {  # output: the relay-delay histogram's cumulative buckets, "le count" per line
  curl -s "http://127.0.0.1:$http/metrics" |
    awk -v out="$1" '$0 ~ "^nightjar_media_relay_delay_seconds_bucket" && index($0, "output=\"" out "\"") {
      match($0, /le="[^"]+"/); print substr($0, RSTART + 4, RLENGTH - 5), $2 }'
}
relay_p99() {  # before-file after-file: the p50 and p99 bounds of what was observed in between
  paste "$1" "$2" | awk '{ b[NR] = $1; n[NR] = $4 - $2 }
    END { total = n[NR]; if (total <= 0) { print "no samples"; exit }
          for (i = 1; i <= NR; i++) if (n[i] >= 0.50 * total) { p50 = b[i]; break }
          for (i = 1; i <= NR; i++) if (n[i] >= 0.99 * total) { p99 = b[i]; break }
          printf "p50 <= %s s, p99 <= %s s (%d frames)\n", p50, p99, total }'
}

machine
echo "peers: $peers, RTSP players: $players"

# The clip, pre-packetized once by the load tool from one ffmpeg pusher, and checked.
ffmpeg -loglevel quiet -re -stream_loop -1 -i "$work/clip.mp4" -c copy -f rtsp -rtsp_transport tcp \
  "rtsp://127.0.0.1:$rtsp/push/SRC?token=$(token SRC push)" </dev/null &
pids+=($!)
sleep 2
"$bin/rtsp_load" record --url "rtsp://127.0.0.1:$rtsp/live/SRC?token=$(token SRC play)" \
  --seconds 14 --out "$work/clip.njclip"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()
echo "server RSS with no streams: $(($(rss_kb) / 1024)) MB"

: >"$work/push.txt"; : >"$work/ws.txt"; : >"$work/play.txt"
for i in $(seq "$streams"); do
  echo "rtsp://127.0.0.1:$rtsp/push/L$i?token=$(token "L$i" push)" >>"$work/push.txt"
  play=$(token "L$i" play)
  echo "ws://127.0.0.1:$http/api/v1/devices/L$i/live?token=$play" >>"$work/ws.txt"
  echo "rtsp://127.0.0.1:$rtsp/live/L$i?token=$play" >>"$work/play.txt"
done
play_one=$(token L1 play)
for i in $(seq "$viewers"); do echo "ws://127.0.0.1:$http/api/v1/devices/L1/live?token=$play_one"; done >"$work/fan-ws.txt"
for i in $(seq "$viewers"); do echo "rtsp://127.0.0.1:$rtsp/live/L1?token=$play_one"; done >"$work/fan-rtsp.txt"

# The pushers run for the whole script; each scenario is measured while they run.
total=$((seconds * 5 + 80))
push_run "$work/push.txt" "$total" >"$work/pushers.out" &
pushers=$!
pids+=($pushers)
sleep 8

echo "-- check: ffprobe on a stream the load tool pushes"
ffprobe -v error -rtsp_transport tcp -show_entries stream=codec_name,width,height,r_frame_rate,sample_rate \
  -of compact "rtsp://127.0.0.1:$rtsp/live/L1?token=$play_one"
ffmpeg -v error -rtsp_transport tcp -i "rtsp://127.0.0.1:$rtsp/live/L1?token=$play_one" -t 5 -f null - 2>&1 |
  head -3 | sed 's/^/  decode error: /'

c0=$(cpu); sleep "$seconds"; c1=$(cpu)
report "1. $streams pushed streams, no viewers" "$c0" "$c1" "$streams"
ingest=$((c1 - c0))
minus_ingest() {  # label c0 c1
  awk -v c="$(($3 - $2 - ingest))" -v t="$ticks" -v s="$seconds" -v label="$1" \
    'BEGIN { printf "   %s, beyond the ingest of case 1: %.2f%% of one core\n", label, c / t / s * 100 }'
}

ws_run "$work/ws.txt" "$((seconds + 4))" >"$work/ws.out" &
sleep 4
buckets ws >"$work/ws0"
c0=$(cpu); sleep "$seconds"; c1=$(cpu)
buckets ws >"$work/ws1"
report "2. $streams pushed streams, one WebSocket viewer each" "$c0" "$c1" "$streams"
wait $! || true
sed 's/^/   /' "$work/ws.out"
echo "   relay delay, WebSocket, in the measured window: $(relay_p99 "$work/ws0" "$work/ws1")"

play_run "$work/play.txt" "$((seconds + 4))" >"$work/play.out" &
sleep 4
buckets rtsp >"$work/rtsp0"
c0=$(cpu); sleep "$seconds"; c1=$(cpu)
buckets rtsp >"$work/rtsp1"
report "2b. $streams pushed streams, one RTSP player each" "$c0" "$c1" "$streams"
wait $! || true
sed 's/^/   /' "$work/play.out"
echo "   relay delay, RTSP, in the measured window: $(relay_p99 "$work/rtsp0" "$work/rtsp1")"

ws_run "$work/fan-ws.txt" "$((seconds + 4))" >"$work/fan-ws.out" &
sleep 4
buckets ws >"$work/ws0"
c0=$(cpu); sleep "$seconds"; c1=$(cpu)
buckets ws >"$work/ws1"
report "3. one stream to $viewers WebSocket viewers (and the $streams pushers)" "$c0" "$c1" 1
minus_ingest "fan-out to $viewers WebSocket viewers" "$c0" "$c1"
wait $! || true
sed 's/^/   /' "$work/fan-ws.out"
echo "   relay delay, WebSocket, in the measured window: $(relay_p99 "$work/ws0" "$work/ws1")"

play_run "$work/fan-rtsp.txt" "$((seconds + 4))" >"$work/fan-rtsp.out" &
sleep 4
buckets rtsp >"$work/rtsp0"
c0=$(cpu); sleep "$seconds"; c1=$(cpu)
buckets rtsp >"$work/rtsp1"
report "4. one stream to $viewers RTSP players (and the $streams pushers)" "$c0" "$c1" 1
minus_ingest "fan-out to $viewers RTSP players" "$c0" "$c1"
wait $! || true
sed 's/^/   /' "$work/fan-rtsp.out"
echo "   relay delay, RTSP, in the measured window: $(relay_p99 "$work/rtsp0" "$work/rtsp1")"

echo "5. first frame for one new viewer at a time (20 of each, 250 ms apart, the $streams pushers running)"
head -20 "$work/fan-ws.txt" >"$work/one-ws.txt"
head -20 "$work/fan-rtsp.txt" >"$work/one-rtsp.txt"
"$bin/rtsp_load" run --seconds 6 --ws-urls "$work/one-ws.txt" --stagger-ms 250 | grep first | sed 's/^/   /'
"$bin/rtsp_load" run --seconds 6 --play-urls "$work/one-rtsp.txt" --stagger-ms 250 | grep first | sed 's/^/   /'


wait "$pushers" 2>/dev/null || true
sed 's/^/   /' "$work/pushers.out"
