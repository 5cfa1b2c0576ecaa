//! The BMP station reads ADD-PATH routes (RFC 7911) from a real sender: GoBGP receives two
//! paths of one prefix from a BIRD neighbour with `add paths tx` and mirrors its UPDATEs,
//! path identifiers included, pre-policy over BMP. Each path id is a path of its own.

use std::path::Path;

use crate::bmp_senders::report;
use crate::support;
use crate::support::bird::Bird;
use crate::support::daemon::Rovgate;
use crate::support::gobgpd::Gobgpd;
use crate::support::netns::Netns;

/// The prefix BIRD announces twice, from AS 65001 (valid) and AS 65002 (invalid).
const PREFIX: &str = "192.0.2.0/24";
/// The monitored neighbour's peer in rovgate.
const NEIGHBOUR: &str = "gobgp/198.18.0.2";

/// BIRD at 198.18.0.2 (AS 64496): two static routes of [`PREFIX`], sent as two paths.
fn bird_config() -> String {
    let route = |n: u32| {
        format!("protocol static s{n} {{ ipv4; route {PREFIX} blackhole {{ bgp_path.prepend(6500{n}); }}; }}\n")
    };
    format!(
        "log \"bird.log\" all;\nrouter id 198.18.0.2;\nprotocol device {{}}\n{}{}\
         protocol bgp gobgp {{ local 198.18.0.2 as 64496; neighbor 198.18.0.1 as 64510;\n\
           ipv4 {{ import none; export all; next hop self; add paths tx; }}; }}\n",
        route(1),
        route(2)
    )
}

/// GoBGP at 198.18.0.1 (AS 64510), receiving ADD-PATH from BIRD, monitoring it pre-policy.
fn gobgp_config(bmp_port: u16) -> String {
    format!(
        "[global.config]\n  as = 64510\n  router-id = \"198.18.0.1\"\n  port = 179\n\
           local-address-list = [\"198.18.0.1\"]\n\
         [[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"198.18.0.2\"\n    peer-as = 64496\n\
           [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"ipv4-unicast\"\n\
             [neighbors.afi-safis.add-paths.config]\n      receive = true\n\
         [[bmp-servers]]\n  [bmp-servers.config]\n    address = \"127.0.0.1\"\n    port = {bmp_port}\n\
             route-monitoring-policy = \"pre-policy\"\n"
    )
}

/// Expected: the neighbour's two paths of one prefix are two paths in rovgate, each
/// validated (one valid, one invalid); when BIRD withdraws one, only that one goes.
#[tokio::test]
async fn a_neighbours_two_paths_of_one_prefix_are_both_kept() {
    if !support::tools_present(&["bird", "gobgpd"]) {
        return;
    }
    // BIRD wants its eBGP neighbour directly connected: in a namespace of its own.
    let (dut, lan) = Netns::pair("bmpaddpath", "198.18.0.1", &["198.18.0.2"]);
    let dir = support::scratch_dir("bmp-add-path");
    let vrps = dir.join("vrps.json");
    std::fs::write(&vrps, support::vrp_json(&[support::vrp(PREFIX, 24, 65001)])).unwrap();
    let config = format!(
        "[rpki]\nvrp_files = [\"{}\"]\n[bmp]\n[[bmp.listen]]\naddress = \"127.0.0.1:0\"\n\
         [[bmp.router]]\nname = \"gobgp\"\naddress = \"127.0.0.1\"\n",
        vrps.display()
    );
    let rovgate = Rovgate::start_in(Some(&dut.name), "127.0.0.1", "bmp-add-path", &config);
    let gobgp = Gobgpd::start(Some(&dut.name), &gobgp_config(rovgate.bmp_port));
    // GoBGP mirrors a received UPDATE as it came (path ids and all) once the station is
    // connected; routes it had before are re-encoded without them.
    support::wait_for("GoBGP's BMP connection", 30, || {
        rovgate.log().contains("BMP router connected")
    })
    .await;
    let bird = Bird::start_in(Some(&lan.name), "bmp-add-path", &bird_config());
    // rovgate's HTTP API is in the namespace: the report CLI runs there.
    let url = format!("http://127.0.0.1:{}", rovgate.http_port);
    let report = || report(Some(&dut.name), &["--url", &url], Path::new(""), NEIGHBOUR);
    let counts = |p: &serde_json::Value| {
        let n = |k: &str| p[k].as_u64().unwrap_or(u64::MAX);
        (n("routes"), n("valid"), n("invalid"))
    };
    let state = || {
        format!(
            "{:?}\n{}\n{}\n{}\n{}",
            report(),
            rovgate.log(),
            bird.log(),
            gobgp.gobgp(&["neighbor", "198.18.0.2", "adj-in"]),
            gobgp.log()
        )
    };
    let both = support::eventually(60, || report().is_some_and(|p| counts(&p) == (2, 1, 1))).await;
    assert!(both, "two paths, one valid, one invalid: {}", state());

    bird.birdc("disable s2");
    let one = support::eventually(30, || report().is_some_and(|p| counts(&p) == (1, 1, 0))).await;
    assert!(
        one,
        "the invalid path withdrawn, the valid one kept: {}",
        state()
    );
    assert!(!rovgate.log().contains("carry no path ids"), "{}", state());
}
