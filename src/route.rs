//! The types everyone shares: peers, prefixes, interned path attributes, the AS_PATH
//! (`route/as_path.rs`), the origin AS and its RPKI state ([`Asn`], [`RovState`]), and the
//! decoded form of an UPDATE.
//!
//! Where it sits: at the bottom of the layering (`route` < `rpki` < `policy` < `rib` <
//! `bgp`, checked by `layering_tests.rs`). The BGP session task decodes wire bytes into
//! [`Update`]s of these types and sends them to the RIB task; the RIB stores each path with
//! its interned [`Attrs`] and hands [`Export`]s back to sessions, which encode them. The RIB
//! never sees wire messages, only these types.

use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use ipnet::IpNet;

pub mod abuse;
pub mod actions;
mod as_path;
mod origin;
mod path_nlri;
mod session_up;

pub use actions::Actions;
pub use as_path::{AsPath, Segment};
pub use origin::{Asn, RovState, FILTERED_FUNCTION, TAG_FUNCTION};
pub use path_nlri::{Nlri, PathNlri};
pub use session_up::SessionUp;

/// A configured peer, as the RIB indexes it: the place its peer took when the daemon
/// started, or when a config reload added it. An id is never given to another peer, even
/// after its peer is removed (`RibEvent::RemovePeer`). Everything outside the RIB names peers by their configured name (a config
/// reload matches peers by name, never by position).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct PeerId(pub u32);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "peer#{}", self.0)
    }
}

/// An address family rovgate routes (AFI/SAFI unicast only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// AFI 1, SAFI 1.
    Ipv4Unicast,
    /// AFI 2, SAFI 1.
    Ipv6Unicast,
}

impl Family {
    /// Both families, IPv4 first.
    pub const ALL: [Family; 2] = [Family::Ipv4Unicast, Family::Ipv6Unicast];

    /// The family of a prefix (of a route: its next hop may be of the other, RFC 8950).
    pub fn of(prefix: &IpNet) -> Family {
        match prefix {
            IpNet::V4(_) => Family::Ipv4Unicast,
            IpNet::V6(_) => Family::Ipv6Unicast,
        }
    }
}

/// Where a route's traffic goes: NEXT_HOP for IPv4 routes, the MP_REACH next hop for IPv6
/// ones and for IPv4 ones with an IPv6 next hop (RFC 8950). Its kind does not say the
/// route's family: an IPv4 route may have a `V6` next hop; the prefix says the family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NextHop {
    /// An IPv4 next hop.
    V4(Ipv4Addr),
    /// An IPv6 global next hop, with the link-local one when the peer sent it.
    V6(Ipv6Addr, Option<Ipv6Addr>),
}

impl From<IpAddr> for NextHop {
    /// An IPv4 next hop, or an IPv6 one without a link-local address.
    fn from(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => NextHop::V4(a),
            IpAddr::V6(a) => NextHop::V6(a, None),
        }
    }
}

impl NextHop {
    /// The (global) next-hop address.
    pub fn addr(&self) -> IpAddr {
        match *self {
            NextHop::V4(a) => IpAddr::V4(a),
            NextHop::V6(a, _) => IpAddr::V6(a),
        }
    }
}

/// Path attributes as received, with the few fields decisions need parsed out.
///
/// `other` holds every attribute except AS_PATH, AS4_PATH, NEXT_HOP, MP_REACH_NLRI and
/// MP_UNREACH_NLRI exactly as received (flags, type, length, value), in received order; a
/// route server passes them through unchanged (RFC 7947). Interned by the RIB: one
/// `Arc<AttrSet>` per distinct set, shared by every prefix that carries it.
#[derive(Debug)]
pub struct AttrSet {
    /// ORIGIN: 0 IGP, 1 EGP, 2 INCOMPLETE.
    pub origin: u8,
    /// AS_PATH, 4-octet form.
    pub as_path: AsPath,
    /// The next hop.
    pub next_hop: NextHop,
    /// MULTI_EXIT_DISC, if present.
    pub med: Option<u32>,
    /// The other attributes, wire-encoded as received.
    pub other: Bytes,
    /// What rovgate added (ROV tag, filtered reason); `None` for a set as received.
    pub tags: Option<Box<Tags>>,
    /// What the path's communities ask of the route server, read from `other` once when
    /// the session decoded it; `None`: nothing (the common case).
    pub actions: Option<Box<Actions>>,
    /// The encoded attributes for 2-octet-AS peers and for 4-octet-AS peers, made once on
    /// first export and shared by all peers (see [`AttrSet::encoded`]). Boxed, and the box
    /// made on first export too: most sets are never exported (every path but the best),
    /// and each set is 64 bytes smaller for it.
    encodings: OnceLock<Box<[OnceLock<Bytes>; 2]>>,
    /// The hash of the fields above, made once (see [`AttrSet::digest`]); 0 until then. Not
    /// a `OnceLock`: its 8 bytes more would put every set in the allocator's next size.
    digest: AtomicU64,
}

