//! The BGP wire codec on real data: decoding every UPDATE of the 2019 RouteViews update
//! stream with rovgate's decoder and with netgauze's, and packing a full IPv4 table into
//! UPDATEs.
//!
//! `cargo bench --bench codec`

use std::fs::File;
use std::hint::black_box;
use std::io::BufReader;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ipnet::{IpNet, Ipv4Net};
use netgauze_bgp_pkt::codec::BgpCodec;
use tokio_util::codec::Decoder;

use rovgate::bgp::wire::{self, Bgp4mpMessages, Caps, Framer, MessageType};
use rovgate::route::{AsPath, AttrSet, Export, NextHop, Segment};

/// The allocator the `rovgate` binary uses, so the numbers are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const UPDATES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/mrt/updates.20190101.0000.gz"
);
/// Prefixes and attribute sets of a 2024 full IPv4 table (see the data README).
const V4_ROUTES: u32 = 998_042;
const ATTR_SETS: u32 = 80_000;

const CAPS: Caps = Caps {
    as4: true,
    max_len: wire::MAX_LEN,
    rov_ext_community: false,
    extended_next_hop: false,
};

/// Every UPDATE of the stream (all MESSAGE_AS4: 4-octet sessions).
fn updates() -> Vec<Bytes> {
    let file = File::open(UPDATES).expect("the shared 2019 update file");
    let gz = BufReader::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)));
    Bgp4mpMessages::new(gz)
        .map_while(Result::ok)
        .filter(|m| m.as4 && m.bytes.get(18) == Some(&MessageType::Update.code()))
        .map(|m| m.bytes)
        .collect()
}

fn decode(c: &mut Criterion) {
    let msgs = updates();
    let stream: BytesMut = msgs.iter().flat_map(|m| m.iter().copied()).collect();
    let caps = Caps {
        as4: true,
        max_len: wire::MAX_LEN_EXTENDED,
        rov_ext_community: false,
        extended_next_hop: false,
    };
    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.sample_size(20);
    g.bench_function("decode_update_real", |b| {
        b.iter(|| {
            for m in &msgs {
                let _ = black_box(wire::decode_update(m, &caps));
            }
        })
    });
    g.bench_function("frame_and_decode_real", |b| {
        b.iter_batched(
            || stream.clone(),
            |mut buf| {
                let mut framer = Framer::new();
                framer.set_max_len(wire::MAX_LEN_EXTENDED);
                while let Ok(Some(f)) = framer.decode(&mut buf) {
                    let _ = black_box(wire::decode_update(&f.bytes, &caps));
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("decode_update_netgauze", |b| {
        b.iter_batched(
            || stream.clone(),
            |mut buf| {
                let mut codec = BgpCodec::new(true);
                while !buf.is_empty() {
                    match codec.decode(&mut buf) {
                        Ok(Some(m)) => drop(black_box(m)),
                        Ok(None) => break,
                        Err(e) => drop(black_box(e)),
                    }
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// A full IPv4 table as exports: `ATTR_SETS` attribute sets (real-looking paths and
/// communities), each announcing its share of `V4_ROUTES` /24s.
fn full_table() -> Vec<Export> {
    let per_set = V4_ROUTES.div_ceil(ATTR_SETS);
    (0..ATTR_SETS)
        .map(|s| {
            let path = AsPath(vec![Segment::Sequence(vec![
                64496,
                3356,
                1299,
                200_000 + s,
            ])]);
            let communities = [&[0xc0, 8, 8][..], &[0xfb, 0xf0, 0, 1], &s.to_be_bytes()].concat();
            let nh = NextHop::V4(Ipv4Addr::new(192, 0, 2, 1));
            let attrs = AttrSet::new(0, path, nh, Some(s % 7), Bytes::from(communities));
            let first = s * per_set;
            let prefixes = (first..(first + per_set).min(V4_ROUTES))
                .map(|i| {
                    let a = Ipv4Addr::from((i + (1 << 16)) << 8);
                    IpNet::V4(Ipv4Net::new(a, 24).expect("a /24"))
                })
                .collect();
            Export::Announce(Arc::new(attrs), prefixes)
        })
        .collect()
}

fn encode_all(exports: &[Export], caps: &Caps) -> usize {
    let mut out = Vec::with_capacity(exports.len() * 2);
    for e in exports {
        wire::encode_updates(e, caps, &mut out);
    }
    out.len()
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("codec");
    g.throughput(Throughput::Elements(u64::from(V4_ROUTES)));
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    // First peer: every attribute set is encoded, then cached.
    g.bench_function("encode_full_table_v4", |b| {
        b.iter_batched(full_table, |t| encode_all(&t, &CAPS), BatchSize::LargeInput)
    });
    // Every further peer: cached attributes, only packing and NEXT_HOP.
    let table = full_table();
    encode_all(&table, &CAPS);
    g.bench_function("encode_full_table_v4_cached", |b| {
        b.iter(|| encode_all(&table, &CAPS))
    });
    g.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
