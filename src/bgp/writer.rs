//! A session's writer task: owns the socket's write half, sends the session's control
//! messages (OPEN, KEEPALIVE, NOTIFICATION) ahead of routes, and encodes the RIB's exports
//! into UPDATEs.
//!
//! Where it sits: between the RIB (exports, once the session is Established) and the peer.
//! Keeping writes here means a slow peer never stalls the session's reading and timers.

use bytes::Bytes;
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;

use super::wire::{self, Caps};
use crate::route::Export;

/// What the session loop tells its writer.
#[derive(Debug)]
pub enum Control {
    /// Write this message now (ahead of queued routes).
    Send(Bytes),
    /// The session is Established: encode exports with these capabilities.
    Established {
        caps: Caps,
        enhanced_route_refresh: bool,
        exports: mpsc::Receiver<Vec<Export>>,
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
    Failed(std::io::Error),
}

/// Runs until `Close`, a dropped control channel, or a write error.
pub async fn run(
    sock: OwnedWriteHalf,
    mut control: mpsc::Receiver<Control>,
    events: mpsc::Sender<WriterEvent>,
) {
    let mut w = Writer {
        sock: BufWriter::with_capacity(64 * 1024, sock),
        caps: Caps {
            as4: true,
            max_len: wire::MAX_LEN,
            rov_ext_community: false,
        },
        enhanced_route_refresh: false,
        exports: None,
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
                    Some(batch) => w.batch(batch, &mut control).await.map(|()| true),
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
                // The session loop may be gone too; then nobody is left to tell.
                let _ = w.events.send(WriterEvent::Failed(e)).await;
                return;
            }
        }
    }
}

async fn recv(rx: &mut Option<mpsc::Receiver<Vec<Export>>>) -> Option<Vec<Export>> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

struct Writer {
    sock: BufWriter<OwnedWriteHalf>,
    caps: Caps,
    enhanced_route_refresh: bool,
    exports: Option<mpsc::Receiver<Vec<Export>>>,
    /// A control message taken while writing a batch, handled next.
    deferred: Option<Control>,
    events: mpsc::Sender<WriterEvent>,
}

impl Writer {
    /// Handles one control message; false when the writer is done.
    async fn control(&mut self, c: Option<Control>) -> std::io::Result<bool> {
        match c {
            None | Some(Control::Close) => {
                // Best effort: the peer may already be gone.
                let _ = self.sock.flush().await;
                let _ = self.sock.shutdown().await;
                Ok(false)
            }
            Some(Control::Send(msg)) => self.write(&msg).await.map(|()| true),
            Some(Control::Established {
                caps,
                enhanced_route_refresh,
                exports,
            }) => {
                self.caps = caps;
                self.enhanced_route_refresh = enhanced_route_refresh;
                self.exports = Some(exports);
                Ok(true)
            }
        }
    }

    async fn write(&mut self, msg: &[u8]) -> std::io::Result<()> {
        self.sock.write_all(msg).await?;
        self.sock.flush().await
    }

    /// Encodes and writes one batch; control messages queued meanwhile (a KEEPALIVE) go out
    /// between exports.
    async fn batch(
        &mut self,
        batch: Vec<Export>,
        control: &mut mpsc::Receiver<Control>,
    ) -> std::io::Result<()> {
        let mut msgs = Vec::new();
        for export in &batch {
            match export {
                Export::LimitReached(limit) => {
                    // The session loop closes the session; if it is gone, so is the session.
                    let _ = self.events.send(WriterEvent::LimitReached(*limit)).await;
                }
                Export::EndOfRefresh(family) if self.enhanced_route_refresh => {
                    msgs.push(wire::route_refresh(*family, 2));
                }
                export => wire::encode_updates(export, &self.caps, &mut msgs),
            }
            for msg in msgs.drain(..) {
                self.sock.write_all(&msg).await?;
            }
            while self.deferred.is_none() {
                match control.try_recv() {
                    Ok(Control::Send(msg)) => self.sock.write_all(&msg).await?,
                    Ok(other) => self.deferred = Some(other),
                    Err(_) => break,
                }
            }
        }
        self.sock.flush().await
    }
}
