#!/usr/bin/env bash
# The recording figures of docs/BENCHMARKS.md (issue #6), on loopback, bounded in count and
# time: N cameras pushing a pre-encoded 720p H.264+AAC clip at ~2 Mbit/s (the media load
# tool), first only relayed, then each also recorded by a continuous plan (fdatasync on
# every fragment, as configured by default). The server's CPU from /proc for both, the
# difference per camera; the index size per camera-minute and the recorded bytes against
# the media bytes from the database itself.
# With storage=s3 the media go to a real S3 (Ceph's RADOS Gateway, started here by
# scripts/test-rgw; issue #17) instead of files; the gateway's own CPU is shown beside.
# With peers=ffmpeg the cameras are `ffmpeg -re -c copy` pushers instead (see common.sh).
# Usage: bench/load/recording_load.sh BUILD_BIN_DIR [cameras=100] [seconds=20] [files|s3] [tool|ffmpeg]
set -euo pipefail
bin=${1:?path to the bin directory of a build}
cameras=${2:-100}
seconds=${3:-20}
storage=${4:-files}
peers=${5:-tool}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh" recording-load

make_clip "$work/clip.mp4"
if [[ $storage == s3 ]]; then
  "$here/../../scripts/test-rgw" start "$work/rgw" >/dev/null
  trap '"$here/../../scripts/test-rgw" stop "$work/rgw" >/dev/null 2>&1 || true; cleanup' EXIT
  . "$work/rgw/s3.env"
  printf '%s\n%s\n' "$NJ_S3_ACCESS_KEY" "$NJ_S3_SECRET_KEY" >"$work/s3.keys"
  extra_config="[storage]\nendpoint = \"$NJ_S3_ENDPOINT\"\nbucket = \"$NJ_S3_BUCKET\"\nregion = \"$NJ_S3_REGION\"\nkey_file = \"$work/s3.keys\"\n"
fi
start_server
gateway_cpu() {
  local total=0
  for f in "$work"/rgw/run/{rgw,osd,mon}.pid; do
    [[ -f $f ]] && total=$((total + $(cpu "$(cat "$f")")))
  done
  echo "$total"
}
stored() { sqlite3 "$work/data/nightjar.db" "SELECT COALESCE(SUM(bytes), 0) FROM recording_segments"; }
admin() { "$bin/nightjar" admin --data "$work/data" "$@"; }
machine

# An account that owns every camera (each added with its label's pairing code).
token=$(sign_up load@example.org)
{ echo serial; for i in $(seq "$cameras"); do echo "L$i"; done; } >"$work/factory.csv"
admin device import --file "$work/factory.csv" >/dev/null
: >"$work/push.txt"
for i in $(seq "$cameras"); do
  code=$(admin device label --serial "L$i" | sed -E 's/.*"pairing_code":"([^"]+)".*/\1/')
  curl -s -o /dev/null -X POST "$api/devices" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"serial\":\"L$i\",\"pairing_code\":\"$code\"}"
  echo "rtsp://127.0.0.1:$rtsp/push/L$i?token=$(admin stream-token --serial "L$i" --purpose push --ttl-seconds 3600)" >>"$work/push.txt"
done
admin plan create --name bench --days 7 --mode continuous >/dev/null

# The clip, pre-packetized once by the load tool from one ffmpeg pusher.
ffmpeg -loglevel quiet -re -stream_loop -1 -i "$work/clip.mp4" -c copy -f rtsp -rtsp_transport tcp \
  "rtsp://127.0.0.1:$rtsp/push/SRC?token=$(admin stream-token --serial SRC --purpose push)" </dev/null &
pids+=($!)
sleep 2
"$bin/rtsp_load" record --url "rtsp://127.0.0.1:$rtsp/live/SRC?token=$(admin stream-token --serial SRC --purpose play)" \
  --seconds 14 --out "$work/clip.njclip" >/dev/null
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()

echo "peers: $peers"
push_run "$work/push.txt" $((seconds * 2 + 60)) >"$work/pushers.out" &
pids+=($!)
sleep 8
c0=$(cpu); sleep "$seconds"; c1=$(cpu)
relay=$((c1 - c0))
awk -v c="$relay" -v t="$ticks" -v s="$seconds" -v n="$cameras" -v rss="$(rss_mb)" \
  'BEGIN { p = c / t / s * 100; printf "1. %d cameras relayed, not recorded: server CPU %.2f%% of one core (%.3f%% per camera), RSS %s MB\n", n, p, p / n, rss }'

