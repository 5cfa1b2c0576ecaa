//! AS_PATH in rovgate's 4-octet form: its segments, the origin and first AS, the length
//! best-path selection counts, and how it prints.
//!
//! Where it sits: among the shared types of `route.rs` (which re-exports [`AsPath`] and
//! [`Segment`]); the BGP codec builds it on decode (AS4_PATH merged in), validation reads
//! its origin, the import checks its first AS and ASNs.

use std::fmt;

use super::Asn;

/// One AS_PATH segment, always with 4-octet ASNs (AS4_PATH merged in on decode).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// AS_SET (type 1).
    Set(Vec<u32>),
    /// AS_SEQUENCE (type 2).
    Sequence(Vec<u32>),
    /// AS_CONFED_SEQUENCE (type 3).
    ConfedSequence(Vec<u32>),
    /// AS_CONFED_SET (type 4).
    ConfedSet(Vec<u32>),
}

/// An AS_PATH in 4-octet form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AsPath(pub Vec<Segment>);

impl AsPath {
    /// The origin AS (RFC 6811): the last AS of a path ending in an AS_SEQUENCE; `None` when
    /// the path is empty or ends in a set.
    pub fn origin(&self) -> Option<Asn> {
        match self.0.last()? {
            Segment::Sequence(v) => v.last().map(|&a| Asn(a)),
            _ => None,
        }
    }

    /// The first AS: the neighbour that sent the route (RFC 7947 checks it).
    pub fn first(&self) -> Option<Asn> {
        match self.0.first()? {
            Segment::Sequence(v) => v.first().map(|&a| Asn(a)),
            _ => None,
        }
    }

    /// The path length used by best-path selection (RFC 4271 §9.1.2.2: a set counts 1,
    /// confederation segments 0).
    pub fn len(&self) -> usize {
        self.0
            .iter()
            .map(|s| match s {
                Segment::Sequence(v) => v.len(),
                Segment::Set(_) => 1,
                Segment::ConfedSequence(_) | Segment::ConfedSet(_) => 0,
            })
            .sum()
    }

    /// Whether the path has no AS at all (a route originated by the peer's iBGP side).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every AS in the path, in order.
    pub fn asns(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().flat_map(|s| match s {
            Segment::Set(v)
            | Segment::Sequence(v)
            | Segment::ConfedSequence(v)
            | Segment::ConfedSet(v) => v.iter().copied(),
        })
    }
}

impl fmt::Display for AsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in &self.0 {
            let (open, close, v) = match s {
                Segment::Sequence(v) => ("", "", v),
                Segment::Set(v) => ("{", "}", v),
                Segment::ConfedSequence(v) => ("(", ")", v),
                Segment::ConfedSet(v) => ("[", "]", v),
            };
            let asns: Vec<String> = v.iter().map(u32::to_string).collect();
            let sep = if first { "" } else { " " };
            write!(f, "{sep}{open}{}{close}", asns.join(" "))?;
            first = false;
        }
        Ok(())
    }
}
