//! rovgate between GoBGP and ExaBGP. GoBGP treats loopback next hops as invalid, so this
//! runs in a network namespace the test makes, with addresses from 198.18.0.0/24.

use crate::support;
use crate::support::daemon::Rovgate;
use crate::support::exabgp::Exabgp;
use crate::support::gobgpd::Gobgpd;
use crate::support::netns::Netns;

/// gobgpd in the namespace, peering with rovgate at 198.18.0.1.
fn gobgpd(ns: &Netns, rovgate_port: u16) -> Gobgpd {
    let config = format!(
        "[global.config]\n  as = 64497\n  router-id = \"198.18.0.2\"\n  port = -1\n\
         [[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"198.18.0.1\"\n    peer-as = 64500\n\
           [neighbors.transport.config]\n    remote-port = {rovgate_port}\n    local-address = \"198.18.0.2\"\n\
           [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"ipv4-unicast\"\n"
    );
    Gobgpd::start(Some(&ns.name), &config)
}

/// Expected: a route ExaBGP announces reaches GoBGP with ExaBGP's AS path and next hop, and
/// a route GoBGP announces reaches ExaBGP; rovgate's AS is in neither path.
#[tokio::test]
async fn gobgp_and_exabgp_exchange_routes_through_rovgate() {
    if !support::tools_present(&["gobgpd", "exabgp"]) {
        return;
    }
    let ns = Netns::new("gobgp", &["198.18.0.1", "198.18.0.2", "198.18.0.3"]);
    let peers = "[[peer]]\nname = \"gobgp\"\naddress = \"198.18.0.2\"\nasn = 64497\nrole = \"rs-client\"\npassive = true\n\n\
                 [[peer]]\nname = \"exabgp\"\naddress = \"198.18.0.3\"\nasn = 64496\nrole = \"rs-client\"\npassive = true\n";
    let rovgate = Rovgate::start_in(Some(&ns.name), "198.18.0.1", "gobgp", peers);
    let exa = Exabgp::start_in(
        Some(&ns.name),
        "198.18.0.1",
        "gobgp",
        &format!(
            "  router-id 198.18.0.3;\n  local-address 198.18.0.3;\n  local-as 64496;\n  peer-as 64500;\n\
               connect {};\n  static {{\n    route 203.0.113.0/24 next-hop 198.18.0.3 as-path [ 64496 65010 ];\n  }}\n",
            rovgate.bgp_port
        ),
    );
    let gobgp = gobgpd(&ns, rovgate.bgp_port);
    support::wait_for("GoBGP has ExaBGP's route", 90, || {
        gobgp.gobgp(&["global", "rib"]).contains("203.0.113.0/24")
    })
    .await;
    let rib = gobgp.gobgp(&["global", "rib", "203.0.113.0/24"]);
    assert!(rib.contains("198.18.0.3"), "next hop kept: {rib}");
    assert!(
        rib.contains("64496 65010") && !rib.contains("64500"),
        "AS path kept: {rib}"
    );
    gobgp.gobgp(&[
        "global",
        "rib",
        "add",
        "198.51.100.0/24",
        "-a",
        "ipv4",
        "nexthop",
        "198.18.0.2",
    ]);
    support::wait_for("ExaBGP has GoBGP's route", 60, || {
        exa.received().contains("198.51.100.0/24")
    })
    .await;
    let line = exa
        .received()
        .lines()
        .find(|l| l.contains("198.51.100.0/24"))
        .unwrap()
        .to_string();
    assert!(line.contains("\"as-path\": [ 64497 ]"), "{line}");
}
