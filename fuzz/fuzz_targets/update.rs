//! Fuzzes what a peer controls on the route path: an UPDATE body is framed, decoded
//! (RFC 4271/7606) and, when it decodes, inserted into a RIB with a second peer up, so the
//! decode → validate → best path → export path runs on every input. Re-encoding what was
//! decoded must give UPDATEs that decode again. Flag bits 16 and 32 read the body as from a
//! sender using ADD-PATH for IPv4 and IPv6 (a BMP-monitored neighbour's): decoded with path
//! identifiers, each path inserted as its own.
#![no_main]

use std::net::IpAddr;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rovgate::bgp::wire::{decode_update, decode_update_paths, encode_updates, read_actions, Caps, PathIds};
use rovgate::policy::{CheckModes, RovMode, Tagging};
use rovgate::rib::{MassInvalidation, PeerInfo, Rib, RibEvent};
use rovgate::route::{AttrSet, Export, Family, PeerId, Asn};
use rovgate::rpki::VrpStore;

fn peer(i: u8) -> PeerInfo {
    let (address, asn) = (IpAddr::from([127, 0, 0, i]), Asn(64496 + u32::from(i)));
    PeerInfo {
        enforce_first_as: i == 1,
        max_prefixes: Some(1000),
        // Tagging runs the tagging path (marked attribute sets) on every input; every
        // import check runs (tagging too).
        checks: CheckModes::all(RovMode::Tag),
        ..PeerInfo::new(format!("p{i}"), address, asn, RovMode::Tag)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else { return };
    let caps = Caps {
        as4: flags & 1 == 1,
        max_len: if flags & 2 == 2 { 65535 } else { 4096 },
        rov_ext_community: flags & 4 == 4,
        extended_next_hop: flags & 8 == 8,
    };
    let Ok(len) = u16::try_from(19 + body.len()) else { return };
    let mut frame = vec![0xff; 16];
    frame.extend_from_slice(&len.to_be_bytes());
    frame.push(2);
    frame.extend_from_slice(body);
    let ids = PathIds { ipv4: flags & 16 == 16, ipv6: flags & 32 == 32 };
    if ids.any() {
        return paths(&frame, &caps, ids);
    }
    let Ok(mut update) = decode_update(&frame, &caps) else { return };
    // As a session does: the action communities are read once, and steer export.
    for (attrs, _) in &mut update.announced {
        attrs.actions = read_actions(&attrs.other, 64500, true);
    }
    // Everything decoded re-encodes into UPDATEs that decode.
    if let Ok(again) = decode_update(&frame, &caps) {
        for (mut attrs, prefixes) in again.announced {
            attrs.actions = read_actions(&attrs.other, 64500, true);
            // Stripped, and prepended when the path asks it towards AS 64497.
            let attrs = Arc::new(attrs).towards(Asn(64497));
            let mut out = Vec::new();
            encode_updates(&Export::Announce(attrs, prefixes), &caps, &mut out);
            for msg in out {
                assert!(decode_update(&msg, &caps).is_ok(), "re-encoded UPDATE does not decode");
            }
        }
    }
    insert(RibEvent::Update { peer: PeerId(1), update });
});

/// An UPDATE with path identifiers: re-encoded with them (every family) it decodes again,
/// and its paths go into a RIB.
fn paths(frame: &[u8], caps: &Caps, ids: PathIds) {
    let Ok((update, _)) = decode_update_paths(frame, caps, ids) else { return };
    let both = PathIds { ipv4: true, ipv6: true };
    for (a, paths) in &update.announced {
        let set = AttrSet::new(a.origin, a.as_path.clone(), a.next_hop, a.med, a.other.clone());
        let mut out = Vec::new();
        encode_updates(&Export::AnnouncePaths(Arc::new(set), paths.clone()), caps, &mut out);
        for msg in out {
            assert!(decode_update_paths(&msg, caps, both).is_ok(), "re-encoded paths do not decode");
        }
    }
    insert(RibEvent::PathUpdate { peer: PeerId(1), update });
}

/// Inserts one decoded UPDATE from peer 1 into a RIB where peer 0 is up.
fn insert(event: RibEvent) {
    let tagging = Tagging::euro_ix(64500);
    let mass = MassInvalidation::default();
    let mut rib = Rib::new(vec![peer(0), peer(1)], VrpStore::new(), tagging, mass);
    let (tx, _rx) = tokio::sync::mpsc::channel(1);
    rib.handle(RibEvent::PeerUp { peer: PeerId(0), families: Family::ALL.to_vec(), add_path: vec![], out: tx, session: Default::default() });
    rib.handle(event);
    // The end of the batch: the change is noted for peer 0 and its first chunk taken.
    rib.flush();
}