/// What rovgate adds to a received attribute set. A route server passes attributes through
/// (RFC 7947); ROV tagging and filtered-reason communities are the exception, and the BGP
/// encoder writes them into the outgoing attributes.
#[derive(Clone, Debug)]
pub struct Tags {
    /// The attribute set as received.
    pub received: Attrs,
    /// Large communities (RFC 8092) to add, e.g. the Euro-IX `rs_asn:1000:4` (invalid).
    pub large: Vec<[u32; 3]>,
    /// The state the RFC 8097 extended community carries, for peers configured to get it.
    pub state: Option<RovState>,
    /// An RFC 7999 blackhole request taken: the next hop is rewritten to this one (the
    /// set's `next_hop`) and NO_EXPORT is added.
    pub blackhole: Option<NextHop>,
}

impl PartialEq for Tags {
    fn eq(&self, o: &Self) -> bool {
        Arc::ptr_eq(&self.received, &o.received)
            && self.large == o.large
            && self.state == o.state
            && self.blackhole == o.blackhole
    }
}

impl Hash for Tags {
    fn hash<H: Hasher>(&self, h: &mut H) {
        Arc::as_ptr(&self.received).hash(h);
        self.large.hash(h);
        self.state.hash(h);
        self.blackhole.hash(h);
    }
}

impl AttrSet {
    /// A new attribute set with nothing encoded yet.
    pub fn new(
        origin: u8,
        as_path: AsPath,
        next_hop: NextHop,
        med: Option<u32>,
        other: Bytes,
    ) -> Self {
        AttrSet {
            origin,
            as_path,
            next_hop,
            med,
            other,
            tags: None,
            actions: None,
            encodings: OnceLock::new(),
            digest: AtomicU64::new(0),
        }
    }

    /// Where the set's attributes encoded for 4-octet-AS peers (`as4`) or 2-octet-AS peers
    /// are kept once the BGP encoder made them.
    pub fn encoded(&self, as4: bool) -> &OnceLock<Bytes> {
        &self.encodings.get_or_init(Box::default)[usize::from(as4)]
    }

    /// A hash of the set, made on first use and kept: the session task makes it right
    /// after decoding, so the RIB's interner only compares. The fields must not change
    /// once it is made. A tagged set hashes its received set's digest and its tags.
    pub fn digest(&self) -> u64 {
        static SEED: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
        let known = self.digest.load(Ordering::Relaxed);
        if known != 0 {
            return known;
        }
        let mut h = SEED.get_or_init(Default::default).build_hasher();
        match &self.tags {
            Some(m) => {
                m.received.digest().hash(&mut h);
                m.hash(&mut h);
            }
            None => {
                self.origin.hash(&mut h);
                self.as_path.hash(&mut h);
                self.next_hop.hash(&mut h);
                self.med.hash(&mut h);
                self.other.hash(&mut h);
            }
        }
        // Two threads that race make the same value; 0 is kept for "not made".
        let made = h.finish().max(1);
        self.digest.store(made, Ordering::Relaxed);
        made
    }

