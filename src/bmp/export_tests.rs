//! A station's stream against a station that never reads.

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

use super::*;
use crate::bmp::export_wire::tests::member;
use crate::policy::Tagging;
use crate::rib::{Path, RibView, TableChanges, TABLE_FEED};
use crate::route::{AsPath, AttrSet, NextHop, RovState, Segment};

/// Batch `n` of member 0's routes: 1,000 prefixes, each with its own path.
fn batch(n: u32) -> TableChanges {
    let path = |i: u32| {
        let attrs = AttrSet::new(
            0,
            AsPath(vec![Segment::Sequence(vec![64496, 65000 + i])]),
            NextHop::V4([192, 0, 2, 7].into()),
            None,
            Default::default(),
        );
        Path::new(PeerId(0), 0, Arc::new(attrs), RovState::NotFound)
    };
    let prefix = |i: u32| {
        format!("10.{}.{}.{}/32", n, i / 256, i % 256)
            .parse()
            .unwrap()
    };
    let prefixes = (0..1000).map(|i| (prefix(i), vec![path(i)])).collect();
    TableChanges {
        generation: u64::from(n) + 1,
        prefixes,
    }
}

/// Expected: a station that never reads costs only its own stream: the feed's sends
/// return at once (they cannot wait), the stream queues what the station does not take,
/// and once more than its backlog waits the stream is cut.
#[tokio::test]
async fn a_station_that_never_reads_is_cut() {
    let station = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = station.local_addr().unwrap();
    let (feed, _) = broadcast::channel(TABLE_FEED);
    let (queries, mut asked) = mpsc::channel(1);
    let view = RibView {
        peers: vec![member(None)],
        ..RibView::default()
    };
    let exporter = Exporter {
        local: Local {
            asn: 64500,
            router_id: [192, 0, 2, 254].into(),
            tagging: Tagging::euro_ix(64500),
        },
        feed: feed.clone(),
        queries,
        view: Arc::new(ArcSwap::from_pointee(view)),
    };
    let config = BmpStation {
        address,
        statistics: None,
    };
    let tcp = TcpStream::connect(address).await.unwrap();
    // Accepted and held, never read.
    let _held = station.accept().await.unwrap();
    let mut stream = Stream::new(&exporter, &config, tcp);
    stream.backlog = 1 << 20;
    let (_stop, mut shutdown) = watch::channel(false);
    let rib = async {
        if let Some(RibQuery::Table { reply }) = asked.recv().await {
            let _ = reply.send(TableChanges::default());
        }
        for n in 0..200 {
            // The sends never wait; an error only means the stream was cut already.
            let _ = feed.send(Arc::new(batch(n)));
            tokio::task::yield_now().await;
        }
    };
    let (cut, ()) = tokio::join!(stream.run(&mut shutdown), rib);
    let why = cut.expect_err("cut");
    assert!(why.contains("reads too slowly"), "{why}");
}
