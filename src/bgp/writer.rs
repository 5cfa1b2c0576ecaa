//! A session's writer task: owns the socket's write half, sends the session's control
//! messages (OPEN, KEEPALIVE, NOTIFICATION) ahead of routes, and encodes the RIB's exports
//! into UPDATEs.
//!
//! Where it sits: between the RIB (exports, once the session is Established) and the peer.
//! Keeping writes here means a slow peer never stalls the session's reading and timers. The
//! writer pulls: each time it takes a chunk of exports it wakes the RIB, which hands it the
//! next one only then, so what a slow peer still has to be sent stays pending state in the
//! RIB. A peer that takes no data for the send hold time (RFC 9687) is given up on.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, Notify};

use super::wire::{self, Caps};
use crate::rib::Outgoing;
use crate::route::{Export, Family};

/// What the session loop tells its writer.
#[derive(Debug)]
pub enum Control {
    /// Write this message now (ahead of queued routes).
    Send(Bytes),
    /// The session is Established: encode exports with these capabilities, pulled from
    /// `exports` (waking `writable` after each), and give up after `send_hold` without
    /// progress.
    Established {
        caps: Caps,
        enhanced_route_refresh: bool,
        exports: mpsc::Receiver<Outgoing>,
        writable: Arc<Notify>,
        send_hold: Duration,
    },
    /// Write what is queued, then close the connection.
    Close,
}

/// What the writer tells the session loop.
#[derive(Debug)]
pub enum WriterEvent {
    /// The RIB says the peer exceeded its maximum prefixes.
    LimitReached(u64),
    /// Writing failed: the connection is broken.
    Failed(io::Error),
    /// The peer took no data for the send hold time (RFC 9687); the writer is gone.
    SendHoldExpired,
}

/// The send hold time before a session is established: RFC 9687's floor of 8 minutes.
pub const SEND_HOLD_MIN: Duration = Duration::from_secs(480);

/// The write buffer's size: one write moves at most this much.
const BUFFER: usize = 64 * 1024;

/// The error of a write that made no progress for the send hold time.
#[derive(Debug, thiserror::Error)]
#[error("send hold timer expired")]
struct SendHoldExpired;

/// Runs until `Close`, a dropped control channel, or a write error.
pub async fn run(
    sock: OwnedWriteHalf,
    mut control: mpsc::Receiver<Control>,
    events: mpsc::Sender<WriterEvent>,
) {
    let mut w = Writer {
        sock: BufWriter::with_capacity(BUFFER, sock),
        caps: Caps {
            as4: true,
            max_len: wire::MAX_LEN,
            rov_ext_community: false,
            extended_next_hop: false,
        },
        enhanced_route_refresh: false,
        exports: None,
        writable: None,
        send_hold: SEND_HOLD_MIN,
        deferred: None,
        events,
    };
    loop {
        let result = match w.deferred.take() {
            Some(c) => w.control(Some(c)).await,
            None => tokio::select! {
                biased;
                c = control.recv() => w.control(c).await,
                batch = recv(&mut w.exports) => match batch {
                    Some(batch) => {
                        // Room for the next chunk: the RIB may fill it while this one is
                        // written.
                        if let Some(writable) = &w.writable {
                            writable.notify_one();
                        }
                        w.batch(batch, &mut control).await.map(|()| true)
                    }
                    None => {
                        w.exports = None;
                        Ok(true)
                    }
                },
            },
        };
        match result {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                let event = match e.get_ref().is_some_and(|e| e.is::<SendHoldExpired>()) {
                    true => WriterEvent::SendHoldExpired,
                    false => WriterEvent::Failed(e),
                };
                // The session loop may be gone too; then nobody is left to tell.
                let _ = w.events.send(event).await;
                return;
            }
        }
    }
}

async fn recv(rx: &mut Option<mpsc::Receiver<Outgoing>>) -> Option<Outgoing> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

struct Writer {
    sock: BufWriter<OwnedWriteHalf>,
    caps: Caps,
    enhanced_route_refresh: bool,
    exports: Option<mpsc::Receiver<Outgoing>>,
    writable: Option<Arc<Notify>>,
    send_hold: Duration,
    /// A control message taken while writing a batch, handled next.
    deferred: Option<Control>,
    events: mpsc::Sender<WriterEvent>,
}

