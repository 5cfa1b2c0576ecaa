//! `rovgate replay` through BGP speakers other than BIRD (see tests/replay.rs for BIRD):
//! OpenBGPD and GoBGP, each a transparent route server with one feeder and one sink as
//! neighbours.
//!
//! Expectations, for the first MRT peer of the small RouteViews RIB replayed as AS 64496
//! (`--peers 1 --local-as 64496`; the file's first MiB holds IPv4 routes only, so both
//! families are offered and only IPv4 is sent):
//! - The feeder sends 8,348 routes and the sink waits for 8,348 prefixes (the same count a
//!   feeder connected straight to the sink gets for this file; all 35 MRT peers together
//!   would be 270,005 routes for 9,072 prefixes).
//! - OpenBGPD (`transparent-as yes`, `set nexthop no-modify`, and `multihop 2`, without
//!   which it sends itself as next hop) delivers all 8,348.
//! - GoBGP (`route-server-client`) delivers all 8,348. It runs on loopback addresses: it
//!   refuses 127.0.0.0/8 *next hops* (PEERS.md), but these routes keep the MRT's next hops
//!   (RouteViews' peers), so no network namespace is needed.
//! - Each route arrives with the ORIGIN, AS_PATH, NEXT_HOP, MED and other attributes
//!   (COMMUNITIES, AGGREGATOR, ATOMIC_AGGREGATE) it was sent with, byte for byte: the route
//!   server's AS is not prepended and the next hop is not rewritten.
//!
//! Each test has its own 127.0.N.x addresses (N = 90 OpenBGPD, 91 GoBGP) and free ports, so
//! they run in parallel with the other tests.

use std::time::Duration;

use crate::support;
use crate::support::bgpd::Bgpd;
use crate::support::gobgpd::Gobgpd;
use crate::support::table::{data, SMALL_RIB};
use rovgate::feed;
use rovgate::replay::{self, ReplayOptions, ReplayResult};
use rovgate::route::AttrSet;

/// The feeder's AS; the sink has `ReplayOptions`' default, 64497.
const FEEDER_AS: u32 = 64496;
/// Routes of the small RIB's first MRT peer, all with distinct, deliverable prefixes.
const FIRST_PEER_ROUTES: usize = 8_348;

/// A replay of the small RIB's first MRT peer to 127.0.`net`.1:`port`: feeder at .2, sink
/// at .3 connecting to the device, the routes kept for [`check`].
fn options(net: u8, port: u16) -> ReplayOptions {
    let mut o = ReplayOptions::new(data(SMALL_RIB), format!("127.0.{net}.1:{port}"));
    o.truncated = feed::Truncated::Read;
    o.feeder_address = format!("127.0.{net}.2").parse().expect("address");
    o.sink_address = format!("127.0.{net}.3").parse().expect("address");
    o.peers = Some(1);
    o.local_as = Some(FEEDER_AS);
    o.keep_routes = true;
    o.timeout = Duration::from_secs(60);
    o
}

/// Every expected prefix arrived, each with the attributes the feeder sent.
fn check(speaker: &str, result: &ReplayResult) {
    let run = &result.runs[0];
    eprintln!(
        "{speaker}: {} of {} prefixes in {:?}, {} UPDATEs received for {} sent",
        run.received, result.expected, run.convergence, run.updates_received, run.updates_sent
    );
    assert_eq!(
        (result.sent, result.expected, run.received),
        (FIRST_PEER_ROUTES, FIRST_PEER_ROUTES, FIRST_PEER_ROUTES),
        "{speaker}: routes sent, prefixes expected, prefixes received"
    );
    assert_eq!(
        (run.unexpected, run.withdrawn, run.malformed.len()),
        (0, 0, 0),
        "{speaker}"
    );

    let feed = feed::load_with(&data(SMALL_RIB), feed::Truncated::Read).expect("small RIB");
    let sent = feed[0].with_asn(FEEDER_AS);
    let routes = run.routes.as_ref().expect("routes kept");
    assert_eq!(routes.len(), FIRST_PEER_ROUTES, "{speaker}");
    // Every route of this feed has COMMUNITIES among its other attributes (some also
    // AGGREGATOR and ATOMIC_AGGREGATE): they must arrive byte for byte too.
    assert!(sent.batches.iter().all(|(a, _)| !a.other.is_empty()));
    let fields = |a: &AttrSet| {
        (
            a.origin,
            a.as_path.clone(),
            a.next_hop,
            a.med,
            a.other.clone(),
        )
    };
    for (attrs, prefixes) in &sent.batches {
        for prefix in prefixes {
            let got = routes.get(prefix).map(|a| fields(a));
            assert_eq!(got, Some(fields(attrs)), "{speaker}: {prefix}");
        }
    }
}

