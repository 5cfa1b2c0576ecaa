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
vrps_gz=../shared/data/vrps/rpki-client-2023-05-04-ripe-prepdev.json.gz
port=11179
rtr=18282
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release --quiet
bin=target/release/rovgate

# The feeders' addresses and ASes, as `rovgate replay --peers N --local-as 65001` numbers
# them (the sink's address skipped).
feeder_ip() { local i=$1 n=2; while :; do [ $n -ne 3 ] && { [ "$i" -eq 0 ] && { echo "127.0.9.$n"; return; }; i=$((i - 1)); }; n=$((n + 1)); done; }
feeder_as() { echo $((65001 + $1)); }

python3 - "$vrps_gz" "$work/vrps.json" <<'PY'
import gzip, json, sys
doc = json.load(gzip.open(sys.argv[1]))
for roa in doc["roas"]:
    roa.pop("expires", None)
json.dump(doc, open(sys.argv[2], "w"))
PY
stayrtr -cache "$work/vrps.json" -checktime=false -bind 127.0.0.1:$rtr \
  -metrics.addr 127.0.0.1:19847 -refresh 3600 >"$work/stayrtr.log" 2>&1 &
until grep -q "Server started" "$work/stayrtr.log"; do sleep 0.2; done

{
  printf '[server]\nasn = 64500\nrouter_id = "127.0.9.1"\nlisten = ["127.0.9.1:%s"]\nhttp = "127.0.9.1:18080"\n' $port
  printf '[[rpki.cache]]\naddress = "127.0.0.1:%s"\n' $rtr
  printf '[defaults]\nrov = "drop"\n'
  for i in $(seq 0 $((feeders - 1))); do
    printf '[[peer]]\nname = "feeder%s"\naddress = "%s"\nasn = %s\nrole = "rs-client"\npassive = true\n' \
      "$i" "$(feeder_ip "$i")" "$(feeder_as "$i")"
  done
  printf '[[peer]]\nname = "sink"\naddress = "127.0.9.3"\nasn = 64497\nrole = "rs-client"\npassive = true\n'
} > "$work/rovgate.toml"

{
  cat <<CONF
router id 127.0.9.1;
protocol device {}
protocol direct { ipv4; ipv6; interface "lo"; }
roa4 table r4; roa6 table r6;
protocol rpki rtr1 { roa4 { table r4; }; roa6 { table r6; }; remote 127.0.0.1 port $rtr;
  retry keep 5; refresh keep 3600; expire keep 7200; }
filter rov_in {
  if net.type = NET_IP4 && roa_check(r4, net, bgp_path.last) = ROA_INVALID then reject;
  if net.type = NET_IP6 && roa_check(r6, net, bgp_path.last) = ROA_INVALID then reject;
  accept;
}
template bgp rsc { local 127.0.9.1 port $port as 64500; rs client; multihop; strict bind yes;
  ipv4 { import table; import filter rov_in; export all; next hop keep; };
  ipv6 { import table; import filter rov_in; export all; next hop keep; }; }
protocol bgp sink from rsc { neighbor 127.0.9.3 as 64497; passive yes; }
CONF
  for i in $(seq 0 $((feeders - 1))); do
    echo "protocol bgp feeder$i from rsc { neighbor $(feeder_ip "$i") as $(feeder_as "$i"); passive yes; }"
  done
} > "$work/bird.conf"

mkdir -p /run/openbgpd
{
  cat <<CONF
AS 64500
router-id 127.0.9.1
listen on 127.0.9.1 port $port
socket "$work/bgpd.sock"
rtr 127.0.0.1 { port $rtr }
group "rs" {
  # multihop: OpenBGPD honours `nexthop no-modify` only on multihop sessions (the MRT next
  # hops are not on the shared loopback network); without it every route gets bgpd as next hop.
  transparent-as yes
  set nexthop no-modify
  multihop 2
  passive
  neighbor 127.0.9.3 {
    remote-as 64497
    announce IPv6 unicast
  }
CONF
  for i in $(seq 0 $((feeders - 1))); do
    printf '  neighbor %s {\n    remote-as %s\n    announce IPv6 unicast\n  }\n' "$(feeder_ip "$i")" "$(feeder_as "$i")"
  done
  cat <<CONF
}
deny quick from any ovs invalid
allow from any
allow to any
CONF
} > "$work/bgpd.conf"

start() { # device -> pid (the device is ready to be measured when this returns)
  case $1 in
    rovgate)
      RUST_LOG=warn "$bin" run --config "$work/rovgate.toml" >/dev/null 2>"$work/rovgate.log" &
      local pid=$!
      until curl -sf http://127.0.9.1:18080/api/v1/status | grep -q '"count":424223'; do
        kill -0 $pid 2>/dev/null || { cat "$work/rovgate.log" >&2; exit 1; }
        sleep 0.2
      done
      echo $pid ;;
    bird)
      bird -f -c "$work/bird.conf" -s "$work/bird.ctl" >/dev/null 2>"$work/bird.log" &
      local pid=$!
      until birdc -s "$work/bird.ctl" show route table r4 count 2>/dev/null | grep -q "^[0-9]* of"; do sleep 0.2; done
      sleep 2 # the RTR transfer completes within this; BIRD has no "synced" query
      echo $pid ;;
    bgpd)
      bgpd -n -f "$work/bgpd.conf" >/dev/null || exit 1
      bgpd -d -f "$work/bgpd.conf" >/dev/null 2>"$work/bgpd.log" &
      local pid=$!
      until bgpctl -s "$work/bgpd.sock" show rtr 2>/dev/null | grep -qi "serial"; do sleep 0.2; done
      sleep 2
      echo $pid ;;
  esac
}

rss_of() { # pid -> peak RSS in kB of it and its children (OpenBGPD forks its engines)
  for p in "$1" $(pgrep -P "$1"); do awk '/VmHWM/ {print $2}' /proc/"$p"/status; done |
    awk '{s += $1} END {print s}'
}

one_run() { # device -> "seconds received rss_kb announcements_per_prefix"
  local pid json rss
  pid=$(start "$1")
  json=$("$bin" replay --mrt "$mrt" --target 127.0.9.1:$port --feeder-address 127.0.9.2 \
    --peers "$feeders" --local-as 65001 --sink-address 127.0.9.3 --family "$family" \
    --drop-invalid "$work/vrps.json" --format json 2>/dev/null)
  rss=$(rss_of "$pid")
  kill "$pid"
  # Not this shell's child: wait until it is gone (BIRD takes a while to free 10 tables).
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); run=r["runs"][0]; print(run["convergence_seconds"], run["prefixes_received"], sys.argv[2], run["announcements_per_prefix"])' "$json" "$rss"
}

declare -A results
for i in $(seq "$runs"); do
  for device in $devices; do
    line=$(one_run "$device")
    echo "run $i $device: $line"
    results[$device]+="$line"$'\n'
    sleep 2 # BIRD refuses quick reconnects on the same addresses
  done
done
echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $feeders feeder(s), family $family, ROV drop, $runs runs each"
for device in $devices; do
  printf '%s' "${results[$device]}" | python3 benches/summary.py "$device"
done