    /// `received` with rovgate's tags added (`large` communities, the RFC 8097 `state`, a
    /// `blackhole` next hop); without tags, a copy of `received`'s fields that interns back
    /// to `received` itself.
    pub fn tagged(
        received: &Attrs,
        large: Vec<[u32; 3]>,
        state: Option<RovState>,
        blackhole: Option<NextHop>,
    ) -> AttrSet {
        let received = received.received();
        let tagged = !large.is_empty() || state.is_some() || blackhole.is_some();
        let tags = tagged.then(|| {
            Box::new(Tags {
                received: received.clone(),
                large,
                state,
                blackhole,
            })
        });
        AttrSet {
            tags,
            actions: received.actions.clone(),
            ..AttrSet::new(
                received.origin,
                received.as_path.clone(),
                blackhole.unwrap_or(received.next_hop),
                received.med,
                received.other.clone(),
            )
        }
    }

    /// The attribute set as the peer sent it (itself, unless rovgate tagged it).
    pub fn received(self: &Arc<Self>) -> &Arc<Self> {
        self.tags.as_ref().map_or(self, |m| &m.received)
    }
}

impl PartialEq for AttrSet {
    fn eq(&self, o: &Self) -> bool {
        self.origin == o.origin
            && self.next_hop == o.next_hop
            && self.med == o.med
            && self.other == o.other
            && self.as_path == o.as_path
            && self.tags == o.tags
            && self.actions == o.actions
    }
}

impl Eq for AttrSet {}

impl Hash for AttrSet {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.digest());
    }
}

/// An interned attribute set.
pub type Attrs = Arc<AttrSet>;

/// What a session decoded from one UPDATE, in rovgate's types. Its prefixes are plain
/// (`IpNet`), or carry ADD-PATH path identifiers (`Update<PathNlri>`, from a BMP-monitored
/// neighbour that uses ADD-PATH).
#[derive(Debug, Default)]
pub struct Update<N = IpNet> {
    /// Prefixes withdrawn (body and MP_UNREACH), including those a malformed attribute
    /// turned into withdrawals (RFC 7606 treat-as-withdraw).
    pub withdrawn: Vec<N>,
    /// Announced prefixes with their attributes: at most one group per family.
    pub announced: Vec<(AttrSet, Vec<N>)>,
    /// An End-of-RIB marker for this family (RFC 4724).
    pub end_of_rib: Option<Family>,
}

/// What the RIB sends a session to put on the wire.
#[derive(Debug, Clone)]
pub enum Export {
    /// Announce these prefixes with these attributes.
    Announce(Attrs, Vec<IpNet>),
    /// Withdraw these prefixes.
    Withdraw(Vec<IpNet>),
    /// Announce these paths with these attributes, each with its path identifier (RFC 7911
    /// ADD-PATH, to a peer that negotiated it for their families).
    AnnouncePaths(Attrs, Vec<PathNlri>),
    /// Withdraw these paths (RFC 7911 ADD-PATH).
    WithdrawPaths(Vec<PathNlri>),
    /// The initial export of this family is complete (End-of-RIB, RFC 4724).
    EndOfRib(Family),
    /// A re-export the peer asked for with ROUTE-REFRESH starts (BoRR, RFC 7313 §4, when
    /// enhanced route refresh was negotiated).
    BeginRefresh(Family),
    /// A re-export the peer asked for with ROUTE-REFRESH is complete (EoRR, RFC 7313, when
    /// enhanced route refresh was negotiated).
    EndOfRefresh(Family),
    /// The peer sent more prefixes than its configured maximum (the limit): close the
    /// session with Cease / Maximum Number of Prefixes Reached (RFC 4486).
    LimitReached(u64),
}

/// One shared `Arc` per distinct attribute set. `AttrSet::encoded` and `digest` are caches
/// left out of `Eq` (and `digest` is what `Hash` writes), so the keys never change while
/// stored (hence the clippy allowance).
#[derive(Default)]
pub struct Interner {
    #[allow(clippy::mutable_key_type)]
    sets: foldhash::HashSet<Attrs>,
}

impl Interner {
    /// The interned `Arc` equal to `set`, made on first sight. Sets nobody else holds are
    /// dropped whenever the interner would have to grow.
    pub fn intern(&mut self, set: AttrSet) -> Attrs {
        if let Some(kept) = self.sets.get(&set) {
            return kept.clone();
        }
        if self.sets.len() >= 1024 && self.sets.len() == self.sets.capacity() {
            self.sets.retain(|a| Arc::strong_count(a) > 1);
        }
        let set = Arc::new(set);
        self.sets.insert(set.clone());
        set
    }
}
