//! A feeder: one BGP speaker that announces one MRT peer's routes to the device under test.
//!
//! Where it sits: `replay::replay` connects one feeder per feed, from its own 127.0.0.x
//! address, and starts them together once the sink is up. A feeder encodes its whole feed
//! for the negotiated capabilities before it starts (so the measurement holds the device's
//! time, not the encoder's), then writes the UPDATEs back to back, End-of-RIB for each
//! family, and keeps the session up until told to stop. Meanwhile it reads what the device
//! sends it (other feeders' routes, through a route server): it drops them, or in member
//! mode (`replay::ixp`) hands them to its [`Tally`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::watch;
use tokio::time::Instant;

use super::speaker::{self, Endpoint, ReplaySession};
use super::tally::{Tally, TallyReport};
use super::ReplayError;
use crate::bgp::open::LocalSpeaker;
use crate::bgp::wire::{self, Caps, MessageType};
use crate::feed::FeedPeer;
use crate::route::{Asn, Export, Family};

/// Write size: UPDATEs are concatenated into chunks of about this many bytes.
const CHUNK: usize = 256 * 1024;

/// Who a feeder is and where it connects.
#[derive(Clone, Debug)]
pub struct FeederConfig {
    /// The local address to connect from (a 127.0.0.x, so one machine holds many feeders).
    pub local: IpAddr,
    /// The feeder's AS.
    pub asn: u32,
    /// The device under test.
    pub target: SocketAddr,
    /// The hold time to propose, seconds.
    pub hold_time: u16,
    /// A stuck member (`--stuck`): it sends its feed but never reads what the device
    /// sends, with a receive buffer so small that its TCP window shuts at once.
    pub stuck: bool,
}

/// What a feeder did, once stopped.
#[derive(Clone, Copy, Debug)]
pub struct FeederReport {
    /// When the first UPDATE was written.
    pub first_update: Instant,
    /// When the last UPDATE (and End-of-RIB) was written to the socket.
    pub last_update: Instant,
    /// UPDATE messages sent (End-of-RIB included).
    pub updates_sent: usize,
    /// Bytes of UPDATEs sent.
    pub bytes_sent: usize,
    /// UPDATE messages the device sent the feeder.
    pub updates_received: u64,
    /// What it received, in member mode.
    pub tally: Option<TallyReport>,
}

/// An Established feeder with its UPDATEs encoded, not sending yet.
pub struct Feeder {
    session: ReplaySession,
    chunks: Vec<Bytes>,
    updates: usize,
    tally: Option<Tally>,
    stuck: bool,
}

impl Feeder {
    /// Connects (retrying while the device refuses, until `deadline`), establishes the
    /// session and encodes `feed` for it. Fails if the device did not agree to a family the
    /// feed has.
    pub async fn connect(
        config: &FeederConfig,
        feed: Arc<FeedPeer>,
        deadline: Instant,
    ) -> Result<Feeder, ReplayError> {
        let who = format!("feeder {}", config.local);
        let mut local = LocalSpeaker::new(Asn(config.asn), router_id(config.local));
        local.hold_time = config.hold_time;
        let endpoint = Endpoint::Connect {
            local: config.local,
            target: config.target,
            small_window: config.stuck,
        };
        let session = speaker::establish(&endpoint, &local, &who, deadline).await?;
        for family in Family::ALL {
            if !session.negotiated.families.contains(&family) && feed.routes_of(family) > 0 {
                return Err(ReplayError::Family { who, family });
            }
        }
        let (caps, families) = (session.caps, session.negotiated.families.clone());
        let encode = move || encode(&feed, &caps, &families);
        let (chunks, updates) =
            tokio::task::spawn_blocking(encode)
                .await
                .map_err(|_| ReplayError::Internal {
                    what: "encoder task failed",
                })?;
        Ok(Feeder {
            session,
            chunks,
            updates,
            tally: None,
            stuck: config.stuck,
        })
    }

    /// Decodes what the device sends into `tally` instead of dropping it (member mode).
    pub fn receive_into(self, tally: Tally) -> Feeder {
        Feeder {
            tally: Some(tally),
            ..self
        }
    }

