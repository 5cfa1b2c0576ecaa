//! What BMP export reads of the table: every member's paths of each prefix a batch
//! changed, as they are after it, and the whole table on request.
//!
//! Where it sits: `export()` (`export.rs`) hands the dirty prefixes here before the peers
//! get them; when anyone subscribed ([`Rib::table_feed`]), their paths go out as one
//! [`TableChanges`] on a bounded broadcast channel. The send never waits: a subscriber that
//! falls more than [`TABLE_FEED`] messages behind misses some and is told so (`Lagged`),
//! then resyncs from [`RibQuery::Table`](super::RibQuery::Table). BMP-monitored neighbours'
//! paths are left out: they are not route-server state.

use std::sync::Arc;

use ipnet::IpNet;
use tokio::sync::broadcast;

use super::table::{Dirty, Noting};
use super::{Path, Rib};
use crate::route::Family;

/// How many change messages may wait for a slow subscriber before it misses some.
pub const TABLE_FEED: usize = 1024;

/// Members' paths of some prefixes (all of each prefix's, best first), at one generation.
#[derive(Debug, Default)]
pub struct TableChanges {
    /// The table's generation once these were read: a snapshot at this generation or a
    /// later one holds them already.
    pub generation: u64,
    /// The prefixes, each with every member path it has now (none: withdrawn by all).
    pub prefixes: Vec<(IpNet, Vec<Path>)>,
}

/// Where the RIB sends [`TableChanges`]; subscribe to read them.
pub type TableFeed = broadcast::Sender<Arc<TableChanges>>;

impl Rib {
    /// Where every batch's changed prefixes go (subscribe to read them from then on).
    pub fn table_feed(&self) -> TableFeed {
        self.feed.clone()
    }

    /// Sends the paths of the `dirty` prefixes to the subscribers, if there are any.
    pub(super) fn publish_changes(&self, dirty: &[Dirty]) {
        if self.feed.receiver_count() == 0 || dirty.is_empty() {
            return;
        }
        let prefixes = dirty
            .iter()
            .map(|d| (d.prefix, self.members_paths(&d.prefix)));
        let changes = TableChanges {
            generation: self.table.generation(),
            prefixes: prefixes.collect(),
        };
        // Never waits; an error only means the subscribers left meanwhile.
        let _ = self.feed.send(Arc::new(changes));
    }

    /// Tells the table which changes to note: every one while a subscriber follows the
    /// table; none during the update delay (nobody is sent changes, its end sends the
    /// table); else every one while an ADD-PATH peer is up (it reads every path), and
    /// those that may change what a peer is sent otherwise.
    pub(super) fn note_changes(&mut self) {
        let noting = match () {
            () if self.feed.receiver_count() > 0 => Noting::Every,
            () if self.delay.is_some() => Noting::Nothing,
            () if self.peers.any_add_path() => Noting::Every,
            () => Noting::Top,
        };
        self.table.note(noting);
    }

    /// Every prefix with its members' paths (a subscriber's starting point).
    pub(super) fn table_snapshot(&self) -> TableChanges {
        let all = Family::ALL.into_iter().flat_map(|f| self.table.iter(f));
        let prefixes = all.map(|(prefix, _)| (prefix, self.members_paths(&prefix)));
        TableChanges {
            generation: self.table.generation(),
            prefixes: prefixes.filter(|(_, paths)| !paths.is_empty()).collect(),
        }
    }

    fn members_paths(&self, prefix: &IpNet) -> Vec<Path> {
        let paths = self.table.paths(prefix).iter();
        let member = |p: &&Path| !self.peers.info(p.peer).monitored;
        paths.filter(member).cloned().collect()
    }
}
