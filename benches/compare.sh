#!/usr/bin/env bash
# Full-table convergence through rovgate and through BIRD 2, side by side in one run:
# `rovgate replay` feeds the shared full table from 127.0.9.2 (AS 64496) to the device under
# test at 127.0.9.1 and a sink at 127.0.9.3 (AS 64497) waits for every prefix. Devices take
# turns, RUNS times each; prints each run, then per device the median, min, max convergence
# and peak RSS (VmHWM). ROV is off on both (the route server alone).
#
#   benches/compare.sh [RUNS] [v4|v6|all]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
family=${2:-v4}
mrt=../shared/data/tables/fulltable-2024.mrt.gz
port=11179
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release --quiet
bin=target/release/rovgate

cat > "$work/rovgate.toml" <<CONF
[server]
asn = 64500
router_id = "127.0.9.1"
listen = ["127.0.9.1:$port"]
[[peer]]
name = "feeder"
address = "127.0.9.2"
asn = 64496
role = "rs-client"
passive = true
[[peer]]
name = "sink"
address = "127.0.9.3"
asn = 64497
role = "rs-client"
passive = true
CONF

cat > "$work/bird.conf" <<CONF
router id 127.0.9.1;
protocol device {}
protocol direct { ipv4; ipv6; interface "lo"; }
template bgp rsc { local 127.0.9.1 port $port as 64500; rs client; multihop; strict bind yes;
  ipv4 { import table; import all; export all; next hop keep; };
  ipv6 { import table; import all; export all; next hop keep; }; }
protocol bgp feeder from rsc { neighbor 127.0.9.2 as 64496; passive yes; }
protocol bgp sink from rsc { neighbor 127.0.9.3 as 64497; passive yes; }
CONF

start() { # device -> pid
  case $1 in
    rovgate) RUST_LOG=warn "$bin" run --config "$work/rovgate.toml" >/dev/null 2>"$work/rovgate.log" & echo $! ;;
    bird) bird -f -c "$work/bird.conf" -s "$work/bird.ctl" >/dev/null 2>"$work/bird.log" & echo $! ;;
  esac
}

one_run() { # device -> "seconds received rss_kb"
  local pid json
  pid=$(start "$1")
  sleep 1
  json=$("$bin" replay --mrt "$mrt" --target 127.0.9.1:$port --feeder-address 127.0.9.2 \
    --sink-address 127.0.9.3 --family "$family" --format json 2>/dev/null)
  rss=$(awk '/VmHWM/ {print $2}' /proc/"$pid"/status)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); run=r["runs"][0]; print(run["convergence_seconds"], run["prefixes_received"], sys.argv[2])' "$json" "$rss"
}

declare -A results
for i in $(seq "$runs"); do
  for device in rovgate bird; do
    line=$(one_run "$device")
    echo "run $i $device: $line"
    results[$device]+="$line"$'\n'
    sleep 2 # BIRD refuses quick reconnects on the same addresses
  done
done
for device in rovgate bird; do
  printf '%s' "${results[$device]}" | python3 -c '
import sys, statistics
rows = [l.split() for l in sys.stdin if l.strip()]
t = [float(r[0]) for r in rows]; rss = [int(r[2]) for r in rows]
print(f"{sys.argv[1]:8} median {statistics.median(t):.3f} s  min {min(t):.3f}  max {max(t):.3f}  received {rows[0][1]}  peak RSS {max(rss)/1024:.0f} MiB")
' "$device"
done
