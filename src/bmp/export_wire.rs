//! BMP messages as rovgate exports them (RFC 7854, RFC 9069 Loc-RIB), written with
//! `netgauze-bmp-pkt`; the UPDATEs inside Route Monitoring are the sessions' own encoding
//! (`bgp::wire::encode_updates`).
//!
//! Where it sits: a station's task (`export.rs`) asks for each message here and writes
//! the bytes to its stream. Route Monitoring alone is put together here: netgauze wants a
//! decoded UPDATE where rovgate has the encoded one, so its 6-byte common header is
//! written here, its per-peer header by netgauze.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use netgauze_bgp_pkt::capabilities::{
    BgpCapability, FourOctetAsCapability, MultiProtocolExtensionsCapability,
};
use netgauze_bgp_pkt::open::{BgpOpenMessage, BgpOpenMessageParameter};
use netgauze_bgp_pkt::BgpMessage;
use netgauze_bmp_pkt::v3::{
    BmpMessageValue as V3, InitiationInformation, InitiationMessage, PeerDownNotificationMessage,
    PeerDownNotificationReason, PeerUpNotificationMessage, StatisticsCounter as Stat,
    StatisticsReportMessage, TerminationInformation, TerminationMessage,
};
use netgauze_bmp_pkt::{BmpMessage, BmpPeerType, CounterU32, GaugeU64, PeerHeader};
use netgauze_iana::address_family::AddressType;
use netgauze_parse_utils::WritablePdu;
use tracing::warn;

use super::mirror::{FamilyCounts, Routes, Table};
use crate::bgp::open::AS_TRANS;
use crate::bgp::wire::{encode_updates, Caps};
use crate::policy::Tagging;
use crate::rib::PeerView;
use crate::route::{AttrSet, Export, Family, RovState, TAG_FUNCTION};

/// The BMP version written.
const VERSION: u8 = 3;
/// The Route Monitoring message type.
const ROUTE_MONITORING: u8 = 0;
/// Version (1), message length (4), message type (1).
const COMMON_HEADER: usize = 6;
/// The largest UPDATE written: what every BGP speaker takes (RFC 4271).
const MAX_UPDATE: usize = 4096;
/// The hold time the rebuilt OPENs carry.
const HOLD_TIME: u16 = 90;

/// Who rovgate is, as the station is told.
#[derive(Clone, Debug)]
pub struct Local {
    /// The route server's AS.
    pub asn: u32,
    /// Its BGP identifier.
    pub router_id: Ipv4Addr,
    /// The verdict communities (the Euro-IX `rs_asn:1000:y` values).
    pub tagging: Tagging,
}

/// Initiation: sysName and sysDescr.
pub fn initiation(local: &Local) -> Vec<u8> {
    let name = format!("rovgate AS{} {}", local.asn, local.router_id);
    let descr = format!("rovgate {} route server", env!("CARGO_PKG_VERSION"));
    let info = [
        InitiationInformation::SystemName(name.into()),
        InitiationInformation::SystemDescription(descr.into()),
    ];
    write(V3::Initiation(InitiationMessage::new(info)))
}

/// Termination: rovgate is shutting down (reason 0, administratively closed).
pub fn termination() -> Vec<u8> {
    let reason = netgauze_bmp_pkt::iana::PeerTerminationCode::AdministrativelyClosed;
    let info = [TerminationInformation::Reason(reason)];
    write(V3::Termination(TerminationMessage::new(info)))
}

/// Peer Up for a member (`peer` None: the Loc-RIB instance). rovgate keeps no OPENs, so
/// the ones it carries are rebuilt from the configuration: both ASes, the BGP
/// identifiers (the peer's address for an IPv4 peer, else 0), IPv4 and IPv6 unicast and
/// 4-octet AS; a String TLV says so.
pub fn peer_up(local: &Local, peer: Option<&PeerView>) -> Vec<u8> {
    let (header, remote_as, remote_id) = match peer {
        Some(p) => (member(p, false), p.asn.0, bgp_id(p.address)),
        None => (loc_rib(local), local.asn, local.router_id),
    };
    let sent = open(local.asn, local.router_id);
    let received = open(remote_as, remote_id);
    let note = "OPENs rebuilt from rovgate's configuration";
    let info = [InitiationInformation::String(note.into())];
    let up = PeerUpNotificationMessage::build(header, None, None, None, sent, received, info);
    match up {
        Ok(up) => write(V3::PeerUpNotification(up)),
        Err(error) => {
            warn!(%error, "BMP Peer Up not built");
            Vec::new()
        }
    }
}

