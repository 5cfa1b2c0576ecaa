# The devices under test of the side-by-side benchmarks (compare.sh, ixp.sh), sourced by
# them: the VRPs and stayrtr that serve them, each device's config (a head, then one line or
# block per peer), starting a device until it has the VRPs, and its peak RSS.
#
# The sourcing script sets: work (a temporary directory), port (the devices' BGP port, on
# 127.0.9.1), rtr (stayrtr's port). It gets: bin (the release rovgate), and these functions.
# Every device is a route server of AS 64500 with ROV drop; peers connect to it (passive).

cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/rovgate
vrps_gz=../shared/data/vrps/rpki-client-2023-05-04-ripe-prepdev.json.gz

start_stayrtr() { # serves $work/vrps.json: the 424,223 VRPs without their 2023 `expires`
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
}

# rovgate waits for every member's End-of-RIB before it sends anything (its update delay,
# as FRR's bgp update-delay), at most this many seconds; UPDATE_DELAY=0 turns it off.
update_delay=${UPDATE_DELAY:-120}

rovgate_head() {
  printf '[server]\nasn = 64500\nrouter_id = "127.0.9.1"\nlisten = ["127.0.9.1:%s"]\nhttp = "127.0.9.1:18080"\n' "$port"
  printf 'update_delay = %s\n' "$update_delay"
  printf '[[rpki.cache]]\naddress = "127.0.0.1:%s"\n' "$rtr"
  # Every member replays a transit feed, so each is role "upstream": no IXP import checks
  # (tier-1 ASNs are in every path) and its communities pass unchanged (a feed's 0:* are
  # not addressed to rovgate). CHECKS=shadow runs every check without filtering anything
  # (their cost).
  printf '[defaults]\nrov = "drop"\nchecks = "%s"\n' "${CHECKS:-accept}"
  # BMP_STATION=host:port: rovgate also exports BMP to a station there (its memory cost).
  [ -z "${BMP_STATION:-}" ] || printf '[[bmp.station]]\naddress = "%s"\n' "$BMP_STATION"
}

rovgate_peer() { # name address asn [max_prefixes]
  printf '[[peer]]\nname = "%s"\naddress = "%s"\nasn = %s\nrole = "upstream"\npassive = true\n' "$1" "$2" "$3"
  [ -z "${4:-}" ] || printf 'max_prefixes = %s\n' "$4"
}

bird_head() {
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
CONF
}

bird_peer() { # name address asn [receive_limit]: one protocol per peer
  local limit=""
  [ -z "${4:-}" ] || limit=" ipv4 { receive limit $4 action disable; };"
  echo "protocol bgp $1 from rsc { neighbor $2 as $3; passive yes;$limit }"
}

bgpd_head() {
  cat <<CONF
AS 64500
router-id 127.0.9.1
listen on 127.0.9.1 port $port
socket "$work/bgpd.sock"
rtr 127.0.0.1 { port $rtr }
group "rs" {
  # multihop: OpenBGPD honours \`nexthop no-modify\` only on multihop sessions (the MRT next
  # hops are not on the shared loopback network); without it every route gets bgpd as next hop.
  transparent-as yes
  set nexthop no-modify
  multihop 2
  passive
CONF
}

bgpd_peer() { # address asn [max_prefix]
  printf '  neighbor %s {\n    remote-as %s\n    announce IPv6 unicast\n' "$1" "$2"
  [ -z "${3:-}" ] || printf '    max-prefix %s\n' "$3"
  printf '  }\n'
}

bgpd_tail() {
  cat <<CONF
}
deny quick from any ovs invalid
allow from any
allow to any
CONF
}

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
      mkdir -p /run/openbgpd
      bgpd -n -f "$work/bgpd.conf" >/dev/null 2>&1 || { bgpd -n -f "$work/bgpd.conf" >&2; exit 1; }
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

stop() { # pid: not the caller's child, so wait until it is gone (BIRD takes a while to free
  # its tables), then pause: BIRD refuses quick reconnects on the same addresses
  kill "$1"
  while kill -0 "$1" 2>/dev/null; do sleep 0.2; done
  sleep 2
}

# Runs the caller's one_run for each of $devices, $runs times, interleaved; prints each
# run and keeps its line in results[device].
declare -A results
run_devices() {
  local i device line
  for i in $(seq "$runs"); do
    for device in $devices; do
      line=$(one_run "$device")
      echo "run $i $device: $line"
      results[$device]+="$line"$'\n'
    done
  done
}
