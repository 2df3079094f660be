# What the load scripts share; sourced, not run: `. "$(dirname "$0")/common.sh" NAME` after
# `bin` (the build's bin directory) is set. It gives:
# - work: a scratch directory, removed at exit with every process in `pids` and the server;
# - start_server [ARGS…]: `nightjar serve` on free ports (server, http, rtsp, mqtt, api);
# - cpu [PID], rss_mb [PID]: CPU ticks and resident MB from /proc (the server by default),
#   ticks: ticks per second; machine: the machine line the figures are filed with;
# - sign_up EMAIL: an account verified from the kept mail (no SMTP here); prints its token;
# - make_clip FILE: the 720p H.264+AAC clip at ~2 Mbit/s the issues ask for.
work=$(mktemp -d "/tmp/nj-$1-XXXXXX")
ulimit -n "$(ulimit -Hn)"  # a thousand sessions need more than the usual 1,024 descriptors
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
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