/// OpenBGPD as a transparent route server on 127.0.`net`.1:`port` with the feeder (.2)
/// and the sink (.3) as passive neighbours. `announce IPv6 unicast` because the replay
/// offers both families and ends each with an End-of-RIB (PEERS.md). `multihop 2`:
/// OpenBGPD honours `set nexthop no-modify` only on multihop sessions; to a directly
/// connected eBGP neighbour it sends a next hop outside their shared network as itself
/// (RFC 4271 §5.1.3), and the MRT's next hops are not on 127.0.0.0/8.
fn openbgpd(net: u8, port: u16) -> Bgpd {
    let neighbour = |host: u8, asn: u32| {
        format!("neighbor 127.0.{net}.{host} {{\n remote-as {asn}\n announce IPv6 unicast\n}}\n")
    };
    let config = format!(
        "AS 64500\nrouter-id 127.0.{net}.1\nlisten on 127.0.{net}.1 port {port}\n\
         socket \"SOCKET\"\ngroup \"rs\" {{\n\
         transparent-as yes\nset nexthop no-modify\nmultihop 2\npassive\n{}{}}}\n\
         allow from any\nallow to any\n",
        neighbour(2, FEEDER_AS),
        neighbour(3, 64497),
    );
    Bgpd::start(&format!("replay-{net}"), &config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openbgpd_passes_every_route_unchanged() {
    if !support::tools_present(&["bgpd"]) {
        return;
    }
    let (net, port) = (90, support::free_port());
    let bgpd = openbgpd(net, port);
    let result = replay::replay(&options(net, port))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", bgpd.log()));
    check("OpenBGPD", &result);
}

/// gobgpd as a route server on 127.0.`net`.1:`port` with these (address, AS) neighbours,
/// each a passive route-server client with both unicast families; started once it lists
/// them.
fn gobgpd(net: u8, port: u16, neighbours: &[(String, u32)]) -> Gobgpd {
    let mut config = format!(
        "[global.config]\nas = 64500\nrouter-id = \"127.0.{net}.1\"\nport = {port}\n\
         local-address-list = [\"127.0.{net}.1\"]\n"
    );
    for (address, asn) in neighbours {
        config.push_str(&format!(
            "[[neighbors]]\n[neighbors.config]\nneighbor-address = \"{address}\"\n\
             peer-as = {asn}\n[neighbors.transport.config]\npassive-mode = true\n\
             [neighbors.route-server.config]\nroute-server-client = true\n"
        ));
        for family in ["ipv4-unicast", "ipv6-unicast"] {
            config.push_str(&format!(
                "[[neighbors.afi-safis]]\n[neighbors.afi-safis.config]\n\
                 afi-safi-name = \"{family}\"\n"
            ));
        }
    }
    let mut gobgpd = Gobgpd::start(None, &config);
    let addresses: Vec<&str> = neighbours.iter().map(|(a, _)| a.as_str()).collect();
    gobgpd.wait_for_neighbours(&addresses);
    gobgpd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gobgp_passes_every_route_unchanged() {
    if !support::tools_present(&["gobgpd"]) {
        return;
    }
    let (net, port) = (91, support::free_port());
    let gobgpd = gobgpd(
        net,
        port,
        &[
            (format!("127.0.{net}.2"), FEEDER_AS),
            (format!("127.0.{net}.3"), 64497),
        ],
    );
    let result = replay::replay(&options(net, port))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", gobgpd.log()));
    check("GoBGP", &result);
}
