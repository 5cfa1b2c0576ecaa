//! The RTR client against caches that send corrupt PDUs (a fake: no real cache sends them),
//! beside a real stayrtr whose data must stay in use.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::rtr::{set, spawn, stayrtr_present, vrps, SYNC};
use crate::support::{vrp, wait_for, Stayrtr};
use rovgate::rpki::status::SourceState;

/// Four fake caches, preferred over a real one, send corrupt PDUs (an unknown PDU type,
/// a max length shorter than its prefix, an impossible length, random bytes): nothing
/// panics, each fake is reported down with an error, the client answers the bad max
/// length with an Error Report, and the real cache's data stays in use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_cache_input_is_an_error_not_a_panic() {
    if !stayrtr_present() {
        return;
    }
    let panicked = record_panics();
    let served = vec![vrp("192.0.2.0/24", 24, 64496)];
    let real = Stayrtr::start(&served);
    let mut fakes = Vec::new();
    for garbage in Garbage::ALL {
        fakes.push(GarbageRtrServer::start(garbage).await);
    }
    let mut caches: Vec<(String, u32)> = fakes.iter().map(|f| (f.address.clone(), 1)).collect();
    caches.push((real.address(), 2));
    let (store, _shutdown) = spawn(&caches);
    let real_index = fakes.len();

    let fakes_down = || {
        let status = store.status();
        status.sources[..real_index]
            .iter()
            .all(|s| s.state == SourceState::Down && s.error.is_some())
    };
    wait_for("every fake cache reported down", SYNC, fakes_down).await;
    let in_use = || store.status().sources[real_index].in_use;
    wait_for("the real cache's data in use", SYNC, || {
        vrps(&store) == set(&served) && in_use()
    })
    .await;
    for (fake, status) in fakes.iter().zip(&store.status().sources) {
        eprintln!("{:?}: {:?}", fake.garbage, status.error);
    }
    let bad_max = fakes
        .iter()
        .find(|f| f.garbage == Garbage::BadMaxLength)
        .unwrap();
    let report = || bad_max.received().get(8..10) == Some(&[1, 10][..]);
    wait_for(
        "an Error Report (type 10) after the bad max length",
        SYNC,
        report,
    )
    .await;
    assert!(!panicked.load(Ordering::SeqCst), "a task panicked");
}

/// Records any panic in any thread (tokio swallows panics of spawned tasks).
fn record_panics() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let seen = flag.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.store(true, Ordering::SeqCst);
        previous(info);
    }));
    flag
}

/// The kinds of corrupt input a [`GarbageRtrServer`] sends after the client's query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Garbage {
    /// Cache Response, then a PDU of type 42.
    UnknownPduType,
    /// Cache Response, then an IPv4 prefix 192.0.2.0/24 with max length 8.
    BadMaxLength,
    /// Cache Response, then an IPv4 prefix header claiming 4 GiB.
    BadLength,
    /// 64 pseudo-random bytes.
    Noise,
}

impl Garbage {
    const ALL: [Garbage; 4] = [
        Garbage::UnknownPduType,
        Garbage::BadMaxLength,
        Garbage::BadLength,
        Garbage::Noise,
    ];

    fn bytes(self) -> Vec<u8> {
        // Cache Response (type 3), version 1, session 7, length 8.
        let mut out = vec![1, 3, 0, 7, 0, 0, 0, 8];
        match self {
            Garbage::UnknownPduType => out.extend([1, 42, 0, 0, 0, 0, 0, 8]),
            Garbage::BadMaxLength => {
                out.extend([1, 4, 0, 0, 0, 0, 0, 20, 1, 24, 8, 0, 192, 0, 2, 0]);
                out.extend(64496u32.to_be_bytes());
            }
            Garbage::BadLength => out.extend([1, 4, 0, 0, 0xff, 0xff, 0xff, 0xff]),
            Garbage::Noise => {
                let mut x: u32 = 0x9e37_79b9;
                out = (0..64)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        x as u8
                    })
                    .collect();
            }
        }
        out
    }
}

/// A fake RTR cache standing in for what no real cache does: it answers every query with
/// corrupt PDUs, then keeps the connection open and records what the client sends.
struct GarbageRtrServer {
    address: String,
    garbage: Garbage,
    received: Arc<Mutex<Vec<u8>>>,
}

impl GarbageRtrServer {
    async fn start(garbage: Garbage) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let mut answered = false;
                    while let Ok(n @ 1..) = sock.read(&mut buf).await {
                        log.lock().unwrap().extend_from_slice(&buf[..n]);
                        if !answered && sock.write_all(&garbage.bytes()).await.is_err() {
                            return;
                        }
                        answered = true;
                    }
                });
            }
        });
        GarbageRtrServer {
            address,
            garbage,
            received,
        }
    }

    /// Everything the client sent so far (its query first).
    fn received(&self) -> Vec<u8> {
        self.received.lock().unwrap().clone()
    }
}
