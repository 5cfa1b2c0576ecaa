//! The history of ROV changes: recent `RovChange` events and per-peer counts over time.
//!
//! Where it sits: a task subscribed to the RIB's `RovChange` broadcast keeps the most recent
//! changes (up to `[report] history_size`), appends each to the optional JSON-lines file
//! `[report] history_file`, samples the RIB's published per-peer counts once a minute, and
//! records the RPKI sources' changes of state and serial (`rpki.rs`) for the page's timeline.
//! HTTP (the history API, the web page) copies what it needs out of [`SharedHistory`]; the
//! lock is held only to push or copy, never across I/O.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;
use tracing::{error, warn};

use crate::config::ReportConfig;
use crate::rib::{RovChange, RovChanges, RovCounts, SharedView};
use crate::rpki::status::unix_seconds;
use crate::rpki::VrpStore;

mod rpki;

pub use rpki::{RpkiHistory, SourceChange, ValidationChange};

/// How often per-peer counts are sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(60);
/// How many samples are kept (a day at one a minute).
const SAMPLES: usize = 1440;

/// Per-peer counts at one moment.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    /// When (Unix seconds).
    #[serde(serialize_with = "unix_seconds")]
    pub time: Option<SystemTime>,
    /// Each peer's name and counts, in config order.
    pub peers: Vec<(String, RovCounts)>,
}

/// Recent changes and samples.
#[derive(Debug, Default)]
pub struct History {
    size: usize,
    changes: VecDeque<RovChange>,
    samples: VecDeque<Sample>,
    rpki: RpkiHistory,
    /// Changes lost because this task fell behind the RIB.
    missed: u64,
}

impl History {
    /// An empty history keeping at most `size` changes.
    pub fn new(size: usize) -> Self {
        History {
            size,
            ..Default::default()
        }
    }

    fn push(&mut self, change: RovChange) {
        if self.changes.len() == self.size {
            self.changes.pop_front();
        }
        self.changes.push_back(change);
    }

    fn sample(&mut self, sample: Sample) {
        if self.samples.len() == SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    /// The most recent changes, newest first, at most `limit`, of one peer (by its RIB id) or all.
    pub fn recent(&self, peer: Option<u32>, limit: usize) -> Vec<RovChange> {
        let of_peer = |c: &&RovChange| peer.is_none_or(|p| c.peer.0 == p);
        self.changes
            .iter()
            .rev()
            .filter(of_peer)
            .take(limit)
            .cloned()
            .collect()
    }

    /// Every sample, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        self.samples.iter().cloned().collect()
    }

    /// The RPKI sources' and validation's recorded changes, oldest first.
    pub fn rpki(&self) -> RpkiHistory {
        self.rpki.clone()
    }

