#!/usr/bin/env bash
# The replay tool's own ceiling: the IPv4 full table from one feeder into the sink with no
# device under test, first straight (feeder → sink), then through a trivial forwarder (a
# TCP relay that copies bytes both ways, no BGP). Each RUNS times; prints `rovgate replay`'s
# summary line for each. If a device converges in about these times, the tool is the limit.
#
#   benches/ceiling.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
mrt=../shared/data/tables/fulltable-2024.mrt.gz
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release --quiet
bin=target/release/rovgate

replay() { # target sink-listen
  "$bin" replay --mrt "$mrt" --family v4 --runs "$runs" --feeder-address 127.0.9.2 \
    --target "$1" --sink-listen "$2" 2>/dev/null | tail -1
}

cat > "$work/relay.py" <<'PY'
import asyncio, sys
host, port, to_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
async def pipe(r, w):
    try:
        while data := await r.read(1 << 16):
            w.write(data)
            await w.drain()
    finally:
        w.close()
async def relay(r, w):
    r2, w2 = await asyncio.open_connection(host, to_port)
    await asyncio.gather(pipe(r, w2), pipe(r2, w), return_exceptions=True)
async def main():
    server = await asyncio.start_server(relay, host, port, reuse_address=True)
    print("ready", flush=True)
    await server.serve_forever()
asyncio.run(main())
PY
python3 "$work/relay.py" 127.0.9.1 11181 11182 > "$work/relay.log" 2>&1 &
until grep -q ready "$work/relay.log"; do sleep 0.1; done

echo "straight:          $(replay 127.0.9.1:11180 127.0.9.1:11180)"
echo "through a relay:   $(replay 127.0.9.1:11181 127.0.9.1:11182)"
