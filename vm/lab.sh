#!/usr/bin/env bash
# The rovgate ROV lab: a small exchange in network namespaces on one Linux machine, with real
# routers (BIRD 2, OpenBGPD, FRR), a real RPKI cache (stayrtr), rovgate as the route server,
# a prefix hijack you can see in the data plane, and the operator scenarios. No Docker.
#
#   vm/lab.sh [--name NAME] up [--client bird|openbgpd|frr]
#   vm/lab.sh [--name NAME] status
#   vm/lab.sh [--name NAME] scenario hijack|cache-loss|customer-invalid|router-config
#   vm/lab.sh [--name NAME] client bird|openbgpd|frr
#   vm/lab.sh [--name NAME] down
#
# See vm/README.md for the topology and what each scenario shows. Needs root (ip netns).
# tests/lab.rs runs every scenario as rovgate's end-to-end test.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
CONF=$HERE/conf

usage() {
  cat <<'EOF'
usage: vm/lab.sh [--name NAME] COMMAND

commands:
  up [--client bird|openbgpd|frr]   build the lab (idempotent: repairs what is missing)
  status                            sessions, RTR state, report summary, where the client's
                                    traffic to 203.0.113.10 goes
  scenario NAME                     run one scenario: hijack, cache-loss, customer-invalid,
                                    router-config (or "all")
  client bird|openbgpd|frr          replace the client's router
  down                              remove everything the lab made

options:
  --name NAME   lab name (default rovlab, or $LAB_NAME): namespaces are NAME-rs, NAME-rpki,
                NAME-victim, NAME-hijacker, NAME-client and NAME-ix (the exchange's switch);
                several labs with different names run side by side

environment:
  ROVGATE            rovgate binary (default target/release/rovgate, built when missing)
  LAB_DIR            state directory (default ${TMPDIR:-/tmp}/rovgate-lab-NAME)
  LAB_RTR_REFRESH    stayrtr's RTR refresh, retry and expire in seconds (default 2, 1, 10:
  LAB_RTR_RETRY        short, so that the cache-loss scenario reaches expire quickly)
  LAB_RTR_EXPIRE
  LAB_KEEP=1         keep a lab whose `up` failed, for inspection
EOF
}

die() {
  echo "lab.sh: error: $*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------
# Arguments and names

LAB=${LAB_NAME:-rovlab}
# --name may come anywhere; everything else is the command and its arguments.
args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --name) [[ $# -ge 2 ]] || die "--name needs a value"; LAB=$2; shift 2 ;;
    --name=*) LAB=${1#--name=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- "${args[@]}"
[[ $# -ge 1 ]] || { usage >&2; exit 2; }
COMMAND=$1
shift
[[ $LAB =~ ^[a-z0-9][a-z0-9-]{0,23}$ ]] ||
  die "lab name '$LAB': use 1 to 24 lower-case letters, digits and dashes"

STATE=${LAB_DIR:-${TMPDIR:-/tmp}/rovgate-lab-$LAB}
RTR_REFRESH=${LAB_RTR_REFRESH:-2}
RTR_RETRY=${LAB_RTR_RETRY:-1}
RTR_EXPIRE=${LAB_RTR_EXPIRE:-10}
FRR=/usr/lib/frr

# The hosts, each in its own namespace, and their addresses on the exchange LAN.
HOSTS=(rs rpki victim hijacker client)
declare -A LAN=([rs]=192.0.2.1 [victim]=192.0.2.10 [client]=192.0.2.20 [hijacker]=192.0.2.66)
declare -A OWNER=([192.0.2.10]=victim [192.0.2.66]=hijacker)
RTR_RS=198.18.0.1      # the RTR link between rs and rpki
RTR_CACHE=198.18.0.2
SERVICE=203.0.113.10   # held by victim and hijacker alike; answers with its owner's name
API=http://127.0.0.1:8080

ns() { echo "$LAB-$1"; }

# How to call this lab again, for hints.
ME=$0
[[ $LAB == rovlab ]] || ME="$0 --name $LAB"

# ---------------------------------------------------------------------------------------
# Output

say() { printf '%s\n' "$*"; }
step() { printf '\n-- %s\n' "$*"; }
indent() { sed 's/^./   &/'; }

# ---------------------------------------------------------------------------------------
# Waiting

# wait_until SECONDS WHAT COMMAND...: runs COMMAND every 0.2 s until it succeeds; dies naming
# WHAT after SECONDS.
wait_until() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      diagnose >&2
      die "timed out after ${limit}s waiting for: $what (logs in $STATE)"
    fi
    sleep 0.2
  done
}

# What rovgate says now, for a failure message.
diagnose() {
  local s
  s=$(status_json 2>/dev/null) || return 0
  echo "rovgate's status now:"
  jq -c '.vrps, .sources[], .peers[], .reevaluation' <<<"$s" | sed 's/^/  /'
}

# ---------------------------------------------------------------------------------------
# Prerequisites

need_root() {
  [[ $(id -u) -eq 0 ]] || die "the lab needs root for network namespaces: sudo $ME $COMMAND"
}

need_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 ||
      die "$c is not installed (Debian: apt-get install $(pkg_of "$c"))"
  done
}

pkg_of() {
  case $1 in
    ip | ss | bridge) echo iproute2 ;;
    bird | birdc) echo bird2 ;;
    bgpd | bgpctl) echo openbgpd ;;
    vtysh) echo frr ;;
    *) echo "$1" ;;
  esac
}

