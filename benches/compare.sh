#!/usr/bin/env bash
# Full-table convergence with ROV drop through rovgate, BIRD 2 and OpenBGPD, side by side in
# one run. stayrtr serves the 424,223 VRPs of ../shared/data/vrps (their 2023 `expires`
# removed); each device validates against it over RTR and drops invalid routes. `rovgate
# replay` feeds the shared full table from FEEDERS sessions (127.0.9.2, .4, .5, ...; AS 65001,
# 65002, ...) to the device at 127.0.9.1 and a sink at 127.0.9.3 (AS 64497) waits for every
# prefix that is not RPKI-invalid. Devices take turns, RUNS times each, interleaved; prints
# each run, then per device the median, min, max convergence, prefixes received and peak RSS
# (VmHWM; for OpenBGPD the sum over its processes).
#
#   benches/compare.sh [RUNS] [FEEDERS] [v4|v6|all]
#   DEVICES="rovgate bird" benches/compare.sh 3        # a subset
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
feeders=${2:-1}
family=${3:-v4}
devices=${DEVICES:-rovgate bird bgpd}
mrt=../shared/data/tables/fulltable-2024.mrt.gz
port=11179
rtr=18282
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
. benches/devices.sh

# The feeders' addresses and ASes, as `rovgate replay --peers N --local-as 65001` numbers
# them (the sink's address skipped).
feeder_ip() { local i=$1 n=2; while :; do [ $n -ne 3 ] && { [ "$i" -eq 0 ] && { echo "127.0.9.$n"; return; }; i=$((i - 1)); }; n=$((n + 1)); done; }
feeder_as() { echo $((65001 + $1)); }

start_stayrtr
{
  rovgate_head
  for i in $(seq 0 $((feeders - 1))); do rovgate_peer "feeder$i" "$(feeder_ip "$i")" "$(feeder_as "$i")"; done
  rovgate_peer sink 127.0.9.3 64497
} > "$work/rovgate.toml"
{
  bird_head
  bird_peer sink 127.0.9.3 64497
  for i in $(seq 0 $((feeders - 1))); do bird_peer "feeder$i" "$(feeder_ip "$i")" "$(feeder_as "$i")"; done
} > "$work/bird.conf"
{
  bgpd_head
  bgpd_peer 127.0.9.3 64497
  for i in $(seq 0 $((feeders - 1))); do bgpd_peer "$(feeder_ip "$i")" "$(feeder_as "$i")"; done
  bgpd_tail
} > "$work/bgpd.conf"

one_run() { # device -> "seconds received rss_kb announcements_per_prefix"
  local pid json rss
  pid=$(start "$1")
  json=$("$bin" replay --mrt "$mrt" --target 127.0.9.1:$port --feeder-address 127.0.9.2 \
    --peers "$feeders" --local-as 65001 --sink-address 127.0.9.3 --family "$family" \
    --drop-invalid "$work/vrps.json" --format json 2>/dev/null)
  rss=$(rss_of "$pid")
  stop "$pid"
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); run=r["runs"][0]; print(run["convergence_seconds"], run["prefixes_received"], sys.argv[2], run["announcements_per_prefix"])' "$json" "$rss"
}

run_devices
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $feeders feeder(s), family $family, ROV drop, $runs runs each"
for device in $devices; do
  printf '%s' "${results[$device]}" | python3 benches/summary.py "$device"
done