    /// Changes the history missed because it fell behind.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

/// The history as the HTTP task reads it.
pub type SharedHistory = Arc<Mutex<History>>;

fn lock(history: &SharedHistory) -> std::sync::MutexGuard<'_, History> {
    // A panic while holding the lock cannot leave a VecDeque half-pushed; keep going.
    history.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads the history (for HTTP): runs `f` on it under the lock.
pub fn read<T>(history: &SharedHistory, f: impl FnOnce(&History) -> T) -> T {
    f(&lock(history))
}

/// Starts the history task.
pub fn spawn(
    changes: broadcast::Receiver<RovChanges>,
    view: SharedView,
    store: VrpStore,
    config: &ReportConfig,
    shutdown: watch::Receiver<bool>,
) -> SharedHistory {
    let history = Arc::new(Mutex::new(History::new(config.history_size)));
    let file = config.history_file.as_ref().and_then(|path| {
        let opened = File::options().create(true).append(true).open(path);
        opened
            .map_err(|e| error!(file = %path.display(), error = %e, "cannot open the ROV history file: keeping the history in memory only"))
            .ok()
            .map(BufWriter::new)
    });
    let readers = Readers { view, store };
    tokio::spawn(run(changes, readers, history.clone(), file, shutdown));
    history
}

/// What the history task samples.
struct Readers {
    view: SharedView,
    store: VrpStore,
}

async fn run(
    mut changes: broadcast::Receiver<RovChanges>,
    readers: Readers,
    history: SharedHistory,
    mut file: Option<BufWriter<File>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    let mut rpki_tick = tokio::time::interval(rpki::RPKI_EVERY);
    // The number of the next change expected: subscribed before the RIB's first change.
    let mut next = 0;
    loop {
        tokio::select! {
            batch = changes.recv() => match batch {
                Ok(batch) => {
                    record(&mut file, &history, &mut next, &batch);
                    while let Ok(batch) = changes.try_recv() {
                        record(&mut file, &history, &mut next, &batch);
                    }
                    flush(&mut file);
                }
                // The next batch's number tells how many changes were missed.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
            _ = tick.tick() => {
                let rib = readers.view.load();
                let peers = rib.peers.iter().map(|p| (p.name.clone(), p.counts)).collect();
                lock(&history).sample(Sample { time: Some(SystemTime::now()), peers });
            }
            _ = rpki_tick.tick() => {
                let status = readers.store.status();
                lock(&history).rpki.observe(&status, SystemTime::now());
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// Records a batch of changes, and how many were missed before it (`next`: the number of
/// the change expected next).
fn record(
    file: &mut Option<BufWriter<File>>,
    history: &SharedHistory,
    next: &mut u64,
    batch: &RovChanges,
) {
    for change in batch.changes.iter() {
        append(file, change);
    }
    let mut history = lock(history);
    if batch.first > *next {
        let missed = batch.first - *next;
        warn!(
            missed,
            "the ROV history fell behind the RIB and missed changes"
        );
        history.missed += missed;
    }
    *next = batch.first + batch.changes.len() as u64;
    for change in batch.changes.iter() {
        history.push(change.clone());
    }
}

fn append(file: &mut Option<BufWriter<File>>, change: &RovChange) {
    let Some(out) = file else { return };
    let written = serde_json::to_writer(&mut *out, change)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"));
    if let Err(e) = written {
        error!(error = %e, "cannot write the ROV history file: keeping the history in memory only");
        *file = None;
    }
}

fn flush(file: &mut Option<BufWriter<File>>) {
    if let Some(Err(e)) = file.as_mut().map(|f| f.flush()) {
        error!(error = %e, "cannot write the ROV history file: keeping the history in memory only");
        *file = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::{PeerId, RovState};

    fn change(peer: u32, n: u8) -> RovChange {
        RovChange {
            time: None,
            peer: PeerId(peer),
            prefix: format!("192.0.2.{n}/32").parse().unwrap(),
            origin: None,
            before: RovState::Valid,
            after: RovState::Invalid,
            vrps: vec![],
        }
    }

    #[test]
    fn keeps_the_newest_changes_up_to_its_size() {
        let mut h = History::new(3);
        (0..5).for_each(|n| h.push(change(n % 2, n as u8)));
        let prefixes =
            |v: Vec<RovChange>| v.iter().map(|c| c.prefix.to_string()).collect::<Vec<_>>();
        assert_eq!(
            prefixes(h.recent(None, 10)),
            ["192.0.2.4/32", "192.0.2.3/32", "192.0.2.2/32"]
        );
        assert_eq!(prefixes(h.recent(Some(1), 10)), ["192.0.2.3/32"]);
        assert_eq!(prefixes(h.recent(None, 1)), ["192.0.2.4/32"]);
    }

    /// The clock is paused: the polls below wait on tokio's time, which moves on only when
    /// the history task has nothing left to do.
    /// Two changes are missed between the batches (numbered 0, then 3): counted.
    #[tokio::test(start_paused = true)]
    async fn changes_are_kept_and_appended_to_the_file() {
        let dir = std::env::temp_dir().join(format!("rovgate-history-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("changes.jsonl");
        let config = ReportConfig {
            history_size: 10,
            history_file: Some(path.clone()),
        };
        let (tx, rx) = broadcast::channel(16);
        let (_stop, shutdown) = watch::channel(false);
        let (view, store) = (SharedView::default(), VrpStore::new());
        let history = spawn(rx, view, store, &config, shutdown);
        let batch = |first, n| RovChanges {
            first,
            changes: Arc::from([change(0, n)]),
        };
        tx.send(batch(0, 1)).unwrap();
        tx.send(batch(3, 2)).unwrap();
        drop(tx);
        for _ in 0..100 {
            if read(&history, |h| h.recent(None, 10).len()) == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(read(&history, |h| h.recent(None, 10).len()), 2);
        assert_eq!(read(&history, |h| h.missed()), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["prefix"], "192.0.2.2/32");
        assert_eq!(lines[1]["after"], "invalid");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