need_client_tools() {
  case $1 in
    bird) need_cmd bird birdc ;;
    openbgpd) need_cmd bgpd bgpctl ;;
    frr)
      need_cmd vtysh
      [[ -x $FRR/zebra && -x $FRR/bgpd ]] || die "FRR is not installed (Debian: apt-get install frr)"
      ;;
    *) die "unknown client router '$1': bird, openbgpd or frr" ;;
  esac
}

# The rovgate binary: $ROVGATE, or the repository's release build (built when missing).
find_rovgate() {
  if [[ -n ${ROVGATE:-} ]]; then
    [[ -x $ROVGATE ]] || die "ROVGATE=$ROVGATE is not an executable file"
  else
    ROVGATE=$REPO/target/release/rovgate
    if [[ ! -x $ROVGATE ]]; then
      say "building rovgate (cargo build --release) ..."
      (cd "$REPO" && cargo build --release) || die "cargo build --release failed"
    fi
  fi
  ROVGATE=$(realpath "$ROVGATE")
}

# ---------------------------------------------------------------------------------------
# Processes: each daemon runs in its host's namespace, its pid in $STATE/NAME.pid.

# Whether process NAME runs (in one of this lab's namespaces: a reused pid does not count).
alive() {
  local f=$STATE/$1.pid pid
  [[ -s $f ]] || return 1
  pid=$(<"$f")
  in_lab "$pid"
}

# Whether PID is a live (not zombie) process in one of this lab's namespaces.
in_lab() {
  local pid=$1 where
  [[ -r /proc/$pid/status ]] || return 1
  grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && return 1
  where=$(ip netns identify "$pid" 2>/dev/null) || return 1
  [[ $where == "$LAB"-* ]]
}

# start NAME HOST LOG COMMAND...: starts COMMAND in HOST's namespace, in its own session
# (Ctrl-C in the terminal does not reach it), output appended to LOG.
start() {
  local name=$1 host=$2 log=$3
  shift 3
  ip netns exec "$(ns "$host")" setsid "$@" </dev/null >>"$log" 2>&1 &
  echo "$!" >"$STATE/$name.pid"
}

