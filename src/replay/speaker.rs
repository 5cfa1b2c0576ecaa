//! The BGP side both replay speakers share: TCP set up from a chosen local address, the
//! OPEN exchange up to Established, keepalives, and reading frames with a hold timer.
//!
//! Where it sits: under `replay::feeder` and `replay::sink`. It is a minimal speaker for a
//! test tool (connect, open, keep alive, close), not rovgate's session FSM: the device
//! under test is the one being measured. Messages come from `bgp::open` and `bgp::wire`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::time::{timeout_at, Instant};
use tokio_util::codec::FramedRead;
use tracing::{debug, info};

use super::ReplayError;
use crate::bgp::open::{decode_open, encode_open, negotiate, LocalSpeaker, Negotiated};
use crate::bgp::wire::{self, Caps, Frame, FrameError, Framer, MessageType};
use crate::bgp::{Notification, Reason};

/// Read buffer per session: large, so a full table arrives in few reads.
const READ_BUFFER: usize = 256 * 1024;
/// Pause between attempts while a peer refuses or resets the connection.
const RETRY: Duration = Duration::from_secs(1);

/// A replay speaker's Established session with the target (or with the feeder, for the
/// sink): its halves and what was agreed.
pub(crate) struct ReplaySession {
    /// Who this is, for messages: "feeder 127.0.0.2", "sink 127.0.0.3".
    pub who: String,
    /// Frames from the peer.
    pub reader: FramedRead<OwnedReadHalf, Framer>,
    /// The write half.
    pub writer: OwnedWriteHalf,
    /// What was agreed.
    pub negotiated: Negotiated,
    /// What the codec needs of it.
    pub caps: Caps,
}

/// Where a speaker's TCP connection comes from.
pub(crate) enum Endpoint<'a> {
    /// Connect from `local` (port chosen by the system) to `target`; `small_window`: with
    /// the smallest receive buffer the system allows, so that the TCP window shuts soon
    /// when the speaker stops reading.
    Connect {
        local: IpAddr,
        target: SocketAddr,
        small_window: bool,
    },
    /// Accept the next connection on this listener.
    Listen(&'a TcpListener),
}

/// Sets up a session, retrying every second while the peer refuses, resets or closes the
/// connection or answers with a Cease (as BIRD does for a few seconds after a session
/// closed), until `deadline`. Other NOTIFICATIONs fail at once.
pub(crate) async fn establish(
    endpoint: &Endpoint<'_>,
    local: &LocalSpeaker,
    who: &str,
    deadline: Instant,
) -> Result<ReplaySession, ReplayError> {
    loop {
        let attempt = async {
            let stream = match endpoint {
                Endpoint::Connect {
                    local,
                    target,
                    small_window,
                } => connect(*local, *target, *small_window, who).await?,
                Endpoint::Listen(listener) => accept(listener, who).await?,
            };
            handshake(stream, local, who).await
        };
        let error = match timeout_at(deadline, attempt).await {
            Ok(Ok(session)) => return Ok(session),
            Ok(Err(e)) if retryable(&e) && Instant::now() + RETRY < deadline => e,
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(ReplayError::Timeout {
                    what: format!("{who}: session setup"),
                })
            }
        };
        debug!(%error, "session setup failed; retrying");
        tokio::time::sleep(RETRY).await;
    }
}

fn retryable(e: &ReplayError) -> bool {
    match e {
        ReplayError::Connect { .. } | ReplayError::Io { .. } | ReplayError::Closed { .. } => true,
        ReplayError::Notification { notification, .. } => notification.is_cease(),
        _ => false,
    }
}