    /// Sends the feed, then keeps the session up; ends with the report after `stop`, or
    /// with the error that ended the session. Spawn it: all feeders start together.
    pub async fn run(self, stop: watch::Receiver<bool>) -> Result<FeederReport, ReplayError> {
        let ReplaySession {
            who,
            mut reader,
            mut writer,
            negotiated,
            ..
        } = self.session;
        let mut tally = self.tally;
        let stopping = stop.clone();
        let now = Instant::now();
        let mut report = FeederReport {
            first_update: now,
            last_update: now,
            updates_sent: self.updates,
            bytes_sent: 0,
            updates_received: 0,
            tally: None,
        };
        let send = async {
            write_all(&mut writer, &self.chunks, &mut report, &who).await?;
            speaker::keep_alive(writer, negotiated.keepalive, stop, &who).await
        };
        let mut received = 0;
        let drain = async {
            if self.stuck {
                return std::future::pending().await;
            }
            loop {
                let frame =
                    speaker::next_frame_held(&mut reader, &who, negotiated.hold_time).await?;
                if frame.kind != MessageType::Update {
                    continue;
                }
                received += 1;
                if let Some(tally) = &mut tally {
                    let (withdrawn, announced) =
                        wire::update_prefixes(&frame.bytes).map_err(|n| ReplayError::Refused {
                            who: who.clone(),
                            notification: n,
                        })?;
                    tally.apply(&withdrawn, &announced);
                }
            }
        };
        let result: Result<(), ReplayError> = tokio::select! {
            r = send => r,
            r = drain => r,
        };
        match result {
            // Once stopping, the device's Cease or close is the expected end.
            Err(e) if !*stopping.borrow() => Err(e),
            _ => Ok(FeederReport {
                updates_received: received,
                tally: tally.as_ref().map(Tally::report),
                ..report
            }),
        }
    }
}

/// Writes the chunks, noting the time of the first and the last write and the bytes.
async fn write_all(
    writer: &mut OwnedWriteHalf,
    chunks: &[Bytes],
    report: &mut FeederReport,
    who: &str,
) -> Result<(), ReplayError> {
    report.first_update = Instant::now();
    for chunk in chunks {
        writer
            .write_all(chunk)
            .await
            .map_err(|error| ReplayError::Io {
                who: who.to_string(),
                error,
            })?;
        report.bytes_sent += chunk.len();
    }
    report.last_update = Instant::now();
    Ok(())
}

/// The feeder's BGP Identifier: its IPv4 address, or a fixed one for IPv6 feeders.
fn router_id(local: IpAddr) -> Ipv4Addr {
    match local {
        IpAddr::V4(a) => a,
        IpAddr::V6(a) => {
            Ipv4Addr::from(u32::from_be_bytes([10, 0, a.octets()[14], a.octets()[15]]))
        }
    }
}

/// The feed as UPDATEs for these capabilities, End-of-RIB for each family last, packed
/// into write chunks; and the number of UPDATEs. Prefixes of families not negotiated are
/// left out.
pub fn encode(feed: &FeedPeer, caps: &Caps, families: &[Family]) -> (Vec<Bytes>, usize) {
    let mut messages = Vec::new();
    let mut chunks = Vec::new();
    let mut chunk = BytesMut::with_capacity(CHUNK);
    let mut count = 0;
    let mut flush = |messages: &mut Vec<Bytes>, chunk: &mut BytesMut| {
        count += messages.len();
        for m in messages.drain(..) {
            chunk.extend_from_slice(&m);
            if chunk.len() >= CHUNK {
                chunks.push(std::mem::replace(chunk, BytesMut::with_capacity(CHUNK)).freeze());
            }
        }
    };
    for (attrs, prefixes) in &feed.batches {
        let mut prefixes = prefixes.clone();
        prefixes.retain(|p| families.contains(&Family::of(p)));
        if prefixes.is_empty() {
            continue;
        }
        wire::encode_updates(
            &Export::Announce(attrs.clone(), prefixes),
            caps,
            &mut messages,
        );
        flush(&mut messages, &mut chunk);
    }
    for &family in families {
        wire::encode_updates(&Export::EndOfRib(family), caps, &mut messages);
    }
    flush(&mut messages, &mut chunk);
    if !chunk.is_empty() {
        chunks.push(chunk.freeze());
    }
    (chunks, count)
}