# stop NAME: SIGTERM, then SIGKILL after 5 s.
stop() {
  local f=$STATE/$1.pid pid i
  [[ -s $f ]] || return 0
  pid=$(<"$f")
  rm -f "$f"
  in_lab "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    in_lab "$pid" || break
    sleep 0.1
  done
  if in_lab "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

# listening HOST ADDRESS:PORT: whether a TCP socket listens there in HOST's namespace.
listening() {
  ip netns exec "$(ns "$1")" ss -Hltn "sport = :${2##*:}" | grep -qF "$2"
}

# ---------------------------------------------------------------------------------------
# The network

lab_exists() { [[ -e /run/netns/$(ns rs) || -d $STATE ]]; }

ensure_ns() {
  local n
  n=$(ns "$1")
  [[ -e /run/netns/$n ]] || ip netns add "$n"
  ip -n "$n" link set lo up
}

# The exchange: a bridge in namespace ix, one veth per member (ix0 in the member's
# namespace); the RTR link: a veth pair rtr0 between rs and rpki.
net_up() {
  local h
  for h in ix "${HOSTS[@]}"; do ensure_ns "$h"; done
  ip -n "$(ns ix)" link show br0 >/dev/null 2>&1 || ip -n "$(ns ix)" link add br0 type bridge
  ip -n "$(ns ix)" link set br0 up
  for h in rs victim hijacker client; do
    if ! ip -n "$(ns "$h")" link show ix0 >/dev/null 2>&1; then
      ip -n "$(ns ix)" link del "$h" >/dev/null 2>&1 || true
      ip link add ix0 netns "$(ns "$h")" type veth peer name "$h" netns "$(ns ix)"
    fi
    ip -n "$(ns ix)" link set "$h" master br0 up
    ip -n "$(ns "$h")" link set ix0 up
    ip -n "$(ns "$h")" addr replace "${LAN[$h]}/24" dev ix0
  done
  if ! ip -n "$(ns rs)" link show rtr0 >/dev/null 2>&1; then
    ip -n "$(ns rpki)" link del rtr0 >/dev/null 2>&1 || true
    ip link add rtr0 netns "$(ns rs)" type veth peer name rtr0 netns "$(ns rpki)"
  fi
  ip -n "$(ns rs)" link set rtr0 up
  ip -n "$(ns rpki)" link set rtr0 up
  ip -n "$(ns rs)" addr replace "$RTR_RS/24" dev rtr0
  ip -n "$(ns rpki)" addr replace "$RTR_CACHE/24" dev rtr0
  # The contested service address, on lo in both namespaces (no dummy devices needed).
  ip -n "$(ns victim)" addr replace "$SERVICE/32" dev lo
  ip -n "$(ns hijacker)" addr replace "$SERVICE/32" dev lo
}

# render TEMPLATE OUT: a config template from vm/conf with @DIR@ set to OUT's folder.
render() {
  local dir
  dir=$(dirname "$2")
  sed "s|@DIR@|$dir|g" "$CONF/$1" >"$2"
}

# ---------------------------------------------------------------------------------------
# The daemons

start_stayrtr() {
  alive stayrtr && return 0
  start stayrtr rpki "$STATE/rpki/stayrtr.log" stayrtr -cache "$STATE/rpki/vrps.json" \
    -checktime=false -refresh 1 -bind "$RTR_CACHE:8282" -metrics.addr 127.0.0.1:9847 \
    -rtr.refresh "$RTR_REFRESH" -rtr.retry "$RTR_RETRY" -rtr.expire "$RTR_EXPIRE"
  wait_until 30 "stayrtr listening on $RTR_CACHE:8282 (log: $STATE/rpki/stayrtr.log)" \
    listening rpki "$RTR_CACHE:8282"
}

# write_vrps: replaces the VRP file stayrtr serves with stdin, atomically (it re-reads the
# file every second and sends Serial Notify).
write_vrps() {
  cat >"$STATE/rpki/vrps.json.tmp"
  mv "$STATE/rpki/vrps.json.tmp" "$STATE/rpki/vrps.json"
}

start_rovgate() {
  alive rovgate && return 0
  "$ROVGATE" check-config "$STATE/rs/rovgate.toml" >/dev/null ||
    die "rovgate check-config $STATE/rs/rovgate.toml failed"
  start rovgate rs "$STATE/rs/rovgate.log" env RUST_LOG="${RUST_LOG:-info}" \
    "$ROVGATE" run --config "$STATE/rs/rovgate.toml"
  wait_until 30 "rovgate's API at $API (log: $STATE/rs/rovgate.log)" api /api/v1/status
}

start_bird() { # start_bird HOST
  local dir=$STATE/$1
  alive "$1-bird" && return 0
  bird -p -c "$dir/bird.conf" || die "BIRD rejects $dir/bird.conf"
  rm -f "$dir/bird.ctl"
  start "$1-bird" "$1" "$dir/bird.out" bird -f -c "$dir/bird.conf" -s "$dir/bird.ctl"
  wait_until 10 "BIRD in $1 (log: $dir/bird.log)" birdc_in "$1" show status
}

birdc_in() { # birdc_in HOST COMMAND...
  local host=$1
  shift
  birdc -s "$STATE/$host/bird.ctl" "$@"
}

start_service() { # start_service HOST: 203.0.113.10:80 answers "HOST"
  local dir=$STATE/$1
  alive "$1-http" && return 0
  mkdir -p "$dir/www"
  echo "$1" >"$dir/www/index.html"
  start "$1-http" "$1" "$dir/http.log" python3 -m http.server 80 --bind "$SERVICE" \
    --directory "$dir/www"
  wait_until 10 "the service on $SERVICE:80 in $1 (log: $dir/http.log)" \
    listening "$1" "$SERVICE:80"
}

client_kind() { cat "$STATE/client.kind" 2>/dev/null || echo bird; }

start_client() { # start_client KIND
  local kind=$1 dir=$STATE/client
  need_client_tools "$kind"
  echo "$kind" >"$STATE/client.kind"
  case $kind in
    bird)
      render bird-client.conf "$dir/bird.conf"
      start_bird client
      ;;
    openbgpd)
      if ! alive client-bgpd; then
        render bgpd-client.conf "$dir/bgpd.conf"
        mkdir -p /run/openbgpd # bgpd's chroot
        bgpd -n -f "$dir/bgpd.conf" >/dev/null 2>&1 || die "bgpd -n rejects $dir/bgpd.conf"
        start client-bgpd client "$dir/bgpd.log" bgpd -d -f "$dir/bgpd.conf"
        wait_until 10 "OpenBGPD in client (log: $dir/bgpd.log)" \
          bgpctl -s "$dir/bgpd.sock" show summary
      fi
      # OpenBGPD portable built without netlink (Debian 12's 7.7, see openbgpd-portable
      # issue 62) cannot program the kernel: `fib-update yes` does nothing and `bgpctl show
      # fib` says "permission denied". Then a small loop copies bgpd's selected routes into
      # the kernel, as fib-update would.
      if ! alive client-fibsync &&
        bgpctl -s "$dir/bgpd.sock" show fib 2>&1 | grep -q 'permission denied'; then
        start client-fibsync client "$dir/fibsync.log" "$HERE/lab.sh" --name "$LAB" _fib-sync
      fi
      ;;
    frr)
      alive client-bgpd-frr && return 0
      # FRR's daemons drop privileges to user frr: their files live in a folder it owns.
      local run=$dir/frr
      mkdir -p "$run"
      chmod 711 "$STATE" "$dir"
      render frr-client.conf "$run/frr.conf"
      printf 'hostname client\nlog file %s/zebra.log\n' "$run" >"$run/zebra.conf"
      chown -R frr:frr "$run"
      start client-zebra client "$run/zebra.out" "$FRR/zebra" -f "$run/zebra.conf" \
        -i "$run/zebra.pid" -z "$run/zserv.api" --vty_socket "$run" -P 0
      wait_until 10 "FRR zebra in client (log: $run/zebra.out)" test -S "$run/zserv.api"
      start client-bgpd-frr client "$run/bgpd.out" "$FRR/bgpd" -f "$run/frr.conf" \
        -i "$run/bgpd.pid" -z "$run/zserv.api" --vty_socket "$run" -P 0
      wait_until 10 "FRR bgpd in client (log: $run/bgpd.out)" vtysh_in show bgp summary
      ;;
  esac
}

