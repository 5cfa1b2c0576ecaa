//! BMP messages as rovgate exports them (RFC 7854, RFC 9069 Loc-RIB), written with
//! `netgauze-bmp-pkt`; the UPDATEs inside Route Monitoring are the sessions' own encoding
//! (`bgp::wire::encode_updates`).
//!
//! Where it sits: a station's task (`export.rs`) asks for each message here and writes
//! the bytes to its stream. Route Monitoring and Peer Up are put together here: netgauze
//! wants a decoded UPDATE or OPEN where rovgate has the bytes, so their 6-byte common
//! header and the Peer Up's fields are written here, their per-peer header by netgauze.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
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
    PeerDownNotificationReason, StatisticsCounter as Stat, StatisticsReportMessage,
    TerminationInformation, TerminationMessage,
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
use crate::route::{AttrSet, Export, Family, RovState, SessionUp, TAG_FUNCTION};

/// The BMP version written.
const VERSION: u8 = 3;
/// The Route Monitoring message type.
const ROUTE_MONITORING: u8 = 0;
/// The Peer Up Notification message type.
const PEER_UP: u8 = 3;
/// Version (1), message length (4), message type (1).
const COMMON_HEADER: usize = 6;
/// The largest UPDATE written: what every BGP speaker takes (RFC 4271).
const MAX_UPDATE: usize = 4096;
/// The hold time the Loc-RIB instance's fabricated OPEN carries.
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

/// Peer Up for a member, with the OPENs of its session as they were exchanged and the
/// connection's ends (RFC 7854 §4.10); `None` for a member that had no session yet.
pub fn peer_up(peer: &PeerView) -> Option<Vec<u8>> {
    let session = peer.session.as_deref()?;
    Some(peer_up_message(&member(peer, false), session))
}

/// Peer Up for the Loc-RIB instance: one fabricated OPEN with rovgate's AS and identifier
/// as both the sent and the received OPEN, no address or ports (RFC 9069 §5.2).
pub fn loc_rib_up(local: &Local) -> Vec<u8> {
    let open = open(local.asn, local.router_id);
    let mut bytes = Vec::with_capacity(open.len());
    if let Err(error) = open.write(&mut bytes) {
        warn!(?error, "the Loc-RIB instance's OPEN not written");
    }
    let session = SessionUp {
        sent_open: bytes.clone().into(),
        received_open: bytes.into(),
        ..SessionUp::default()
    };
    peer_up_message(&loc_rib(local), &session)
}

/// A Peer Up Notification: the per-peer header, the local address (an IPv4 one in the
/// last 4 of 16 bytes), both ports, the OPENs byte for byte; no Information TLVs.
fn peer_up_message(header: &PeerHeader, session: &SessionUp) -> Vec<u8> {
    let port = |end: Option<SocketAddr>| end.map_or(0, |a| a.port());
    let local = match session.local.map(|a| a.ip().to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.to_ipv6_compatible().octets(),
        Some(IpAddr::V6(v6)) => v6.octets(),
        None => [0; 16],
    };
    let mut body = Vec::new();
    if let Err(error) = header.write(&mut body) {
        warn!(?error, "BMP per-peer header not written");
    }
    body.extend(local);
    body.extend(port(session.local).to_be_bytes());
    body.extend(port(session.remote).to_be_bytes());
    body.extend_from_slice(&session.sent_open);
    body.extend_from_slice(&session.received_open);
    let mut out = Vec::with_capacity(COMMON_HEADER + body.len());
    common_header(PEER_UP, body.len(), &mut out);
    out.extend(body);
    out
}

/// The common header of a message of `kind` whose body is `body_len` bytes long.
fn common_header(kind: u8, body_len: usize, out: &mut Vec<u8>) {
    out.push(VERSION);
    // Two OPENs or an UPDATE of at most 65535 bytes, with the headers: fits.
    out.extend_from_slice(&((COMMON_HEADER + body_len) as u32).to_be_bytes());
    out.push(kind);
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
        common_header(ROUTE_MONITORING, header.len() + update.len(), out);
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

/// A member's per-peer header (global instance peer; 4-octet AS_PATHs), with the BGP
/// Identifier of its OPEN.
fn member(peer: &PeerView, post_policy: bool) -> PeerHeader {
    let kind = BmpPeerType::GlobalInstancePeer {
        ipv6: peer.address.is_ipv6(),
        post_policy,
        asn2: false,
        adj_rib_out: false,
    };
    let address = Some(peer.address);
    let id = (peer.session.as_ref()).map_or(bgp_id(peer.address), |s| s.peer_router_id);
    PeerHeader::new(kind, None, address, peer.asn.0, id, Some(Utc::now()))
}

/// The Loc-RIB instance's per-peer header (RFC 9069 §4.1: no address, rovgate's AS and
/// identifier).
fn loc_rib(local: &Local) -> PeerHeader {
    let kind = BmpPeerType::LocRibInstancePeer { filtered: false };
    let (asn, id) = (local.asn, local.router_id);
    PeerHeader::new(kind, None, None, asn, id, Some(Utc::now()))
}

/// A peer's BGP identifier before its OPEN is known: its IPv4 address, else 0.
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

#[cfg(test)]
#[path = "export_wire_tests.rs"]
pub(super) mod tests;