/// Peer Down for a member: its session ended (reason 4, as rovgate does not keep which
/// side closed it), or it was deconfigured (reason 5).
pub fn peer_down(peer: &PeerView, deconfigured: bool) -> Vec<u8> {
    let reason = match deconfigured {
        true => PeerDownNotificationReason::PeerDeConfigured,
        false => PeerDownNotificationReason::RemoteSystemClosedNoData,
    };
    match PeerDownNotificationMessage::build(member(peer, false), reason) {
        Ok(down) => write(V3::PeerDownNotification(down)),
        Err(error) => {
            warn!(%error, "BMP Peer Down not built");
            Vec::new()
        }
    }
}

/// A Statistics Report for a member: its Adj-RIB-In (type 7, and per family type 9), its
/// routes dropped by ROV and the import checks (type 0 with the invalid ones dropped now,
/// and per family type 22 with every one), and its post-policy routes per family by RPKI
/// state (types 35 to 37: invalid, valid, not found).
pub fn statistics(peer: &PeerView, families: &[FamilyCounts; 2]) -> Vec<u8> {
    let mut counters = vec![
        Stat::NumberOfRoutesInAdjRibIn(GaugeU64::new(peer.counts.routes)),
        Stat::NumberOfPrefixesRejectedByInboundPolicy(CounterU32::new(
            u32::try_from(peer.counts.dropped).unwrap_or(u32::MAX),
        )),
    ];
    for (family, c) in Family::ALL.into_iter().zip(families) {
        let at = match family {
            Family::Ipv4Unicast => AddressType::Ipv4Unicast,
            Family::Ipv6Unicast => AddressType::Ipv6Unicast,
        };
        let g = GaugeU64::new;
        counters.extend([
            Stat::NumberOfRoutesInPerAfiSafiAdjRibIn(at, g(c.adj_rib_in)),
            Stat::NumberOfRoutesInPerAfiSafiPrePolicyAdjRibInRejected(at, g(c.rejected)),
            Stat::NumberOfRoutesInPerAfiSafiPostPolicyAdjRibInValidatedByRpki(at, g(c.valid)),
            Stat::NumberOfRoutesInPerAfiSafiPostPolicyAdjRibInInvalidatedByRpki(at, g(c.invalid)),
            Stat::NumberOfRoutesInPerAfiSafiPostPolicyAdjRibInRpkiNotFound(at, g(c.not_found)),
        ]);
    }
    let report = StatisticsReportMessage::new(member(peer, false), counters);
    write(V3::StatisticsReport(report))
}

/// Route Monitoring for `routes`, appended to `out`; `peer` finds a member's view (a
/// member it cannot find is left out: it was removed meanwhile).
pub fn route_monitoring<'a>(
    local: &Local,
    routes: &Routes,
    peer: impl Fn(crate::route::PeerId) -> Option<&'a PeerView>,
    out: &mut Vec<u8>,
) {
    let header = |table: Table| match table {
        Table::Pre(p) => peer(p).map(|v| member(v, false)),
        Table::Post(p) => peer(p).map(|v| member(v, true)),
        Table::Loc => Some(loc_rib(local)),
    };
    for (table, attrs, state, prefixes) in &routes.announced {
        let Some(header) = header(*table) else {
            continue;
        };
        let export = match table {
            Table::Pre(_) => Export::Announce(attrs.clone(), prefixes.clone()),
            Table::Post(_) | Table::Loc => {
                let tagged = with_verdict(&local.tagging, attrs, *state);
                Export::Announce(Arc::new(tagged), prefixes.clone())
            }
        };
        let ext = !matches!(table, Table::Pre(_));
        monitor(&header, &export, ext, out);
    }
    for (table, prefixes) in &routes.withdrawn {
        if let Some(header) = header(*table) {
            monitor(&header, &Export::Withdraw(prefixes.clone()), false, out);
        }
    }
}

/// Route Monitoring with End-of-RIB of each family for a member's pre- and post-policy
/// views: its initial dump is over (RFC 7854 §5).
pub fn end_of_rib(peer: &PeerView, out: &mut Vec<u8>) {
    for post in [false, true] {
        for family in Family::ALL {
            monitor(&member(peer, post), &Export::EndOfRib(family), false, out);
        }
    }
}

