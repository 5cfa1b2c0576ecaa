//! The churn walk: which VRPs the RTR server serves at each serial, as a pure function of
//! the serial.
//!
//! Where it sits: `server.rs` keeps one [`Walk`] and the current serial, and answers the
//! crate's server with [`Walk::set`] (reset query) and [`Walk::delta`] (serial query).
//!
//! The VRPs, sorted and deduplicated, are visited in the order
//! `index = position × stride mod n` (`stride` ≈ 0.618·n, coprime to n), so consecutive
//! serials touch VRPs spread over the whole address space. At serial `s ≥ 1` the withdrawn
//! VRPs are the K positions from `(s − 1)·K mod n`; serial 0 is the whole file. Serial 1
//! withdraws K VRPs; every later serial withdraws the next K and re-announces the K the
//! previous serial withdrew, so the set holds n − K VRPs from serial 1 on. Any two serials'
//! difference follows from their windows, so a serial query from any earlier serial is
//! answered without keeping a history.

use std::sync::Arc;

use rpki::resources::{MaxLenPrefix, Prefix};
use rpki::rtr::payload::{Action, Payload, PayloadRef};
use rpki::rtr::server::{PayloadDiff, PayloadSet};
use tracing::warn;

use crate::rpki::Vrp;

/// The VRPs of a churn and the order they are withdrawn in.
#[derive(Debug)]
pub(crate) struct Walk {
    /// The VRPs, sorted and deduplicated.
    payload: Vec<Payload>,
    stride: u64,
    /// VRPs withdrawn per serial (K).
    size: usize,
}

impl Walk {
    /// The walk over `vrps`, `size` per serial.
    pub(crate) fn new(mut vrps: Vec<Vrp>, size: usize) -> Walk {
        vrps.sort();
        vrps.dedup();
        let payload: Vec<Payload> = vrps.iter().filter_map(to_payload).collect();
        if payload.len() < vrps.len() {
            warn!(
                skipped = vrps.len() - payload.len(),
                "VRPs the RTR server cannot encode"
            );
        }
        Walk {
            stride: stride(payload.len()),
            payload,
            size,
        }
    }

    /// How many VRPs the file holds (serial 0 serves them all).
    pub(crate) fn len(&self) -> usize {
        self.payload.len()
    }

    /// VRPs withdrawn per serial.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The set at `serial`.
    pub(crate) fn set(self: &Arc<Self>, serial: u32) -> FullSet {
        FullSet {
            walk: self.clone(),
            serial,
            next: 0,
        }
    }

    /// What turns the set at `from` into the set at `to`.
    pub(crate) fn delta(self: &Arc<Self>, from: u32, to: u32) -> Delta {
        let announce = (self.window(from).filter(|&p| !self.withdrawn(to, p)))
            .map(|p| (self.index(p), Action::Announce));
        let withdraw = (self.window(to).filter(|&p| !self.withdrawn(from, p)))
            .map(|p| (self.index(p), Action::Withdraw));
        Delta {
            walk: self.clone(),
            items: announce.chain(withdraw).collect(),
            next: 0,
        }
    }

    /// The walk position `pos` as an index into `payload`.
    fn index(&self, pos: usize) -> usize {
        (pos as u64 * self.stride % self.payload.len() as u64) as usize
    }

    /// The first withdrawn position at `serial`; `None` at serial 0 (nothing withdrawn).
    fn window_start(&self, serial: u32) -> Option<usize> {
        let n = self.payload.len() as u64;
        (serial > 0 && n > 0).then(|| (u64::from(serial - 1) * self.size as u64 % n) as usize)
    }

    /// The positions withdrawn at `serial`.
    fn window(&self, serial: u32) -> impl Iterator<Item = usize> + '_ {
        let n = self.payload.len();
        let start = self.window_start(serial);
        let len = if start.is_some() { self.size } else { 0 };
        (0..len).filter_map(move |i| start.map(|s| (s + i) % n))
    }

    /// Whether position `pos` is withdrawn at `serial`.
    fn withdrawn(&self, serial: u32, pos: usize) -> bool {
        let n = self.payload.len();
        self.window_start(serial)
            .is_some_and(|s| (pos + n - s) % n < self.size)
    }
}

/// A walk stride that visits every position once: about 0.618·n, coprime to n.
fn stride(n: usize) -> u64 {
    let n = n as u64;
    let gcd = |mut a: u64, mut b: u64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let mut s = ((n as f64 * 0.618) as u64).max(1);
    while s > 1 && gcd(s, n) != 1 {
        s -= 1;
    }
    s
}

/// A VRP as an RTR route origin (`None` if the crate refuses it).
fn to_payload(v: &Vrp) -> Option<Payload> {
    let prefix = Prefix::new(v.prefix.addr(), v.prefix.prefix_len()).ok()?;
    let prefix = MaxLenPrefix::new(prefix, Some(v.max_length)).ok()?;
    Some(Payload::origin(prefix, v.asn.0.into()))
}

/// The whole set at one serial, for a reset query.
#[derive(Debug)]
pub(crate) struct FullSet {
    walk: Arc<Walk>,
    serial: u32,
    next: usize,
}

impl PayloadSet for FullSet {
    fn next(&mut self) -> Option<PayloadRef<'_>> {
        while self.next < self.walk.payload.len() {
            let pos = self.next;
            self.next += 1;
            if !self.walk.withdrawn(self.serial, pos) {
                return Some(self.walk.payload[self.walk.index(pos)].as_ref());
            }
        }
        None
    }
}

/// The difference between two serials, for a serial query.
#[derive(Debug)]
pub(crate) struct Delta {
    walk: Arc<Walk>,
    items: Vec<(usize, Action)>,
    next: usize,
}

impl PayloadDiff for Delta {
    fn next(&mut self) -> Option<(PayloadRef<'_>, Action)> {
        let &(index, action) = self.items.get(self.next)?;
        self.next += 1;
        Some((self.walk.payload[index].as_ref(), action))
    }
}

#[cfg(test)]
#[path = "walk_tests.rs"]
pub(super) mod tests;