impl Writer {
    /// Handles one control message; false when the writer is done.
    async fn control(&mut self, c: Option<Control>) -> io::Result<bool> {
        match c {
            None | Some(Control::Close) => {
                // Best effort: the peer may already be gone, or take nothing.
                let hold = self.send_hold;
                let _ = within(hold, self.sock.flush()).await;
                let _ = within(hold, self.sock.shutdown()).await;
                Ok(false)
            }
            Some(Control::Send(msg)) => self.write(&msg).await.map(|()| true),
            Some(Control::Established {
                caps,
                enhanced_route_refresh,
                exports,
                writable,
                send_hold,
            }) => {
                self.caps = caps;
                self.enhanced_route_refresh = enhanced_route_refresh;
                self.exports = Some(exports);
                self.writable = Some(writable);
                self.send_hold = send_hold;
                Ok(true)
            }
        }
    }

    async fn write(&mut self, msg: &[u8]) -> io::Result<()> {
        self.put(msg).await?;
        within(self.send_hold, self.sock.flush()).await
    }

    /// Writes one message into the buffer (and the socket when the buffer is full).
    async fn put(&mut self, msg: &[u8]) -> io::Result<()> {
        if self.sock.buffer().len() + msg.len() < BUFFER {
            // Only copied into the buffer: nothing to time. A table dump at an IXP puts
            // millions of small UPDATEs; a timer armed for each (a clock read) showed in
            // the dump's profile.
            return self.sock.write_all(msg).await;
        }
        within(self.send_hold, self.sock.write_all(msg)).await
    }

    /// Encodes and writes what the RIB handed over; control messages queued meanwhile (a
    /// KEEPALIVE) go out between exports.
    async fn batch(
        &mut self,
        batch: Outgoing,
        control: &mut mpsc::Receiver<Control>,
    ) -> io::Result<()> {
        if let Outgoing::Shared {
            batch,
            peer,
            families,
        } = &batch
        {
            let caps = self.caps;
            let encode = |exports: &[Export]| {
                let mut msgs = Vec::new();
                for export in exports {
                    wire::encode_updates(export, &caps, &mut msgs);
                }
                msgs
            };
            let key = encoding_key(&caps, families);
            if let Some(msgs) = batch.encoded(*peer, families, key, encode) {
                for msg in msgs.iter() {
                    self.put(msg).await?;
                    self.interleave(control).await?;
                }
                return within(self.send_hold, self.sock.flush()).await;
            }
        }
        let mut msgs = Vec::new();
        for export in &batch.into_exports() {
            match export {
                Export::LimitReached(limit) => {
                    // The session loop closes the session; if it is gone, so is the session.
                    let _ = self.events.send(WriterEvent::LimitReached(*limit)).await;
                }
                Export::BeginRefresh(family) if self.enhanced_route_refresh => {
                    msgs.push(wire::route_refresh(*family, 1));
                }
                Export::EndOfRefresh(family) if self.enhanced_route_refresh => {
                    msgs.push(wire::route_refresh(*family, 2));
                }
                export => wire::encode_updates(export, &self.caps, &mut msgs),
            }
            for msg in msgs.drain(..) {
                self.put(&msg).await?;
            }
            self.interleave(control).await?;
        }
        within(self.send_hold, self.sock.flush()).await
    }

    /// Writes the control messages queued meanwhile; keeps any other for later.
    async fn interleave(&mut self, control: &mut mpsc::Receiver<Control>) -> io::Result<()> {
        while self.deferred.is_none() {
            match control.try_recv() {
                Ok(Control::Send(msg)) => self.put(&msg).await?,
                Ok(other) => self.deferred = Some(other),
                Err(_) => break,
            }
        }
        Ok(())
    }
}

/// Which writers can share encoded UPDATEs: the same capabilities and families (with and
/// without RFC 8950, an IPv4 route with an IPv6 next hop is announced or withdrawn).
fn encoding_key(caps: &Caps, families: &[Family]) -> u64 {
    let family_bits = families.iter().fold(0, |bits, f| bits | 1 << (*f as u64));
    u64::from(caps.as4)
        | u64::from(caps.rov_ext_community) << 1
        | family_bits << 2
        | u64::from(caps.extended_next_hop) << 4
        | (caps.max_len as u64) << 8
}

/// Runs a write, failing with [`SendHoldExpired`] when it makes no progress for `hold`.
/// One write moves at most the [`BUFFER`], so a peer that takes nothing of it in that
/// time takes no data at all.
async fn within<F: Future<Output = io::Result<()>>>(hold: Duration, write: F) -> io::Result<()> {
    match tokio::time::timeout(hold, write).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, SendHoldExpired)),
    }
}
