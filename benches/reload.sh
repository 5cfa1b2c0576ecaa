#!/usr/bin/env bash
# Live reconfiguration at IXP size (issue 14). rovgate runs with N passive peers (no
# sessions up: what is measured is the reload's own work) plus a feeder and a sink, and is
# reloaded RUNS times over POST /api/v1/reload, each time removing 5 peers, adding 5 and
# changing 5 peers' `rov`; prints each reload's `elapsed_ms` (config file read and parsed
# to the last change handed to the RIB and the sessions) and their median. Then the first
# routes of the full table are replayed feeder -> rovgate -> sink twice, once alone and
# once with a reload every 200 ms: convergence side by side says whether UPDATE processing
# pauses while rovgate reloads.
#
#   benches/reload.sh [N] [RUNS] [MRT_BYTES]     # default 500 peers, 10 reloads, 1 MB
#   BIN=target/release/rovgate benches/reload.sh # another build (default target/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
runs=${2:-10}
bytes=${3:-1000000}
bin=${BIN:-target/debug/rovgate}
port=14179
http=14180
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
echo "token-0123456789abcdef" > "$work/token"
auth=(-H "Authorization: Bearer token-0123456789abcdef" -H "Content-Type: application/json")

config() { # first-peer rov-of-the-changed-five
  printf '[server]\nasn = 64500\nrouter_id = "192.0.2.254"\nlisten = ["127.0.0.1:%s"]\n' "$port"
  printf 'http = "127.0.0.1:%s"\nhttp_token_file = "token"\n' "$http"
  printf '[defaults]\nrov = "shadow"\nchecks = "accept"\n'
  printf '[[peer]]\nname = "feeder"\naddress = "127.0.0.2"\nasn = 64496\nrole = "upstream"\npassive = true\n'
  printf '[[peer]]\nname = "sink"\naddress = "127.0.0.3"\nasn = 64497\nrole = "upstream"\npassive = true\n'
  for i in $(seq "$1" $(($1 + n - 1))); do
    printf '[[peer]]\nname = "p%d"\naddress = "127.1.%d.%d"\nasn = %d\nrole = "rs-client"\npassive = true\n' \
      "$i" $((i / 250)) $((i % 250 + 1)) $((65000 + i))
    if [ "$i" -ge $(($1 + 5)) ] && [ "$i" -lt $(($1 + 10)) ]; then printf 'rov = "%s"\n' "$2"; fi
  done
}

reload() { # run -> elapsed_ms
  config $((5 * $1)) "$([ $(($1 % 2)) = 0 ] && echo drop || echo tag)" > "$work/rovgate.toml.new"
  mv "$work/rovgate.toml.new" "$work/rovgate.toml"
  curl -sf "${auth[@]}" -d '{}' "http://127.0.0.1:$http/api/v1/reload" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["elapsed_ms"])'
}

config 0 tag > "$work/rovgate.toml"
"$bin" run --config "$work/rovgate.toml" 2> "$work/rovgate.log" &
for _ in $(seq 100); do grep -q "rovgate running" "$work/rovgate.log" && break; sleep 0.1; done
times=()
for r in $(seq 1 "$runs"); do
  times+=("$(reload "$r")")
done
echo "reload with $n peers (5 removed, 5 added, 5 rov changed), $runs runs, ms: ${times[*]}"
printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR] = $1} END {print "median ms:", a[int((NR + 1) / 2)]}'

head -c "$bytes" ../shared/data/tables/fulltable-2024.mrt.gz > "$work/part.mrt.gz"
replay=("$bin" replay --mrt "$work/part.mrt.gz" --allow-truncated --target "127.0.0.1:$port"
  --peers 1 --local-as 64496 --family v4)
convergence() { "${replay[@]}" 2> /dev/null | grep "^run 1:"; }
echo "replay alone:          $(convergence)"
(while true; do reload $((RANDOM % 2 + runs + 1)) > /dev/null; sleep 0.2; done) &
loop=$!
echo "replay while reloading: $(convergence)"
kill "$loop"
echo "reloads during the replay: $(grep -c 'config reloaded' "$work/rovgate.log")"