# _fib-sync (internal; runs in the client's namespace): every half second, makes the
# kernel's `proto bgp` routes equal to OpenBGPD's selected routes (`bgpctl show rib
# selected`), for an OpenBGPD that cannot do it itself.
cmd_fib_sync() {
  local sock=$STATE/client/bgpd.sock want have p gw
  while :; do
    want=$(bgpctl -s "$sock" show rib selected 2>/dev/null | awk '
      $1 ~ /^[*>]+$/ { for (i = 2; i < NF; i++) if ($i ~ /\//) { print $i, $(i + 1); break } }' |
      sort) || want=""
    have=$(ip route show proto bgp | awk '{ print $1, $3 }' | sort)
    if [[ $want != "$have" ]]; then
      while read -r p gw; do
        [[ -n $p ]] && ip route del "$p" proto bgp && echo "del $p via $gw"
      done < <(comm -23 <(echo "$have") <(echo "$want"))
      while read -r p gw; do
        [[ -n $p ]] && ip route replace "$p" via "$gw" proto bgp && echo "add $p via $gw"
      done < <(comm -13 <(echo "$have") <(echo "$want"))
    fi
    sleep 0.5
  done
}

vtysh_in() { vtysh --vty_socket "$STATE/client/frr" -d bgpd -c "$*"; }

stop_client() {
  stop client-bird
  stop client-bgpd
  stop client-fibsync
  stop client-bgpd-frr
  stop client-zebra
  # zebra leaves its routes behind when killed hard; BIRD and bgpd remove theirs on exit.
  ip -n "$(ns client)" route flush proto zebra 2>/dev/null || true
  ip -n "$(ns client)" route flush proto bgp 2>/dev/null || true
}

# The client router's session with the route server is up.
client_established() {
  case $(client_kind) in
    bird) birdc_in client show protocols routeserver | grep -q Established ;;
    openbgpd) bgpctl -s "$STATE/client/bgpd.sock" show neighbor 192.0.2.1 | grep -q 'BGP state = Established' ;;
    frr) vtysh_in show bgp neighbor 192.0.2.1 | grep -q 'BGP state = Established' ;;
  esac
}

# The client router's own view of the routes it learned.
client_rib() {
  case $(client_kind) in
    bird) birdc_in client show route protocol routeserver | grep -v 'ready\.$' ;;
    openbgpd) bgpctl -s "$STATE/client/bgpd.sock" show rib ;;
    frr) vtysh_in show bgp ipv4 unicast ;;
  esac
}

# ---------------------------------------------------------------------------------------
# rovgate's HTTP API (inside namespace rs)

api() { ip netns exec "$(ns rs)" curl -sS -f -m 5 "$API$1"; }

api_post() { # api_post PATH JSON
  ip netns exec "$(ns rs)" curl -sS -f -m 5 -X POST -H 'content-type: application/json' \
    -H "authorization: Bearer $(cat "$STATE/rs/api-token")" -d "$2" "$API$1"
}

status_json() { api /api/v1/status; }

# status_is JQ-EXPRESSION: whether rovgate's status makes the expression true.
status_is() { status_json | jq -e "$1" >/dev/null; }

peer_rov() { status_json | jq -r --arg p "$1" '.peers[] | select(.name == $p) | .rov'; }

set_rov() { # set_rov PEER MODE
  [[ $(peer_rov "$1") == "$2" ]] && return 0
  api_post "/api/v1/peers/$1/rov" "{\"rov\":\"$2\"}" >/dev/null ||
    die "POST /api/v1/peers/$1/rov {\"rov\":\"$2\"} failed"
}

# rovgate has applied its VRPs to every stored route.
converged() {
  status_is '.reevaluation.pending == 0 and .reevaluation.serial == .vrps.serial'
}

# rovgate's report, as `rovgate report --url` prints it (a table), run where the API is.
report_table() { # report_table PEER
  ip netns exec "$(ns rs)" "$ROVGATE" report --url "$API" --peer "$1"
}

report_json() { api "/api/v1/report?peer=$1"; }

# The looking glass (GET /api/v1/routes?prefix=P), one line per path.
looking_glass() {
  api "/api/v1/routes?prefix=$1" | jq -r '
    def vrps: map("\(.prefix) maxLength \(.max_length) AS\(.asn)") | join(", ");
    .prefix as $p | .paths[] |
    "looking glass \($p): from \(.peer), AS path \(.as_path): \(.verdict.state)" +
    (if .verdict.matched != [] then "; matches " + (.verdict.matched | vrps) else "" end) +
    (if .verdict.state == "invalid" and .verdict.bad_asn != [] then
       "; covered for another AS: " + (.verdict.bad_asn | vrps) else "" end) +
    (if .verdict.state == "invalid" and .verdict.bad_length != [] then
       "; maxLength too short: " + (.verdict.bad_length | vrps) else "" end) +
    (if .best then "; best, exported" elif .eligible then "; eligible" else "; not exported" end)'
}

