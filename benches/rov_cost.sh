#!/usr/bin/env bash
# What ROV costs on the route path: full-table convergence through rovgate with the
# 424,223 VRPs of ../shared/data/vrps loaded from a file and the feeder's `rov` at accept,
# then at drop (interleaved, RUNS times each). `rovgate replay` feeds the shared full table
# from 127.0.9.2 (AS 64496) to rovgate at 127.0.9.1; the sink at 127.0.9.3 waits for every
# prefix that is not RPKI-invalid (under drop) or for every prefix (under accept).
# Prints each run, then per mode the median, min and max convergence and peak RSS.
#
#   benches/rov_cost.sh [RUNS] [v4|v6|all]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
family=${2:-v4}
mrt=../shared/data/tables/fulltable-2024.mrt.gz
vrps=$(realpath ../shared/data/vrps/rpki-client-2023-05-04-ripe-prepdev.json.gz)
port=11179
http=127.0.9.1:18080
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release --quiet
bin=target/release/rovgate

config() { # mode -> config file
  cat > "$work/$1.toml" <<CONF
[server]
asn = 64500
router_id = "127.0.9.1"
listen = ["127.0.9.1:$port"]
http = "$http"
[rpki]
vrp_files = ["$vrps"]
[[peer]]
name = "feeder"
address = "127.0.9.2"
asn = 64496
role = "upstream"
passive = true
rov = "$1"
[[peer]]
name = "sink"
address = "127.0.9.3"
asn = 64497
role = "upstream"
passive = true
CONF
  echo "$work/$1.toml"
}

one_run() { # mode -> "seconds received rss_kb"
  local pid json extra=()
  RUST_LOG=warn "$bin" run --config "$(config "$1")" >/dev/null 2>"$work/rovgate.log" &
  pid=$!
  # Wait until the VRP file is loaded, so every route is validated against all of it.
  until curl -sf "http://$http/api/v1/status" | grep -q '"count":424223'; do sleep 0.2; done
  [ "$1" = drop ] && extra=(--drop-invalid "$vrps")
  json=$("$bin" replay --mrt "$mrt" --target 127.0.9.1:$port --feeder-address 127.0.9.2 \
    --sink-address 127.0.9.3 --family "$family" --format json "${extra[@]}" 2>/dev/null)
  rss=$(awk '/VmHWM/ {print $2}' /proc/"$pid"/status)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); run=r["runs"][0]; print(run["convergence_seconds"], run["prefixes_received"], sys.argv[2], run["announcements_per_prefix"])' "$json" "$rss"
}

declare -A results
for i in $(seq "$runs"); do
  for mode in accept drop; do
    line=$(one_run "$mode")
    echo "run $i rov=$mode: $line"
    results[$mode]+="$line"$'\n'
  done
done
for mode in accept drop; do
  printf '%s' "${results[$mode]}" | python3 benches/summary.py "rov=$mode"
done
