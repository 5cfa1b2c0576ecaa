#!/usr/bin/env bash
# IXP-scale convergence with ROV drop through rovgate, BIRD 2 and OpenBGPD, side by side in
# one run (issue 12). `rovgate replay --members` turns INEX's route-server clients
# (../shared/data/ixp/inex.yml: 83 IPv4 members, one per AS) into sessions from 127.0.9.2,
# .4, .5, ... to the device at 127.0.9.1, SCALE copies of the list (copies 2.. from private
# ASNs). Each member announces 60 % of its IPv4 max-prefix limit as its own slice of the
# shared full table (240,384 routes at scale 1; copies announce the same slices again) and
# receives every other member's slice that is not RPKI-invalid. Each device has one
# rs-client peer per member with the member's max-prefix limit, validates against stayrtr
# and drops invalid routes. Devices take turns, RUNS times each, interleaved; prints each
# run, then per device the median, min and max convergence (first UPDATE sent by any member
# to the last expected prefix at any member), members complete (and the least complete
# member's received/expected), peak RSS (VmHWM; OpenBGPD: the sum over its processes) and
# announcements per unique prefix over all members.
#
#   benches/ixp.sh [RUNS] [SCALE]
#   DEVICES="rovgate bird" benches/ixp.sh 1 10        # a subset; TIMEOUT=SECS per run
#   STUCK=1 benches/ixp.sh                           # the last member stops reading: what it
#                                                    # costs the others (replay --stuck)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
scale=${2:-1}
devices=${DEVICES:-rovgate bird bgpd}
timeout=${TIMEOUT:-900}
mrt=../shared/data/tables/fulltable-2024.mrt.gz
members=../shared/data/ixp/inex.yml
port=11179
rtr=18282
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
. benches/devices.sh
ulimit -n "$(ulimit -Hn)" # a socket per member on both sides

# Hold time 0: at scale 10 BIRD takes longer than a 90 s hold time to bring all sessions up,
# and the members send KEEPALIVEs only once all are up.
replay=("$bin" replay --mrt "$mrt" --target 127.0.9.1:$port --feeder-address 127.0.9.2
  --sink-address 127.0.9.3 --members "$members" --scale "$scale" --hold-time 0
  --stuck "${STUCK:-0}")
# "asn address max_prefix routes" per member, numbered as the replay numbers them.
"${replay[@]}" --list-members > "$work/members"

start_stayrtr
{
  rovgate_head
  while read -r asn address limit _; do rovgate_peer "as$asn-$address" "$address" "$asn" "$limit"; done < "$work/members"
} > "$work/rovgate.toml"
{
  bird_head
  while read -r asn address limit _; do bird_peer "m${address//./_}" "$address" "$asn" "$limit"; done < "$work/members"
} > "$work/bird.conf"
{
  bgpd_head
  while read -r asn address limit _; do bgpd_peer "$address" "$asn" "$limit"; done < "$work/members"
  bgpd_tail
} > "$work/bgpd.conf"

one_run() { # device -> "seconds complete(least) rss_kb announcements_per_prefix max_per_member"
  local pid json rss
  pid=$(start "$1")
  json=$("${replay[@]}" --drop-invalid "$work/vrps.json" --timeout "$timeout" --format json 2>"$work/replay.log") ||
    { tail -3 "$work/replay.log" >&2; echo "replay failed" >&2; }
  rss=$(rss_of "$pid")
  stop "$pid"
  python3 - "$json" "$rss" <<'PY'
import json, sys
try:
    m = json.loads(sys.argv[1])["runs"][0]
except (ValueError, IndexError, KeyError):
    print("nan failed", sys.argv[2], "nan")
    sys.exit()
s, l = m["members"], m["members"]["least_complete"]
print(m["convergence_seconds"], f'{s["complete"]}/{s["members"]}(least:{l["received"]}/{l["expected"]})',
      sys.argv[2], f'{s["announcements_per_prefix"]:.3f}', f'max-per-member:{s["max_announcements_per_prefix"]:.2f}')
PY
}

run_devices
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(wc -l < "$work/members") members (scale $scale, ${STUCK:-0} stuck), $(awk '{s += $4} END {print s}' "$work/members") routes, IPv4, ROV drop, $runs runs each"
for device in $devices; do
  printf '%s' "${results[$device]}" | python3 benches/summary.py "$device" complete
done