# How many ROV changes rovgate has recorded (GET /api/v1/history lists them newest first).
history_count() { api /api/v1/history | jq '.changes | length'; }

# The ROV changes recorded after the first N, oldest first.
history_after() {
  api /api/v1/history | jq -r --argjson n "$1" '.changes[0:(.changes | length) - $n] |
    reverse[] | "ROV change: \(.peer_name) \(.prefix) AS\(.origin) \(.before) -> \(.after)"'
}

rtr_line() {
  status_json | jq -r '(.sources[] | select(.kind == "rtr") |
      "RTR cache \(.name): state \(.state), \(.vrps) VRPs, cache serial \(.serial)"),
    "VRPs in force: \(.vrps.count), stale: \(.vrps.stale)"'
}

# ---------------------------------------------------------------------------------------
# The data plane, seen from the client

# The next hop the client's kernel uses for ADDRESS (or "none").
client_via() {
  local r
  r=$(ip -n "$(ns client)" route get "$1" 2>/dev/null) || { echo none; return; }
  if [[ $r =~ via\ ([0-9.]+) ]]; then echo "${BASH_REMATCH[1]}"; else echo none; fi
}

# Whether the client's traffic to 203.0.113.10 goes to HOST (victim or hijacker).
client_goes_to() { [[ $(client_via "$SERVICE") == "${LAN[$1]}" ]]; }

# Who answers the client's request to http://203.0.113.10/.
answer() {
  ip netns exec "$(ns client)" curl -s -m 3 "http://$SERVICE/" 2>/dev/null || echo "(no answer)"
}

show_path() {
  local via
  via=$(client_via "$SERVICE")
  say "client: ip route get $SERVICE -> via $via (${OWNER[$via]:-nobody})"
  say "client: curl http://$SERVICE/ -> $(answer)"
}

# expect_answer HOST: the client's request to 203.0.113.10 is answered by HOST.
expect_answer() {
  local got
  got=$(answer)
  [[ $got == "$1" ]] || die "expected $SERVICE to answer '$1', got '$got'"
  say "ANSWER: $got"
}

# ---------------------------------------------------------------------------------------
# up / down / status

