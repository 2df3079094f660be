# What the load scripts share; sourced, not run: `. "$(dirname "$0")/common.sh" NAME` after
# `bin` (the build's bin directory) is set. It gives:
# - work: a scratch directory, removed at exit with every process in `pids` and the server;
# - start_server [ARGS…]: `nightjar serve` on free ports (server, http, rtsp, mqtt, api);
# - cpu [PID], rss_mb [PID]: CPU ticks and resident MB from /proc (the server by default),
#   ticks: ticks per second; machine: the machine line the figures are filed with;
# - sign_up EMAIL: an account verified from the kept mail (no SMTP here); prints its token;
# - make_clip FILE: the 720p H.264+AAC clip at ~2 Mbit/s the issues ask for;
# - peers (tool|ffmpeg, from $peers) for the media scripts: push_run, play_run and ws_run
#   URLS-FILE SECONDS run one pusher, RTSP player or WebSocket viewer per URL for SECONDS,
#   in the background's foreground (run them with &), either from the load tool
#   (bench/rtsp_load.cc, many sessions in one process, pushing a pre-packetized clip) or as
#   real peers: an `ffmpeg -re -c copy` pusher per stream (a write per RTP packet, RTCP
#   sender reports, as cameras do), an `ffmpeg -c copy -f null` player per RTSP viewer, and
#   Node's WebSocket client (one process) reading each live fMP4 feed as it comes, as a
#   browser does. $players (tool|ffmpeg, $peers unless set) says who plays RTSP apart.
work=$(mktemp -d "/tmp/nj-$1-XXXXXX")
ulimit -n "$(ulimit -Hn)"  # a thousand sessions need more than the usual 1,024 descriptors
pids=()
cleanup() {
  for p in "${pids[@]}" $(jobs -p); do
    pkill -P "$p" 2>/dev/null || true  # the peers a background function started
    kill "$p" 2>/dev/null || true
  done
  kill "${server:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ticks=$(getconf CLK_TCK)

start_server() {
  # Every load client is on loopback: one address, so the per-address limit is lifted.
  mkdir -p "$work"
  # extra_config: more TOML for a script's own settings.
  printf '[http]\nmax_connections_per_address = 0\n%b' "${extra_config:-}" >"$work/load.toml"
  "$bin/nightjar" serve --config "$work/load.toml" --data "$work/data" --http-port 0 \
    --rtsp-port 0 --mqtt-port 0 --log-level warn "$@" &
  server=$!
  for _ in $(seq 100); do [[ -f $work/data/ports.json ]] && break; sleep 0.05; done
  http=$(sed -E 's/.*"http": ([0-9]+).*/\1/' "$work/data/ports.json")
  rtsp=$(sed -E 's/.*"rtsp": ([0-9]+).*/\1/' "$work/data/ports.json")
  mqtt=$(sed -E 's/.*"mqtt": ([0-9]+).*/\1/' "$work/data/ports.json")
  api="http://127.0.0.1:$http/api/v1"
}

cpu() { awk '{print $14 + $15}' "/proc/${1:-$server}/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/${1:-$server}/status"; }
machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%Y-%m-%d)"
}

sign_up() {
  local policy verify
  policy=$(curl -s "$api/policy" | sed -E 's/.*"version": *"([^"]+)".*/\1/')
  curl -s -o /dev/null -X POST "$api/auth/register" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"load test passphrase 42\",\"language\":\"en\",\"policy_version\":\"$policy\"}"
  verify=$("$bin/nightjar" admin --data "$work/data" outbox | grep -o 'token=[A-Za-z0-9_-]*' | tail -1 | cut -d= -f2)
  curl -s -o /dev/null -X POST "$api/auth/verify" -H 'Content-Type: application/json' -d "{\"token\":\"$verify\"}"
  curl -s -X POST "$api/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"load test passphrase 42\"}" | sed -E 's/.*"token": *"([^"]+)".*/\1/'
}

make_clip() {
  ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=25 -f lavfi \
    -i sine=frequency=1000:sample_rate=48000 -t 30 -c:v libx264 -preset veryfast -b:v 2M \
    -maxrate 2M -bufsize 2M -g 50 -bf 0 -pix_fmt yuv420p -c:a aac -b:a 64k "$1"
}

peers=${peers:-tool}
players=${players:-$peers}  # RTSP players apart: 500 ffmpeg players do not fit two cores
push_run() {  # URLS-FILE SECONDS; the tool needs $work/clip.njclip, ffmpeg $work/clip.mp4
  if [[ $peers == ffmpeg ]]; then
    while read -r url; do
      timeout "$2" ffmpeg -loglevel quiet -re -stream_loop -1 -i "$work/clip.mp4" -c copy -f rtsp \
        -rtsp_transport tcp "$url" </dev/null &
    done <"$1"
    wait
  else
    "$bin/rtsp_load" run --clip "$work/clip.njclip" --seconds "$2" --push-urls "$1" --threads 1
  fi
}
play_run() {  # URLS-FILE SECONDS
  if [[ $players == ffmpeg ]]; then
    while read -r url; do
      timeout "$2" ffmpeg -nostdin -loglevel quiet -rtsp_transport tcp -i "$url" -map 0 -c copy \
        -f null - &
    done <"$1"
    wait
    echo "$(wc -l <"$1") ffmpeg RTSP players for $2 s"
  else
    "$bin/rtsp_load" run --seconds "$2" --play-urls "$1" --threads 1
  fi
}
ws_run() {  # URLS-FILE SECONDS
  if [[ $peers == ffmpeg ]]; then
    node --experimental-websocket --no-warnings -e '
      const [file, seconds] = process.argv.slice(1);
      const urls = require("fs").readFileSync(file, "utf8").split("\n").filter(Boolean);
      let bytes = 0, messages = 0;
      for (const url of urls) {
        const ws = new WebSocket(url);
        ws.binaryType = "arraybuffer";
        ws.onmessage = (m) => { if (typeof m.data !== "string") { bytes += m.data.byteLength; messages++; } };
      }
      setTimeout(() => {
        console.log(`${urls.length} Node WebSocket viewers: ${messages} fMP4 messages, ${(bytes / 1e6).toFixed(1)} MB`);
        process.exit(0);
      }, Number(seconds) * 1000);
    ' "$1" "$2"
  else
    "$bin/rtsp_load" run --seconds "$2" --ws-urls "$1" --threads 1
  fi
}
