//! What each IXP member receives: the expected prefixes present, the announcements
//! (repeats counted) and the unique prefixes, and the moment the member is complete.
//!
//! Where it sits: in member mode (`replay::ixp`) every member's session is a feeder that
//! also reads; its reader hands each UPDATE to the member's [`Tally`]. Expectations are one
//! shared [`Catalog`]: every prefix some member announces that the device should pass on
//! (deliverable, and not RPKI-invalid under `--drop-invalid`), numbered, with the slice
//! (`members::Member::group`) it belongs to. A member expects every catalogued prefix
//! outside its own slice; whether it gets its own slice back from a copy depends on the
//! device's best path, so those count as received but are not waited for. Per member state
//! is two bitmaps over the catalog, so 830 members cost little.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use super::prefix_set::PrefixSet;
use super::sink::Progress;
use crate::feed::FeedPeer;

/// The prefixes members wait for, numbered, each with its slice.
///
/// Kept sorted, a prefix's number being its position: 83 members look up 17 M
/// announcements at scale 1, on the cores the device under test runs on, and a hash map
/// (a cache miss per announcement) was most of the tool's time there. An IPv4 prefix is
/// searched only among those with its first [`V4_TOP_BITS`] bits ([`Catalog::find`]).
#[derive(Debug, Default)]
pub struct Catalog {
    /// The IPv4 prefixes as [`v4_key`]s, sorted: a prefix's number is its position.
    v4: Vec<u64>,
    /// Where the IPv4 prefixes whose first 20 bits are i begin: `v4_starts[i]`; 2^20 + 1
    /// entries.
    v4_starts: Vec<u32>,
    /// The IPv6 prefixes, sorted, numbered after the IPv4 ones.
    v6: Vec<Ipv6Net>,
    /// The slice of each prefix, by number.
    groups: Vec<u32>,
    /// Catalogued prefixes per slice.
    owned: Vec<usize>,
}

impl Catalog {
    /// The prefixes of `slices` (slice i: group i) that are in `expected`; a prefix in
    /// several slices belongs to the first.
    pub fn new(slices: &[FeedPeer], expected: &PrefixSet) -> Catalog {
        let mut entries: Vec<(IpNet, u32)> = slices
            .iter()
            .enumerate()
            .flat_map(|(group, slice)| {
                let prefixes = slice.batches.iter().flat_map(|(_, p)| p);
                prefixes.map(move |p| (*p, group as u32))
            })
            .filter(|(p, _)| expected.contains(p))
            .collect();
        // Stable: of equal prefixes the first slice's comes first and is kept. IPv4 sorts
        // before IPv6, and by address, then length, as its keys do.
        entries.sort_by_key(|(p, _)| *p);
        entries.dedup_by_key(|(p, _)| *p);
        let mut catalog = Catalog {
            owned: vec![0; slices.len()],
            ..Catalog::default()
        };
        for (p, group) in entries {
            match p {
                IpNet::V4(p) => catalog.v4.push(v4_key(&p)),
                IpNet::V6(p) => catalog.v6.push(p),
            }
            catalog.groups.push(group);
            catalog.owned[group as usize] += 1;
        }
        let v4 = &catalog.v4;
        catalog.v4_starts = (0..=1u64 << V4_TOP_BITS)
            .map(|top| v4.partition_point(|&k| v4_bucket(k) < top as usize) as u32)
            .collect();
        catalog
    }

    /// `p`'s number and slice.
    fn find(&self, p: &IpNet) -> Option<(u32, u32)> {
        let at = match p {
            IpNet::V4(p) => {
                let key = v4_key(p);
                let top = v4_bucket(key);
                let (from, to) = (
                    self.v4_starts[top] as usize,
                    self.v4_starts[top + 1] as usize,
                );
                from + self.v4[from..to].binary_search(&key).ok()?
            }
            IpNet::V6(p) => self.v4.len() + self.v6.binary_search(p).ok()?,
        };
        Some((at as u32, self.groups[at]))
    }

    /// How many prefixes are catalogued.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether nothing is catalogued.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// How many prefixes a member of this slice waits for: all outside its slice.
    pub fn expected_by(&self, group: usize) -> usize {
        self.len() - self.owned.get(group).copied().unwrap_or(0)
    }
}

/// What one member received, once stopped.
#[derive(Clone, Copy, Debug, Default)]
pub struct TallyReport {
    /// Prefixes it waits for.
    pub expected: usize,
    /// Of those, announced to it when it was complete, or when it was stopped.
    pub received: usize,
    /// Distinct catalogued prefixes it was announced (its own slice included).
    pub unique: usize,
    /// Prefixes announced to it (repeats counted).
    pub announced: u64,
    /// Prefixes withdrawn from it.
    pub withdrawn: u64,
    /// Announcements of prefixes not catalogued (invalid, or the device's own).
    pub unexpected: u64,
    /// UPDATE messages it received.
    pub updates: u64,
    /// When the last expected prefix arrived (`None`: not all arrived).
    pub complete_at: Option<Instant>,
    /// When an expected prefix last arrived that it did not hold yet (up to completion).
    pub last_new: Option<Instant>,
}