/// One Route Monitoring message per UPDATE `export` encodes to.
fn monitor(header: &PeerHeader, export: &Export, ext: bool, out: &mut Vec<u8>) {
    let caps = Caps {
        as4: true,
        max_len: MAX_UPDATE,
        rov_ext_community: ext,
        // A monitoring station gets every route as held, an IPv4 route with an IPv6 next
        // hop (RFC 8950) in MP_REACH_NLRI too.
        extended_next_hop: true,
    };
    let mut updates: Vec<Bytes> = Vec::new();
    encode_updates(export, &caps, &mut updates);
    for update in updates {
        let len = COMMON_HEADER + header.len() + update.len();
        out.push(VERSION);
        // At most 6 + 42 + 4096 bytes.
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.push(ROUTE_MONITORING);
        if let Err(error) = header.write(out) {
            warn!(?error, "BMP per-peer header not written");
        }
        out.extend_from_slice(&update);
    }
}

/// `attrs` with the Euro-IX verdict community `rs_asn:1000:y` and the RFC 8097 extended
/// community for `state` (rovgate's other tags kept).
fn with_verdict(tagging: &Tagging, attrs: &crate::route::Attrs, state: RovState) -> AttrSet {
    let values = &tagging.tag;
    let y = match state {
        RovState::Valid => values.valid,
        RovState::NotFound => values.not_found,
        RovState::Invalid => values.invalid,
    };
    let verdict = [tagging.rs_asn, TAG_FUNCTION, y];
    let (mut large, blackhole) = match &attrs.tags {
        Some(t) => (t.large.clone(), t.blackhole),
        None => (Vec::new(), None),
    };
    if !large.contains(&verdict) {
        large.push(verdict);
        large.sort_unstable();
    }
    AttrSet::tagged(attrs, large, Some(state), blackhole)
}

/// A member's per-peer header (global instance peer; 4-octet AS_PATHs).
fn member(peer: &PeerView, post_policy: bool) -> PeerHeader {
    let kind = BmpPeerType::GlobalInstancePeer {
        ipv6: peer.address.is_ipv6(),
        post_policy,
        asn2: false,
        adj_rib_out: false,
    };
    let address = Some(peer.address);
    let id = bgp_id(peer.address);
    PeerHeader::new(kind, None, address, peer.asn.0, id, Some(Utc::now()))
}

/// The Loc-RIB instance's per-peer header (RFC 9069 §4.1: no address, rovgate's AS and
/// identifier).
fn loc_rib(local: &Local) -> PeerHeader {
    let kind = BmpPeerType::LocRibInstancePeer { filtered: false };
    let (asn, id) = (local.asn, local.router_id);
    PeerHeader::new(kind, None, None, asn, id, Some(Utc::now()))
}

/// A peer's BGP identifier as far as rovgate knows it: its IPv4 address, else 0.
fn bgp_id(address: IpAddr) -> Ipv4Addr {
    match address.to_canonical() {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    }
}

/// An OPEN of AS `asn` with identifier `id`: IPv4 and IPv6 unicast, 4-octet AS.
fn open(asn: u32, id: Ipv4Addr) -> BgpMessage {
    let caps = [
        BgpCapability::MultiProtocolExtensions(MultiProtocolExtensionsCapability::new(
            AddressType::Ipv4Unicast,
        )),
        BgpCapability::MultiProtocolExtensions(MultiProtocolExtensionsCapability::new(
            AddressType::Ipv6Unicast,
        )),
        BgpCapability::FourOctetAs(FourOctetAsCapability::new(asn)),
    ];
    let params = [BgpOpenMessageParameter::Capabilities(caps.into())];
    let my_as = u16::try_from(asn).unwrap_or(AS_TRANS);
    BgpMessage::Open(BgpOpenMessage::new(my_as, HOLD_TIME, id, params))
}

/// A whole message as netgauze writes it (nothing on a write error, logged: a value out
/// of the format's range).
fn write(value: V3) -> Vec<u8> {
    let message = BmpMessage::V3(value);
    let mut out = Vec::with_capacity(message.len());
    match message.write(&mut out) {
        Ok(()) => out,
        Err(error) => {
            warn!(?error, "BMP message not written");
            Vec::new()
        }
    }
}