# Every camera gets the plan: the server records them all.
for i in $(seq "$cameras"); do admin plan grant --serial "L$i" --plan bench --for-days 30 >/dev/null; done
sleep 12
c0=$(cpu); g0=$(gateway_cpu); s0=$(stored); w0=$(awk '/^write_bytes/ {print $2}' "/proc/$server/io")
sleep "$seconds"
c1=$(cpu); g1=$(gateway_cpu); s1=$(stored)
w1=$(awk '/^write_bytes/ {print $2}' "/proc/$server/io")
awk -v c="$((c1 - c0))" -v r="$relay" -v t="$ticks" -v s="$seconds" -v n="$cameras" -v rss="$(rss_mb)" -v w="$((w1 - w0))" \
  -v st="$storage" -v up="$((s1 - s0))" -v g="$((g1 - g0))" \
  'BEGIN { p = c / t / s * 100; d = (c - r) / t / s * 100;
           printf "2. %d cameras relayed and recorded to %s: server CPU %.2f%% of one core (%.3f%% per camera; recording alone %.3f%% per camera), RSS %s MB, written to disk %.1f MB/s, stored %.1f MB/s", n, st, p, p / n, d / n, rss, w / s / 1048576, up / s / 1048576;
           if (st == "s3") printf "; the gateway (rgw, osd, mon) %.1f%% of one core", g / t / s * 100;
           printf "\n" }'
grep -E "streaming" "$work/pushers.out" | sed 's/^/   pushers: /' || true

# Clip export over HTTP: each camera's whole recording as one clip.mp4, streamed by the
# server from the files just written, read by curl to /dev/null. Since issue #18 their pages
# leave the page cache once durable, so this reads them back from the disk.
sqlite3 "$work/data/nightjar.db" "SELECT device_id, MIN(start_ms), MAX(end_ms) FROM recording_segments
    GROUP BY device_id" | while IFS='|' read -r id from to; do
  curl -s -o /dev/null -w '%{size_download} %{time_total}\n' -H "Authorization: Bearer $token" \
    "$api/devices/$id/clip.mp4?from=$from&to=$to"
done | awk '{ bytes += $1; time += $2; n++ }
  END { printf "4. clip export over HTTP: %d clips, %.1f MB in %.2f s: %.0f MB/s (curl, one at a time)\n", n, bytes / 1048576, time, bytes / 1048576 / time }'

# Playback over HTTP, as a player asks: each camera's playlist, then every fragment it lists by
# its byte range (the init once), one curl with kept-alive connections, one request at a time.
sqlite3 "$work/data/nightjar.db" "SELECT DISTINCT device_id FROM recording_segments" | while read -r id; do
  from=$(sqlite3 "$work/data/nightjar.db" "SELECT MIN(start_ms) FROM recording_segments WHERE device_id = '$id'")
  curl -s -H "Authorization: Bearer $token" "$api/devices/$id/playback.m3u8?from=$from" |
    awk -v base="$api/devices/$id/" -v auth="Authorization: Bearer $token" '
      function ask(uri, from, n) {  # one transfer of its own (curl config: "next" between)
        printf "next\nurl = \"%s%s\"\nrange = \"%d-%d\"\noutput = \"/dev/null\"\nheader = \"%s\"\nwrite-out = \"%%{http_code} %%{size_download} %%{time_total}\\n\"\n", base, uri, from, from + n - 1, auth
      }
      /^#EXT-X-MAP:/ { match($0, /URI="[^"]+"/); uri = substr($0, RSTART + 5, RLENGTH - 6)
                       match($0, /BYTERANGE="[0-9]+@[0-9]+"/); split(substr($0, RSTART + 11, RLENGTH - 12), r, "@")
                       if (!(uri in maps)) { maps[uri] = 1; ask(uri, r[2], r[1]) } }
      /^#EXT-X-BYTERANGE:/ { split(substr($0, 18), r, "@"); n = r[1]; o = r[2]; next_is_uri = 1; next }
      next_is_uri && !/^#/ { ask($0, o, n); next_is_uri = 0 }'
done | tail -n +2 >"$work/playback.curl"  # no "next" before the first
curl -s -K "$work/playback.curl" |
  awk '{ if ($1 != 206 && $1 != 200) bad++; bytes += $2; time += $3; n++ }
  END { printf "5. playback over HTTP: %d byte-range requests (%d not 200/206), %.1f MB in %.2f s: %.0f MB/s, %.1f ms a request (curl, one at a time)\n", n, bad, bytes / 1048576, time, bytes / 1048576 / time, time / n * 1000 }'

# What the index and the files hold, from the database (open segments included, as they are
# saved every 10 s).
sqlite3 "$work/data/nightjar.db" "SELECT COUNT(*), SUM(bytes), SUM(media_bytes), SUM(LENGTH(fragments)),
    SUM(end_ms - start_ms) FROM recording_segments" | awk -F'|' -v n="$cameras" \
  '{ minutes = $5 / 60000; printf "3. recorded %.1f camera-minutes in %d segments: fragment tables %.0f bytes per camera-minute; with the rows (about 200 bytes per 10-minute segment) %.0f bytes per camera-minute in steady state; files %.4f x the media bytes\n", minutes, $1, $4 / minutes, $4 / minutes + 20, $2 / $3 }'
