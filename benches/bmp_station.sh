#!/usr/bin/env bash
# The BMP station's speed: the shared IPv4 full table replayed (`rovgate replay`) into GoBGP
# at 127.0.9.4, which monitors its feeder's Adj-RIB-In pre-policy over BMP to rovgate's
# station (127.0.0.1:11019), against the same table replayed over a direct BGP session into
# rovgate (the feeder a `[[peer]]`). Both rovgates validate against stayrtr's 424,223 VRPs
# (benches/devices.sh) and hold the routes in shadow (monitored) or drop (member). Measured
# each time: from the replay's start until rovgate holds the whole table (the peer's
# `routes` in /api/v1/status stops growing for 5 s: the time of its last change), and the
# replay's own convergence (through GoBGP to its sink; through rovgate to its sink).
#
#   benches/bmp_station.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mrt=../shared/data/tables/fulltable-2024.mrt.gz
port=11179
rtr=18282
gobgp_port=11279
gobgp_api=50151
bmp=11019
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
. benches/devices.sh

routes_of() { # peer name -> its routes in rovgate's status (0 when absent)
  curl -sf http://127.0.9.1:18080/api/v1/status |
    jq --arg n "$1" '[.peers[] | select(.name == $n) | .routes] | first // 0'
}

# Replays the table to $1 (host:port) in the background and prints "seconds routes
# replay_convergence": when peer $2 of rovgate last grew, relative to the replay's start.
# Extra replay arguments after the first two (the direct run's --drop-invalid).
measure() {
  local target=$1 peer=$2 start now count last=0 changed replay
  shift 2
  start=$(date +%s.%N)
  "$bin" replay --mrt "$mrt" --target "$target" --feeder-address 127.0.9.2 --local-as 65001 \
    --sink-address 127.0.9.3 --family v4 --timeout 900 --format json "$@" >"$work/replay.json" 2>"$work/replay.log" &
  local replay_pid=$!
  changed=$start
  while :; do
    count=$(routes_of "$peer")
    now=$(date +%s.%N)
    if [ "$count" != "$last" ]; then last=$count; changed=$now; fi
    if ! kill -0 $replay_pid 2>/dev/null && [ "$count" -gt 0 ] &&
      python3 -c 'import sys; sys.exit(float(sys.argv[1]) - float(sys.argv[2]) < 5)' "$now" "$changed"; then
      break
    fi
    sleep 0.2
  done
  wait $replay_pid || true
  replay=$(jq -r '.runs[0].convergence_seconds // "failed"' "$work/replay.json" 2>/dev/null || echo failed)
  python3 -c 'import sys; print(f"{float(sys.argv[1]) - float(sys.argv[2]):.1f} s, {sys.argv[3]} routes (replay convergence to the sink: {sys.argv[4]} s)")' \
    "$changed" "$start" "$last" "$replay"
}

start_stayrtr

# A direct BGP session: the feeder and the sink are rovgate's members.
{
  rovgate_head
  rovgate_peer feeder 127.0.9.2 65001
  rovgate_peer sink 127.0.9.3 64497
} >"$work/rovgate.toml"
pid=$(start rovgate)
# rovgate drops the invalid routes: the replay's sink does not wait for them.
echo "BGP session into rovgate: $(measure 127.0.9.1:$port feeder --drop-invalid "$work/vrps.json")"
stop "$pid"

# Through GoBGP: rovgate is its BMP station and has no members.
{
  rovgate_head
  printf '[bmp]\n[[bmp.listen]]\naddress = "127.0.0.1:%s"\n' "$bmp"
  printf '[[bmp.router]]\nname = "gobgp"\naddress = "127.0.0.1"\n'
} >"$work/rovgate.toml"
gobgp_neighbor() { # address asn: a passive route-server client
  printf '[[neighbors]]\n[neighbors.config]\nneighbor-address = "%s"\npeer-as = %s\n' "$1" "$2"
  printf '[neighbors.transport.config]\npassive-mode = true\n'
  printf '[neighbors.route-server.config]\nroute-server-client = true\n'
}
{
  cat <<CONF
[global.config]
as = 64510
router-id = "127.0.9.4"
port = $gobgp_port
local-address-list = ["127.0.9.4"]
CONF
  gobgp_neighbor 127.0.9.2 65001
  gobgp_neighbor 127.0.9.3 64497
  cat <<CONF
[[bmp-servers]]
[bmp-servers.config]
address = "127.0.0.1"
port = $bmp
route-monitoring-policy = "pre-policy"
CONF
} >"$work/gobgpd.toml"
pid=$(start rovgate)
gobgpd -f "$work/gobgpd.toml" --api-hosts 127.0.0.1:$gobgp_api >"$work/gobgpd.log" 2>&1 &
gobgpd_pid=$!
until grep -q "BMP router connected\|router connected" "$work/rovgate.log" 2>/dev/null ||
  gobgp -p $gobgp_api neighbor >/dev/null 2>&1; do sleep 0.2; done
sleep 2
echo "GoBGP -> BMP -> rovgate's station: $(measure 127.0.9.4:$gobgp_port gobgp/127.0.9.2)"
kill $gobgpd_pid
stop "$pid"