async fn connect(
    local: IpAddr,
    target: SocketAddr,
    small_window: bool,
    who: &str,
) -> Result<TcpStream, ReplayError> {
    let fail = |error| ReplayError::Connect {
        who: who.to_string(),
        target: target.to_string(),
        error,
    };
    let socket = match local {
        IpAddr::V4(_) => TcpSocket::new_v4(),
        IpAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(fail)?;
    socket.bind(SocketAddr::new(local, 0)).map_err(fail)?;
    if small_window {
        // The system raises it to its minimum (a few KB on Linux).
        socket.set_recv_buffer_size(1).map_err(fail)?;
    }
    socket.connect(target).await.map_err(fail)
}

async fn accept(listener: &TcpListener, who: &str) -> Result<TcpStream, ReplayError> {
    let (stream, from) = listener
        .accept()
        .await
        .map_err(|error| ReplayError::Connect {
            who: who.to_string(),
            target: listener
                .local_addr()
                .map_or_else(|_| "listener".into(), |a| a.to_string()),
            error,
        })?;
    debug!(%from, who, "connection accepted");
    Ok(stream)
}

/// OPEN, the peer's OPEN, KEEPALIVE both ways: Established (RFC 4271 §8.2.2, minimal).
async fn handshake(
    stream: TcpStream,
    local: &LocalSpeaker,
    who: &str,
) -> Result<ReplaySession, ReplayError> {
    let io = |error| ReplayError::Io {
        who: who.to_string(),
        error,
    };
    stream.set_nodelay(true).map_err(io)?;
    let (read, mut writer) = stream.into_split();
    let mut reader = FramedRead::with_capacity(read, Framer::new(), READ_BUFFER);
    writer.write_all(&encode_open(local)).await.map_err(io)?;
    let frame = next_frame(&mut reader, who).await?;
    let negotiated = match agree(&frame, local) {
        Ok(n) => n,
        Err(n) => return Err(refuse(&mut writer, n, who).await),
    };
    let max_len = if negotiated.extended_message {
        wire::MAX_LEN_EXTENDED
    } else {
        wire::MAX_LEN
    };
    reader.decoder_mut().set_max_len(max_len);
    writer.write_all(&wire::keepalive()).await.map_err(io)?;
    let frame = next_frame(&mut reader, who).await?;
    if frame.kind != MessageType::Keepalive {
        // RFC 6608: unexpected message in OpenConfirm.
        let n = Notification::from(Reason::UnexpectedInOpenConfirm);
        return Err(refuse(&mut writer, n, who).await);
    }
    info!(who, peer_as = negotiated.peer_asn.0, families = ?negotiated.families, "session established");
    let caps = Caps {
        as4: negotiated.as4,
        max_len,
        rov_ext_community: false,
        extended_next_hop: false,
    };
    Ok(ReplaySession {
        who: who.to_string(),
        reader,
        writer,
        negotiated,
        caps,
    })
}

/// The peer's OPEN checked against ours; anything else first is NOTIFICATION 5/1
/// (RFC 6608: unexpected message in OpenSent).
fn agree(frame: &Frame, local: &LocalSpeaker) -> Result<Negotiated, Notification> {
    if frame.kind != MessageType::Open {
        return Err(Reason::UnexpectedInOpenSent.into());
    }
    let open = decode_open(&frame.bytes)?;
    negotiate(local, open.asn, &open)
}

/// Sends the NOTIFICATION (the peer may be gone: best effort) and names the error.
async fn refuse(writer: &mut OwnedWriteHalf, n: Notification, who: &str) -> ReplayError {
    let _ = writer.write_all(&wire::notification(&n)).await;
    ReplayError::Refused {
        who: who.to_string(),
        notification: n,
    }
}

/// The next frame; a NOTIFICATION, a closed connection or a framing error is an error.
pub(crate) async fn next_frame(
    reader: &mut FramedRead<OwnedReadHalf, Framer>,
    who: &str,
) -> Result<Frame, ReplayError> {
    match reader.next().await {
        None => Err(ReplayError::Closed {
            who: who.to_string(),
        }),
        Some(Err(FrameError::Io(error))) => Err(ReplayError::Io {
            who: who.to_string(),
            error,
        }),
        Some(Err(FrameError::Notification(n))) => Err(ReplayError::Refused {
            who: who.to_string(),
            notification: n,
        }),
        Some(Ok(f)) if f.kind == MessageType::Notification => Err(ReplayError::Notification {
            who: who.to_string(),
            notification: wire::decode_notification(&f.bytes),
        }),
        Some(Ok(f)) => Ok(f),
    }
}

/// `next_frame` within the hold time (none when it is 0).
pub(crate) async fn next_frame_held(
    reader: &mut FramedRead<OwnedReadHalf, Framer>,
    who: &str,
    hold_time: u16,
) -> Result<Frame, ReplayError> {
    if hold_time == 0 {
        return next_frame(reader, who).await;
    }
    let deadline = Instant::now() + Duration::from_secs(u64::from(hold_time));
    timeout_at(deadline, next_frame(reader, who))
        .await
        .unwrap_or_else(|_| {
            Err(ReplayError::HoldTimerExpired {
                who: who.to_string(),
            })
        })
}

/// Sends KEEPALIVEs at the negotiated interval until `stop`, then Cease / Administrative
/// Shutdown (RFC 4486) and closes.
pub(crate) async fn keep_alive(
    mut writer: OwnedWriteHalf,
    every: u16,
    mut stop: watch::Receiver<bool>,
    who: &str,
) -> Result<(), ReplayError> {
    let period = Duration::from_secs(u64::from(every.max(1)));
    let mut tick = tokio::time::interval_at(Instant::now() + period, period);
    loop {
        tokio::select! {
            _ = tick.tick(), if every > 0 => {
                writer.write_all(&wire::keepalive()).await.map_err(|error| ReplayError::Io {
                    who: who.to_string(),
                    error,
                })?;
            }
            () = stopped(&mut stop) => break,
        }
    }
    let cease = wire::notification(&Reason::AdministrativeShutdown.into());
    // The peer may be gone already; the session ends either way.
    let _ = writer.write_all(&cease).await;
    let _ = writer.shutdown().await;
    Ok(())
}

/// Resolves once `stop` holds true (or its sender is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
