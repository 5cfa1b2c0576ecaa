//! Reading MRT files (RFC 6396) over `bgpkit-parser`: table dumps and update files, plain,
//! gzip or bzip2.
//!
//! Where it sits: an input beside the BGP sessions, for benchmarks, tests and offline
//! reports; it yields rovgate's own types, not the parser's.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use bgpkit_parser::models::{AsPathSegment, BgpElem, ElemType};
use bgpkit_parser::BgpkitParser;
use ipnet::IpNet;

use crate::rpki::Asn;

/// One announced route from an MRT file: the prefix and its origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MrtRoute {
    /// The announced prefix.
    pub prefix: IpNet,
    /// The origin AS; `None` when the path ends in an AS_SET (or is empty).
    pub origin: Option<Asn>,
}

/// Opens an MRT file, decompressing by its name (`.gz`, `.bz2`).
pub fn open(path: &Path) -> std::io::Result<BgpkitParser<Box<dyn Read + Send>>> {
    let file = BufReader::new(File::open(path)?);
    let name = path.to_string_lossy();
    let reader: Box<dyn Read + Send> = if name.ends_with(".gz") {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else if name.ends_with(".bz2") {
        Box::new(BufReader::new(bzip2::read::MultiBzDecoder::new(file)))
    } else {
        Box::new(file)
    };
    Ok(BgpkitParser::from_reader(reader))
}

/// Every announcement in an MRT file (table dump entries and UPDATE announcements) as
/// prefix and origin; withdrawals are skipped. Records the parser cannot read are skipped
/// by the parser and logged by it.
pub fn routes(path: &Path) -> std::io::Result<impl Iterator<Item = MrtRoute>> {
    Ok(open(path)?
        .into_elem_iter()
        .filter(|e| e.elem_type == ElemType::ANNOUNCE)
        .map(|e| MrtRoute {
            prefix: e.prefix.prefix,
            origin: origin(&e),
        }))
}

/// RFC 6811 origin: the last AS of a path ending in an AS_SEQUENCE; none otherwise.
fn origin(elem: &BgpElem) -> Option<Asn> {
    match elem.as_path.as_ref()?.segments.last()? {
        AsPathSegment::AsSequence(v) => v.last().map(|a| Asn(u32::from(*a))),
        _ => None,
    }
}
