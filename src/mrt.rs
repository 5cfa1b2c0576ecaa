//! Reading MRT files (RFC 6396) over `bgpkit-parser`: table dumps and update files, plain,
//! gzip or bzip2.
//!
//! Where it sits: an input beside the BGP sessions, for benchmarks, tests and offline
//! reports; it yields rovgate's own types, not the parser's. [`records`] (what replays and
//! reports read) says when a file is empty, not MRT, or cut short, which bgpkit-parser's
//! own iterators take for a clean end.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use crate::route::Asn;
use bgpkit_parser::models::{AsPathSegment, BgpElem, ElemType};
use bgpkit_parser::{chunk_mrt_record, BgpkitParser, ParserError, RawMrtRecord};
use ipnet::IpNet;

/// One announced route from an MRT file: the prefix and its origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MrtRoute {
    /// The announced prefix.
    pub prefix: IpNet,
    /// The origin AS; `None` when the path ends in an AS_SET (or is empty).
    pub origin: Option<Asn>,
}

/// Opens an MRT file, decompressing by its name (`.gz`, `.bz2`).
pub fn open(path: &Path) -> io::Result<BgpkitParser<Box<dyn Read + Send>>> {
    Ok(BgpkitParser::from_reader(decompressed(path)?))
}

/// The bytes of a file, decompressed by its name (`.gz`, `.bz2`).
fn decompressed(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let file = BufReader::new(File::open(path)?);
    let name = path.to_string_lossy();
    Ok(if name.ends_with(".gz") {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else if name.ends_with(".bz2") {
        Box::new(BufReader::new(bzip2::read::MultiBzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

/// Why an MRT file could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened.
    #[error("{path}: {error}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        error: io::Error,
    },
    /// The file (once decompressed) is empty.
    #[error("no MRT records in {path}")]
    Empty {
        /// The file.
        path: String,
    },
    /// The first record cannot be read: the file is not MRT (or not the compression its
    /// name says).
    #[error("{path} is not MRT: {why}")]
    NotMrt {
        /// The file.
        path: String,
        /// What the reader or the decompressor said.
        why: String,
    },
    /// The file ends inside a record or a compressed stream, or a record after the first
    /// cannot be framed.
    #[error("{path} is cut short after {records} records: {why}")]
    Truncated {
        /// The file.
        path: String,
        /// The whole records before the cut.
        records: u64,
        /// What the reader or the decompressor said.
        why: String,
    },
}

/// Every record of an MRT file, in order, or an error that says why the file cannot be
/// read whole (a [`ReadError`] as the last item).
pub fn records(path: &Path) -> Result<Records, ReadError> {
    let reader = decompressed(path).map_err(|error| ReadError::Open {
        path: path.display().to_string(),
        error,
    })?;
    Ok(Records {
        reader: Watched {
            inner: reader,
            error: None,
        },
        path: path.display().to_string(),
        count: 0,
        done: false,
    })
}

/// The records of one MRT file, cut by bgpkit-parser's `chunk_mrt_record`; see [`records`].
pub struct Records {
    reader: Watched<Box<dyn Read + Send>>,
    path: String,
    count: u64,
    done: bool,
}

impl Iterator for Records {
    type Item = Result<RawMrtRecord, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let framed = chunk_mrt_record(&mut self.reader);
        // The decompressor's error first: bgpkit-parser takes an unexpected end of the
        // stream between records for the end of the file.
        let why = match (framed, self.reader.error.take()) {
            (_, Some(why)) => why,
            (Ok(record), None) => {
                self.count += 1;
                return Some(Ok(record));
            }
            (Err(e), None) => match e.error {
                ParserError::EofExpected if self.count > 0 => {
                    self.done = true;
                    return None;
                }
                ParserError::EofExpected => String::new(),
                error => error.to_string().trim_start_matches("Error: ").to_string(),
            },
        };
        self.done = true;
        let path = self.path.clone();
        Some(Err(match self.count {
            0 if why.is_empty() => ReadError::Empty { path },
            0 => ReadError::NotMrt { path, why },
            records => ReadError::Truncated { path, records, why },
        }))
    }
}

/// A reader that remembers its error: bgpkit-parser logs a read error and ends, as if the
/// file ended there.
struct Watched<R> {
    inner: R,
    error: Option<String>,
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf);
        if let Err(e) = &read {
            if e.kind() != io::ErrorKind::Interrupted && self.error.is_none() {
                self.error = Some(e.to_string());
            }
        }
        read
    }
}

/// Every announcement in an MRT file (table dump entries and UPDATE announcements) as
/// prefix and origin; withdrawals are skipped. Records the parser cannot read are skipped
/// by the parser and logged by it.
pub fn routes(path: &Path) -> io::Result<impl Iterator<Item = MrtRoute>> {
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