/// One member's receiving state.
pub struct Tally {
    catalog: Arc<Catalog>,
    group: u32,
    present: Bits,
    seen: Bits,
    /// Expected prefixes announced to it now.
    holding: usize,
    report: TallyReport,
    progress: Arc<Progress>,
    /// Told once when the member is complete.
    done: Option<UnboundedSender<()>>,
}

impl Tally {
    /// A member of slice `group` that tells `done` when complete and adds what it holds of
    /// what it waits for to `progress.received`.
    pub fn new(
        catalog: Arc<Catalog>,
        group: usize,
        progress: Arc<Progress>,
        done: UnboundedSender<()>,
    ) -> Tally {
        let report = TallyReport {
            expected: catalog.expected_by(group),
            ..TallyReport::default()
        };
        let bits = catalog.len();
        let mut tally = Tally {
            catalog,
            group: group as u32,
            present: Bits::new(bits),
            seen: Bits::new(bits),
            holding: 0,
            report,
            progress,
            done: Some(done),
        };
        tally.check_complete(Instant::now());
        tally
    }

    /// Applies one UPDATE: the prefixes it withdraws and announces
    /// ([`crate::bgp::wire::update_prefixes`]).
    pub fn apply(&mut self, withdrawn: &[IpNet], announced: &[IpNet]) {
        let r = &mut self.report;
        r.updates += 1;
        r.withdrawn += withdrawn.len() as u64;
        let before = self.holding;
        for p in withdrawn {
            if let Some((index, group)) = self.catalog.find(p) {
                if self.present.clear(index) && group != self.group {
                    self.holding -= 1;
                }
            }
        }
        for p in announced {
            r.announced += 1;
            let Some((index, group)) = self.catalog.find(p) else {
                r.unexpected += 1;
                continue;
            };
            r.unique += usize::from(self.seen.set(index));
            if self.present.set(index) && group != self.group {
                self.holding += 1;
            }
        }
        let now = Instant::now();
        if self.holding > before && self.done.is_some() {
            r.last_new = Some(now);
        }
        let total = &self.progress.received;
        match self.holding >= before {
            true => total.fetch_add((self.holding - before) as u64, Ordering::Relaxed),
            false => total.fetch_sub((before - self.holding) as u64, Ordering::Relaxed),
        };
        self.check_complete(now);
    }

    /// What it received: `received` is what it held when complete, or holds now.
    pub fn report(&self) -> TallyReport {
        match self.report.complete_at {
            Some(_) => self.report,
            None => TallyReport {
                received: self.holding,
                ..self.report
            },
        }
    }

    fn check_complete(&mut self, now: Instant) {
        if self.holding == self.report.expected {
            if let Some(done) = self.done.take() {
                self.report.complete_at = Some(now);
                self.report.last_new = Some(now);
                self.report.received = self.holding;
                // The replay may have given up waiting; the report still has the time.
                let _ = done.send(());
            }
        }
    }
}

/// How many of an IPv4 prefix's first bits index the catalog: a bucket then holds a few
/// prefixes (up to 16 /24s and what covers them).
const V4_TOP_BITS: u32 = 20;

/// An IPv4 prefix as a number that sorts as the prefix does: address, then length.
fn v4_key(p: &Ipv4Net) -> u64 {
    u64::from(u32::from(p.addr())) << 8 | u64::from(p.prefix_len())
}

/// The index bucket of a [`v4_key`]: the address's first [`V4_TOP_BITS`] bits (the key
/// being the 32 address bits, then 8 of length).
fn v4_bucket(key: u64) -> usize {
    (key >> (40 - V4_TOP_BITS)) as usize
}

/// A fixed-size bitmap.
struct Bits(Vec<u64>);

impl Bits {
    fn new(bits: usize) -> Bits {
        Bits(vec![0; bits.div_ceil(64)])
    }

    /// Sets bit `i`; whether it was clear.
    fn set(&mut self, i: u32) -> bool {
        let (word, bit) = (&mut self.0[i as usize / 64], 1u64 << (i % 64));
        let was_clear = *word & bit == 0;
        *word |= bit;
        was_clear
    }

    /// Clears bit `i`; whether it was set.
    fn clear(&mut self, i: u32) -> bool {
        let (word, bit) = (&mut self.0[i as usize / 64], 1u64 << (i % 64));
        let was_set = *word & bit != 0;
        *word &= !bit;
        was_set
    }
}
