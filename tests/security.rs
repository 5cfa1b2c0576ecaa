//! Session security against real BIRD 2 on loopback: TCP-MD5 (RFC 2385, `password`) and
//! GTSM (RFC 5082, `ttl_security`). A session comes up only when both sides agree; when
//! they do not, the kernel drops the segments, which its TcpExt counters show.

use crate::support;
use crate::support::bird::{preamble, Bird};
use crate::support::daemon::Rovgate;
use crate::support::wait_for;

/// A BIRD member at 127.0.0.N (AS 64496) announcing 192.0.2.0/24 to rovgate; `options`
/// go into its `protocol bgp` (password, multihop, ttl security).
fn member(n: u8, port: u16, rovgate_port: u16, options: &str) -> Bird {
    let ip = format!("127.0.0.{n}");
    let config = format!(
        "{pre}protocol static s4 {{ ipv4; route 192.0.2.0/24 blackhole; }}\n\
         protocol bgp rsrv {{ local {ip} port {port} as 64496; neighbor 127.0.0.1 port {rovgate_port} as 64500; \
         {options} ipv4 {{ import all; export all; next hop self; }}; }}\n",
        pre = preamble(&ip),
    );
    Bird::start(&format!("sec{n}"), &config)
}

/// rovgate's `[[peer]]` for member N, with `extra` keys.
fn peer(n: u8, port: u16, extra: &str) -> String {
    format!(
        "[[peer]]\nname = \"m{n}\"\naddress = \"127.0.0.{n}\"\nasn = 64496\nrole = \"rs-client\"\n\
         port = {port}\n{extra}\n\n"
    )
}

/// The kernel's TcpExt counter `name` (`/proc/net/netstat`): segments it dropped.
fn tcp_ext(name: &str) -> u64 {
    let netstat = std::fs::read_to_string("/proc/net/netstat").expect("/proc/net/netstat");
    let mut lines = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (lines.next().unwrap(), lines.next().unwrap());
    let at = names.split(' ').position(|n| n == name).expect(name);
    values.split(' ').nth(at).unwrap().parse().unwrap()
}

fn up(rovgate: &Rovgate, name: &str) -> bool {
    rovgate.peer_status(name).is_some_and(|p| p["up"] == true)
}

/// Expected: with the same password on both sides the session comes up and the route
/// arrives; with a different one the kernel drops the segments (TCPMD5Failure grows) and
/// no session comes up.
#[tokio::test]
async fn md5_session_needs_the_same_password() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let (pa, pb) = (support::free_port(), support::free_port());
    let rovgate = Rovgate::start(
        "md5",
        &[
            peer(31, pa, "password = \"s3cret-key\""),
            peer(32, pb, "password = \"s3cret-key\""),
        ]
        .concat(),
    );
    let failures = tcp_ext("TCPMD5Failure");
    let good = member(
        31,
        pa,
        rovgate.bgp_port,
        "multihop; password \"s3cret-key\";",
    );
    let bad = member(32, pb, rovgate.bgp_port, "multihop; password \"other\";");
    wait_for("the session with the same key", 60, || {
        good.established("rsrv") && up(&rovgate, "m31")
    })
    .await;
    wait_for("the m31 route", 30, || {
        rovgate.peer_status("m31").is_some_and(|p| p["routes"] == 1)
    })
    .await;
    wait_for("segments with the wrong key dropped", 60, || {
        tcp_ext("TCPMD5Failure") > failures
    })
    .await;
    assert!(!bad.established("rsrv") && !up(&rovgate, "m32"));
    assert!(
        !rovgate.log().contains("s3cret-key"),
        "the key is never logged"
    );
}

/// Expected: with GTSM on both sides (BIRD `ttl security` with one hop) the session comes
/// up; when rovgate does not send with TTL 255, BIRD's kernel drops its segments
/// (TCPMinTTLDrop grows) and no session comes up.
#[tokio::test]
async fn gtsm_session_needs_ttl_255_both_ways() {
    if !support::tools_present(&["bird"]) {
        return;
    }
    let (pa, pb) = (support::free_port(), support::free_port());
    let rovgate = Rovgate::start(
        "gtsm",
        &[peer(33, pa, "ttl_security = true"), peer(34, pb, "")].concat(),
    );
    let drops = tcp_ext("TCPMinTTLDrop");
    let good = member(33, pa, rovgate.bgp_port, "multihop 1; ttl security on;");
    let bad = member(34, pb, rovgate.bgp_port, "multihop 1; ttl security on;");
    wait_for("the session with GTSM on both sides", 60, || {
        good.established("rsrv") && up(&rovgate, "m33")
    })
    .await;
    wait_for("segments with a low TTL dropped", 60, || {
        tcp_ext("TCPMinTTLDrop") > drops
    })
    .await;
    assert!(!bad.established("rsrv") && !up(&rovgate, "m34"));
}
