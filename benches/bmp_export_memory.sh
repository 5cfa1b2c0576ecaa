#!/usr/bin/env bash
# What a BMP export station ([[bmp.station]]) costs in memory: rovgate's peak RSS (VmHWM)
# with the IPv4 full table replayed from one feeder to a sink, without a station and with
# one that reads and discards everything (a Python listener), RUNS times each; prints both
# and the difference per stored path. No VRPs: every route is not-found, all are exported.
#
#   benches/bmp_export_memory.sh [RUNS]          # BIN=target/debug/rovgate to skip the release build
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
mrt=../shared/data/tables/fulltable-2024.mrt.gz
routes=998042
port=11179
station=11790
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
if [ -z "${BIN:-}" ]; then cargo build --release --quiet; fi
bin=${BIN:-${CARGO_TARGET_DIR:-target}/release/rovgate}

python3 -c '
import socket, sys, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(8)
def drain(c):
    while c.recv(1 << 20): pass
while True:
    c, _ = srv.accept(); threading.Thread(target=drain, args=(c,), daemon=True).start()
' "$station" &

config() { # with_station
  printf '[server]\nasn = 64500\nrouter_id = "127.0.9.1"\nlisten = ["127.0.9.1:%s"]\nhttp = "127.0.9.1:18080"\nupdate_delay = 0\n' "$port"
  printf '[defaults]\nrov = "accept"\n'
  for peer in "feeder0 127.0.9.2 65001" "sink 127.0.9.3 64497"; do
    set -- $peer
    printf '[[peer]]\nname = "%s"\naddress = "%s"\nasn = %s\nrole = "upstream"\npassive = true\n' "$1" "$2" "$3"
  done
  [ "$1" = no ] || printf '[[bmp.station]]\naddress = "127.0.0.1:%s"\nstatistics_seconds = 0\n' "$station"
}

one_run() { # with_station -> peak RSS in kB
  config "$1" > "$work/rovgate.toml"
  RUST_LOG=warn "$bin" run --config "$work/rovgate.toml" >/dev/null 2>"$work/rovgate.log" &
  local pid=$!
  until curl -sf http://127.0.9.1:18080/api/v1/status >/dev/null; do sleep 0.2; done
  "$bin" replay --mrt "$mrt" --target 127.0.9.1:$port --feeder-address 127.0.9.2 --peers 1 \
    --local-as 65001 --sink-address 127.0.9.3 --family v4 --format json >/dev/null 2>&1
  sleep 2 # the station's task catches up with the last batches
  awk '/VmHWM/ {print $2}' /proc/$pid/status
  kill $pid; wait $pid 2>/dev/null || true
}

for i in $(seq "$runs"); do
  for s in no yes; do
    rss=$(one_run $s); echo "run $i station=$s peak RSS $rss kB"; eval "rss_$s+=\" $rss\""
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
no=$(echo "$rss_no" | median); yes=$(echo "$rss_yes" | median)
echo "median peak RSS: without a station $((no / 1024)) MiB, with one $((yes / 1024)) MiB;" \
  "$(( (yes - no) * 1024 / routes )) bytes per mirrored path ($routes paths)"
