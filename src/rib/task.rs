//! The RIB task's loop: takes events in batches, VRP changes, queries between batches and
//! timers, and flushes exports after each.

use tokio::sync::watch;
use tokio::time::Instant;

use super::{Rib, RibInputs};

/// How many events the RIB takes before it flushes exports.
const BATCH: usize = 256;
/// The RIB's inbound queue.
pub const RIB_QUEUE: usize = 1024;

/// Runs the RIB task until shutdown or until every session sender is gone.
pub async fn run(mut rib: Rib, inputs: RibInputs, mut shutdown: watch::Receiver<bool>) {
    let RibInputs {
        mut events,
        mut queries,
        mut vrps_changed,
    } = inputs;
    let writable = rib.writable();
    loop {
        let deadline = rib.next_deadline();
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { return };
                rib.handle(event);
                for _ in 1..BATCH {
                    match events.try_recv() {
                        Ok(event) => rib.handle(event),
                        Err(_) => break,
                    }
                }
            }
            Some(changed) = vrps_changed.recv() => {
                rib.vrps_changed(changed);
                while let Ok(changed) = vrps_changed.try_recv() {
                    rib.vrps_changed(changed);
                }
            }
            () = std::future::ready(()), if rib.reevaluating() => rib.reevaluate_step(),
            // A writer took a chunk: the flush below hands out the next ones.
            () = writable.notified() => {}
            Some(query) = queries.recv() => {
                rib.answer(query, !events.is_empty());
                continue;
            }
            _ = sleep_until(deadline) => rib.tick(Instant::now()),
            _ = shutdown.changed() => return,
        }
        rib.flush();
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