cmd_up() {
  local kind=""
  while [[ $# -gt 0 ]]; do
    case $1 in
      --client) [[ $# -ge 2 ]] || die "--client needs bird, openbgpd or frr"; kind=$2; shift 2 ;;
      --client=*) kind=${1#--client=}; shift ;;
      *) die "up: unknown argument $1" ;;
    esac
  done
  need_root
  need_cmd ip ss bird birdc stayrtr curl jq python3 setsid
  [[ -z $kind ]] || need_client_tools "$kind"
  find_rovgate
  trap up_failed EXIT
  mkdir -p "$STATE"/{rs,rpki,victim,hijacker,client}
  chmod 711 "$STATE" # FRR (user frr) reaches its folder inside
  net_up

  [[ -e $STATE/rpki/vrps.json ]] || cp "$CONF/vrps.json" "$STATE/rpki/vrps.json"
  start_stayrtr
  [[ -e $STATE/rs/rovgate.toml ]] || cp "$CONF/rovgate.toml" "$STATE/rs/rovgate.toml"
  # The API token for writes (the config's http_token_file), made once per lab.
  [[ -s $STATE/rs/api-token ]] ||
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$STATE/rs/api-token")
  start_rovgate
  # Routes should meet the VRPs on arrival: wait until rovgate has them.
  wait_until 30 "rovgate has the VRPs from stayrtr" \
    status_is '(.sources[0].state == "up") and .vrps.count > 0'

  local h
  for h in victim hijacker; do
    render "bird-$h.conf" "$STATE/$h/bird.conf"
    start_bird "$h"
    start_service "$h"
  done
  if [[ -n $kind && $kind != "$(client_kind)" ]]; then stop_client; fi
  start_client "${kind:-$(client_kind)}"

  wait_until 60 "every session of rovgate up (log: $STATE/rs/rovgate.log)" \
    status_is '[.peers[] | .up] | all'
  wait_until 30 "rovgate stores every member's routes" \
    status_is '[.peers[] | .routes > 0] | all'
  wait_until 30 "the client's session up" client_established
  trap - EXIT
  say "lab $LAB is up (client router: $(client_kind); state and logs in $STATE)"
  say "try: $ME status; $ME scenario hijack"
}

up_failed() {
  local rc=$?
  [[ $rc -ne 0 ]] || return 0
  echo "lab.sh: up failed; the last lines of the logs:" >&2
  local f
  for f in "$STATE"/*/*.log "$STATE"/*/*.out; do
    [[ -s $f ]] || continue
    echo "== $f" >&2
    tail -n 8 "$f" >&2
  done
  if [[ ${LAB_KEEP:-} == 1 ]]; then
    echo "lab.sh: LAB_KEEP=1: the lab stays; remove it with: $ME down" >&2
  else
    echo "lab.sh: removing the half-built lab (LAB_KEEP=1 keeps it)" >&2
    cmd_down >&2 || true
  fi
  exit "$rc"
}

cmd_down() {
  need_root
  local f name h n pid
  if [[ -d $STATE ]]; then
    for f in "$STATE"/*.pid; do
      [[ -e $f ]] || continue
      name=$(basename "$f" .pid)
      stop "$name"
    done
  fi
  # Anything else still running in the lab's namespaces (e.g. OpenBGPD's children).
  for h in "${HOSTS[@]}" ix; do
    n=$(ns "$h")
    [[ -e /run/netns/$n ]] || continue
    for pid in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  done
  for h in "${HOSTS[@]}" ix; do
    n=$(ns "$h")
    [[ -e /run/netns/$n ]] && ip netns del "$n"
  done
  rm -rf "$STATE"
  say "lab $LAB is down (namespaces, processes and $STATE removed)"
}

cmd_status() {
  need_root
  if ! lab_exists; then
    say "lab $LAB is down"
    return 3
  fi
  say "lab $LAB (state and logs in $STATE), client router: $(client_kind)"
  local h p down=()
  for h in "${HOSTS[@]}" ix; do [[ -e /run/netns/$(ns "$h") ]] || down+=("namespace $(ns "$h")"); done
  for p in stayrtr rovgate victim-bird hijacker-bird victim-http hijacker-http; do
    alive "$p" || down+=("$p")
  done
  [[ ${#down[@]} -eq 0 ]] || say "NOT RUNNING: ${down[*]} (run: $ME up)"
  if ! status_json >/dev/null 2>&1; then
    say "rovgate's API does not answer (log: $STATE/rs/rovgate.log)"
    return 1
  fi
  step "sessions (rovgate, AS64500 at 192.0.2.1)"
  status_json | jq -r '
    ["peer", "address", "asn", "rov", "up", "routes", "valid", "invalid", "not-found",
     "dropped", "would-drop"],
    (.peers[] | [.name, .address, .asn, .rov, .up, .routes, .valid, .invalid, .not_found,
     .dropped, .would_drop]) | @tsv' |
    awk -F'\t' '{ printf "%-9s %-11s %-6s %-7s %-5s %6s %6s %8s %10s %8s %11s\n",
      $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 }' | indent
  step "RTR"
  rtr_line | indent
  status_json | jq -r 'if .held_update then "held VRP update: \(.held_update)"
    else "no held VRP update" end' | indent
  step "what-if report"
  api /api/v1/report | jq -r '"total: \(.totals.summary)",
    (.peers[] | "\(.name): \(.summary)")' | indent
  step "data plane"
  show_path | indent
}

# ---------------------------------------------------------------------------------------
# Scenarios

require_up() {
  need_root
  need_cmd ip ss curl jq birdc
  lab_exists || die "lab $LAB is not up: run $ME up"
  find_rovgate
  status_json >/dev/null 2>&1 || die "rovgate's API does not answer: run $ME up"
}

# The state every scenario starts from: the lab's VRPs, stayrtr running, the victim without
# its more-specific, the configured rov modes; every session up, every route evaluated.
baseline() {
  cmp -s "$CONF/vrps.json" "$STATE/rpki/vrps.json" || write_vrps <"$CONF/vrps.json"
  start_stayrtr
  if birdc_in victim show protocols more_specific | grep -q ' up '; then
    birdc_in victim disable more_specific >/dev/null
  fi
  set_rov victim shadow
  set_rov hijacker accept
  set_rov client shadow
  wait_until 30 "rovgate has the lab's 2 VRPs from stayrtr" \
    status_is '.sources[0].state == "up" and .vrps.count == 2 and (.vrps.stale | not)'
  wait_until 60 "every session of rovgate up" status_is '[.peers[] | .up] | all'
  wait_until 30 "rovgate stores the routes of victim (1), hijacker (2) and client (1)" \
    status_is '[.peers[] | {(.name): .routes}] | add == {victim: 1, hijacker: 2, client: 1}'
  wait_until 30 "rovgate has re-evaluated every route" converged
}

scenario_hijack() {
  say "== scenario hijack: a more-specific hijack in the data plane, stopped by rov = drop"
  say "The hijacker (AS64666) announces 203.0.113.0/25 inside the victim's 203.0.113.0/24,"
  say "whose ROA (maxLength 24, AS64510) makes the /25 RPKI-invalid. The client forwards by"
  say "longest match, so while rovgate passes the /25 its traffic to $SERVICE goes to"
  say "the hijacker. rovgate's report lists the /25 as would-be-dropped all along."
  baseline
  step "1. hijacker at rov = accept"
  wait_until 30 "the client's route to $SERVICE via the hijacker" client_goes_to hijacker
  show_path
  expect_answer hijacker
  step "2. the what-if report for the hijacker: rovgate report --url $API --peer hijacker"
  report_table hijacker | indent
  report_json hijacker | jq -e '.peers[0].invalid_routes[] |
      select(.prefix == "203.0.113.0/25" and .origin == 64666 and (.dropped | not))' \
    >/dev/null || die "the report does not list 203.0.113.0/25 from AS64666 as would-be-dropped"
  say "REPORT: 203.0.113.0/25 from AS64666 would be dropped"
  step "3. POST /api/v1/peers/hijacker/rov {\"rov\":\"drop\"}"
  api_post /api/v1/peers/hijacker/rov '{"rov":"drop"}' | indent
  echo
  wait_until 30 "the client's route to $SERVICE via the victim" client_goes_to victim
  show_path
  expect_answer victim
  step "4. the report now: the /25 is dropped, the hijacker's own prefix still passes"
  report_table hijacker | indent
  report_json hijacker | jq -e '.peers[0].invalid_routes[] |
      select(.prefix == "203.0.113.0/25" and .dropped)' >/dev/null ||
    die "the report does not show 203.0.113.0/25 as dropped"
  [[ $(client_via 198.18.66.1) == 192.0.2.66 ]] ||
    die "the client lost the hijacker's not-found 198.18.66.0/24"
  say "client still routes 198.18.66.0/24 (the hijacker's own, not-found) via 192.0.2.66"
  say
  say "OK hijack: answered by the hijacker at accept, by the victim at drop"
}

scenario_cache_loss() {
  say "== scenario cache-loss: the RPKI cache goes away; rovgate keeps its VRPs until the"
  say "cache's expire time ($RTR_EXPIRE s here), then fails open: routes the VRPs covered become"
  say "not-found and pass again, drop or not. When the cache returns, ROV is back."
  baseline
  set_rov hijacker drop
  wait_until 30 "the client's route to $SERVICE via the victim" client_goes_to victim
  step "1. the hijacker at drop, the cache up"
  rtr_line | indent
  show_path
  expect_answer victim
  step "2. stop stayrtr"
  local t0=$SECONDS
  stop stayrtr
  wait_until 15 "rovgate to see the cache down" \
    status_is '.sources[0].state != "up"'
  rtr_line | indent
  status_is '.vrps.count == 2 and (.vrps.stale | not)' ||
    die "rovgate dropped its VRPs before expire"
  say "VRPs kept until expire: the hijack stays dropped"
  show_path
  expect_answer victim
  step "3. after expire (${RTR_EXPIRE} s after the last successful update)"
  local seen
  seen=$(history_count)
  wait_until $((RTR_EXPIRE + 30)) "rovgate's VRPs to expire (stale: true)" \
    status_is '.vrps.stale and .vrps.count == 0'
  say "stale $((SECONDS - t0)) s after the cache stopped"
  rtr_line | indent
  wait_until 30 "fail open: the client's route to $SERVICE via the hijacker" \
    client_goes_to hijacker
  say "fail open: 203.0.113.0/25 is not-found now, and passes"
  history_after "$seen" | indent
  show_path
  expect_answer hijacker
  step "4. start stayrtr again"
  seen=$(history_count)
  start_stayrtr
  wait_until $((RTR_RETRY + 30)) "rovgate to get the VRPs back" \
    status_is '.sources[0].state == "up" and .vrps.count == 2 and (.vrps.stale | not)'
  rtr_line | indent
  wait_until 30 "the client's route to $SERVICE via the victim" client_goes_to victim
  history_after "$seen" | indent
  show_path
  expect_answer victim
  say
  say "OK cache-loss: VRPs kept while down, fail open after expire, ROV back with the cache"
}

# The victim's session as BIRD sees it: state and since when.
victim_session() { birdc_in victim show protocols routeserver | awk '$1 == "routeserver" { print $4, $5, $6, $7 }'; }

scenario_customer_invalid() {
  say "== scenario customer-invalid: the victim announces a new more-specific,"
  say "203.0.113.128/25, that its ROA (203.0.113.0/24 maxLength 24) does not cover: RPKI-"
  say "invalid. At rov = shadow it still passes, and the report says it would be dropped and"
  say "which ROA fixes it. Publishing that ROA makes it valid, with no session reset."
  baseline
  local before established
  before=$(victim_session)
  established=$(grep -c 'peer=victim.*session established\|session established.*peer=victim' \
    "$STATE/rs/rovgate.log" || true)
  step "1. the victim announces 203.0.113.128/25 (birdc enable more_specific)"
  birdc_in victim enable more_specific | grep -v 'ready\.$' | indent
  wait_until 30 "rovgate to store the victim's 203.0.113.128/25" \
    status_is '.peers[] | select(.name == "victim") | .routes == 2 and .would_drop == 1'
  looking_glass 203.0.113.128/25 | indent
  step "2. shadow: it still reaches the client, and the report says what drop would do"
  wait_until 30 "the client's route to 203.0.113.128/25 via the victim" \
    test "$(client_via 203.0.113.129)" = 192.0.2.10
  say "client: ip route get 203.0.113.129 -> via $(client_via 203.0.113.129)"
  report_table victim | indent
  local roa
  roa=$(report_json victim | jq -c '.peers[0].invalid_routes[] |
    select(.prefix == "203.0.113.128/25") | .suggested_roa')
  [[ -n $roa && $roa != null ]] || die "the report suggests no ROA for 203.0.113.128/25"
  say "SUGGESTED ROA: $roa"
  step "3. publish the suggested ROA (add it to stayrtr's file)"
  jq --argjson roa "$roa" '.roas += [{prefix: $roa.prefix, maxLength: $roa.max_length,
      asn: "AS\($roa.asn)"}]' "$STATE/rpki/vrps.json" | write_vrps
  jq -c '.roas[]' "$STATE/rpki/vrps.json" | indent
  wait_until 30 "rovgate to get 3 VRPs" status_is '.vrps.count == 3'
  wait_until 30 "the victim's more-specific to be valid" \
    status_is '.peers[] | select(.name == "victim") | .valid == 2 and .invalid == 0'
  rtr_line | indent
  looking_glass 203.0.113.128/25 | indent
  report_table victim | indent
  step "4. the victim's session was not reset"
  local after now_established
  after=$(victim_session)
  now_established=$(grep -c 'peer=victim.*session established\|session established.*peer=victim' \
    "$STATE/rs/rovgate.log" || true)
  say "victim (BIRD) before: $before"
  say "victim (BIRD) after:  $after"
  say "rovgate logged 'session established' for victim $established time(s) before, $now_established after"
  [[ $before == "$after" && $after == "up "*Established ]] || die "the victim's session changed"
  [[ $established == "$now_established" ]] || die "rovgate re-established the victim's session"
  say
  say "OK customer-invalid: would-drop with a suggested ROA at shadow; valid after the ROA, same session"
}

scenario_router_config() {
  say "== scenario router-config: the client as BIRD 2, OpenBGPD and FRR in turn; each peers"
  say "with rovgate, gets the RPKI-filtered routes (hijacker at drop: 203.0.113.0/24 from the"
  say "victim and 198.18.66.0/24 from the hijacker, not the invalid /25), forwards by them."
  local kinds=(bird openbgpd frr) kind
  for kind in "${kinds[@]}"; do need_client_tools "$kind"; done
  baseline
  set_rov hijacker drop
  # The client's router as it is first, then the others: each swap resets the client's
  # session, and rovgate damps a flapping peer (idle hold 5 s, doubling per fall).
  local first others
  first=$(client_kind)
  mapfile -t others < <(printf '%s\n' "${kinds[@]}" | grep -vx "$first")
  kinds=("$first" "${others[@]}")
  for kind in "${kinds[@]}"; do
    step "client router: $kind (config: vm/conf/$(conf_of "$kind"))"
    [[ $kind == "$(client_kind)" ]] || switch_client "$kind"
    wait_until 60 "the client's $kind session with rovgate up" client_established
    wait_until 60 "rovgate to have the client's route" \
      status_is '.peers[] | select(.name == "client") | .up and .routes == 1'
    wait_until 60 "the client's kernel routes: 203.0.113.0/24 and 198.18.66.0/24" client_routes_ok
    client_rib | indent
    if alive client-fibsync; then
      say "kernel (copied from bgpd's selected routes by lab.sh: this OpenBGPD cannot program it):"
    else
      say "kernel:"
    fi
    ip -n "$(ns client)" route show | grep -v 'scope link' | indent
    show_path
    expect_answer victim
    say "ROUTES OK: $kind"
  done
  say
  say "OK router-config: BIRD, OpenBGPD and FRR each got the filtered routes and forward by them"
  say "(the client stays $(client_kind); $ME client bird switches back)"
}

conf_of() {
  case $1 in bird) echo bird-client.conf ;; openbgpd) echo bgpd-client.conf ;; frr) echo frr-client.conf ;; esac
}

# The client's kernel has exactly the routes the route server should give it.
client_routes_ok() {
  local t
  t=$(ip -n "$(ns client)" route show)
  grep -q '^203\.0\.113\.0/24 .*via 192\.0\.2\.10 ' <<<"$t" &&
    grep -q '^198\.18\.66\.0/24 .*via 192\.0\.2\.66 ' <<<"$t" &&
    ! grep -q '^203\.0\.113\.0/25' <<<"$t"
}

switch_client() { # switch_client KIND
  need_client_tools "$1"
  stop_client
  start_client "$1"
}

cmd_client() {
  [[ $# -eq 1 ]] || die "usage: $0 client bird|openbgpd|frr"
  require_up
  switch_client "$1"
  wait_until 60 "the client's $1 session with rovgate up" client_established
  say "client router: $1"
}

cmd_scenario() {
  [[ $# -eq 1 ]] || die "usage: $0 scenario hijack|cache-loss|customer-invalid|router-config|all"
  require_up
  case $1 in
    hijack) scenario_hijack ;;
    cache-loss) scenario_cache_loss ;;
    customer-invalid) scenario_customer_invalid ;;
    router-config) scenario_router_config ;;
    all)
      scenario_hijack; echo
      scenario_cache_loss; echo
      scenario_customer_invalid; echo
      scenario_router_config
      ;;
    *) die "unknown scenario '$1': hijack, cache-loss, customer-invalid, router-config or all" ;;
  esac
}

case $COMMAND in
  up) cmd_up "$@" ;;
  down) [[ $# -eq 0 ]] || die "down takes no arguments"; cmd_down ;;
  status) cmd_status ;;
  scenario) cmd_scenario "$@" ;;
  client) cmd_client "$@" ;;
  _fib-sync) cmd_fib_sync ;;
  help) usage ;;
  *) die "unknown command '$COMMAND' (see --help)" ;;
esac
