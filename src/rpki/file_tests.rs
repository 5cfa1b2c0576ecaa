//! Tests for `file.rs`: every format gives the same VRPs; bad input names file and line.

use std::path::Path;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::*;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/vrps/");

fn vrp(prefix: &str, max_length: u8, asn: u32) -> Vrp {
    Vrp::new(prefix.parse().expect("test prefix"), max_length, Asn(asn)).expect("test VRP")
}

/// A fresh file under the system temp dir holding `bytes`.
fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rovgate-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

const RPKI_CLIENT: &str = r#"{
	"metadata": { "buildtime": "2023-05-04T14:52:07Z", "vrps": 3 },
	"roas": [
		{ "asn": 13335, "prefix": "1.0.0.0/24", "maxLength": 24, "ta": "apnic", "expires": 1 },
		{ "asn": "AS9367", "prefix": "2001:200:136::/48", "maxLength": 48, "ta": "apnic", "expires": 2 },
		{ "asn": 0, "prefix": "10.0.0.0/8", "maxLength": 32, "ta": "ripe", "expires": 3 }
	],
	"aspas": [ { "customer_asid": 1, "providers": [2] } ]
}"#;

const JSONEXT: &str = r#"{"metadata":{"generated":1683211927,"generatedTime":"2023-05-04T14:52:07Z"},"roas":[
{"asn":"AS13335","prefix":"1.0.0.0/24","maxLength":24,"source":[{"type":"roa","uri":"rsync://x/a.roa","validity":{"notBefore":"2023-01-01T00:00:00Z","notAfter":"2024-01-01T00:00:00Z"},"chainValidity":{"notBefore":"2023-01-01T00:00:00Z","notAfter":"2024-01-01T00:00:00Z"},"stale":"2024-01-01T00:00:00Z","tal":"apnic"}]},
{"asn":"AS9367","prefix":"2001:200:136::/48","maxLength":48,"source":[{"type":"roa","tal":"apnic"}]},
{"asn":"AS0","prefix":"10.0.0.0/8","maxLength":32,"source":[{"type":"roa","tal":"ripe"}]}
]}"#;

const CSV: &str = "ASN,IP Prefix,Max Length,Trust Anchor
AS13335,1.0.0.0/24,24,apnic
AS9367,2001:200:136::/48,48,apnic

AS0,10.0.0.0/8,32,ripe
";

fn expected() -> Vec<Vrp> {
    vec![
        vrp("1.0.0.0/24", 24, 13335),
        vrp("2001:200:136::/48", 48, 9367),
        vrp("10.0.0.0/8", 32, 0),
    ]
}

#[test]
fn every_format_gives_the_same_vrps() {
    let cases: [(&str, Vec<u8>); 5] = [
        ("rpki-client.json", RPKI_CLIENT.into()),
        ("jsonext.json", JSONEXT.into()),
        ("routinator.csv", CSV.into()),
        ("rpki-client.json.gz", gzip(RPKI_CLIENT.as_bytes())),
        (
            "headerless.csv",
            CSV.lines().skip(1).collect::<Vec<_>>().join("\n").into(),
        ),
    ];
    for (name, bytes) in cases {
        let got = load(&temp_file(name, &bytes)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, expected(), "{name}");
    }
}

/// ASPAs as rpki-client 8.5 and later write them; none from CSV.
#[test]
fn aspas_are_read_from_json() {
    let got = load_payload(&temp_file("aspas.json", RPKI_CLIENT.as_bytes())).expect("loads");
    let aspa = Aspa {
        customer: Asn(1),
        providers: vec![Asn(2)],
    };
    assert_eq!((got.vrps, got.aspas), (expected(), vec![aspa]));
    let routinator =
        r#"{"roas": [], "aspas": [{"customer": "AS64496", "providers": ["AS64497", 64498]}]}"#;
    let got = load_payload(&temp_file("aspas-as.json", routinator.as_bytes())).expect("loads");
    assert_eq!(got.aspas[0].providers, vec![Asn(64497), Asn(64498)]);
    let bad = r#"{"roas": [], "aspas": [{"customer_asid": 1}]}"#;
    let err = load_payload(&temp_file("aspas-bad.json", bad.as_bytes())).unwrap_err();
    assert!(
        err.to_string().contains("missing field `providers`"),
        "{err}"
    );
    let csv = load_payload(&temp_file("aspas.csv", CSV.as_bytes())).expect("loads");
    assert!(csv.aspas.is_empty());
}

#[test]
fn stayrtr_small_file_mixes_asn_styles() {
    let got = load(Path::new(&format!("{DATA}smalltest.rpki.json"))).expect("valid file");
    assert_eq!(
        got,
        vec![
            vrp("1.0.0.0/24", 24, 13335),
            vrp("2001:200:136::/48", 48, 9367)
        ]
    );
}

#[test]
fn bad_input_names_file_and_line() {
    let json = |entry: &str| {
        format!("{{\"roas\": [\n{{\"asn\": 1, \"prefix\": \"1.0.0.0/24\", \"maxLength\": 24}},\n{entry}\n]}}")
    };
    let cases: [(&str, String, &str); 11] = [
        (
            "syntax.json",
            "{\"roas\": [\n{\"asn\": 1,,}\n]}".into(),
            "syntax.json:2: ",
        ),
        (
            "short.json",
            json(r#"{"asn": 1, "prefix": "10.0.0.0/24", "maxLength": 16}"#),
            "short.json:3: max length 16",
        ),
        (
            "long.json",
            json(r#"{"asn": 1, "prefix": "10.0.0.0/24", "maxLength": 33}"#),
            "long.json:3: max length 33",
        ),
        (
            "long6.json",
            json(r#"{"asn": 1, "prefix": "2001:db8::/32", "maxLength": 129}"#),
            "long6.json:3: max length 129",
        ),
        (
            "prefix.json",
            json(r#"{"asn": 1, "prefix": "10.0.0.300/24", "maxLength": 24}"#),
            "prefix.json:3: bad prefix \"10.0.0.300/24\"",
        ),
        (
            "asn.json",
            json(r#"{"asn": "ASX", "prefix": "10.0.0.0/24", "maxLength": 24}"#),
            "asn.json:3: invalid value: string \"ASX\", expected an AS number",
        ),
        (
            "asn-big.json",
            json(r#"{"asn": 4294967296, "prefix": "10.0.0.0/24", "maxLength": 24}"#),
            "asn-big.json:3: invalid value",
        ),
        (
            "missing.json",
            json(r#"{"asn": 1, "prefix": "10.0.0.0/24"}"#),
            "missing.json:3: missing field `maxLength`",
        ),
        (
            "csv-len.csv",
            "ASN,IP Prefix,Max Length\nAS1,10.0.0.0/24,24\nAS1,10.0.0.0/24,23\n".into(),
            "csv-len.csv:3: max length 23",
        ),
        (
            "csv-asn.csv",
            "AS1,10.0.0.0/24,24\nASX,10.0.0.0/24,24\n".into(),
            "csv-asn.csv:2: bad AS number \"ASX\"",
        ),
        (
            "csv-fields.csv",
            "ASN,IP Prefix,Max Length\n\nAS1,10.0.0.0/24\n".into(),
            "csv-fields.csv:3: expected ASN,IP Prefix,Max Length",
        ),
    ];
    for (name, text, want) in cases {
        let error = load(&temp_file(name, text.as_bytes()))
            .expect_err(name)
            .to_string();
        assert!(error.contains(want), "{name}: got {error:?}, want {want:?}");
        assert!(
            error.contains("rovgate-file-"),
            "{name}: {error:?} names the file's path"
        );
    }
}

#[test]
fn empty_and_missing_files_are_errors() {
    let empty = load(&temp_file("empty.json", b" \n")).expect_err("empty file");
    assert!(matches!(empty, FileError::Line { line: 1, .. }), "{empty}");
    let missing = load(Path::new("/nonexistent/vrps.json")).expect_err("missing file");
    assert!(matches!(missing, FileError::Read { .. }), "{missing}");
    assert!(
        missing.to_string().starts_with("/nonexistent/vrps.json: "),
        "{missing}"
    );
}

#[test]
fn sample_file_in_configs_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/sample-vrps.json");
    let vrps = load(Path::new(path)).expect("configs/sample-vrps.json is valid");
    assert_eq!(vrps.len(), 300);
    assert!(vrps.iter().any(|v| v.prefix.addr().is_ipv6()));
}

#[test]
fn real_rpki_client_file_has_every_vrp() {
    let path = format!("{DATA}rpki-client-2023-05-04-ripe-prepdev.json.gz");
    let Payload { vrps, aspas } = load_payload(Path::new(&path)).expect("real file loads");
    assert_eq!(vrps.len(), 424_223);
    // rpki-client 8.4 lists each ASPA per family; the table unites them.
    assert_eq!(aspas.len(), 2 * 6_647);
    let table = crate::rpki::AspaTable::new(aspas);
    assert_eq!(table.len(), 6_647);
    let providers = [41881, 57485, 60637, 61036, 204096, 210051].map(Asn);
    assert_eq!(table.providers(Asn(28)), Some(&providers[..]));
    let v6 = vrps.iter().filter(|v| v.prefix.addr().is_ipv6()).count();
    assert_eq!(v6, 100_620);
    assert_eq!(vrps[0], vrp("1.178.112.0/20", 20, 12975));
}

/// Replaces `path`'s content atomically, so a watcher never sees a half-written file.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write temp file");
    std::fs::rename(&tmp, path).expect("rename temp file");
}

async fn next(rx: &mut mpsc::Receiver<SourceEvent>) -> SourceEvent {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
        .expect("the watcher is running")
}

/// Start: loaded. A broken write: failed, once. A fixed write: loaded again. Shutdown: done.
/// The clock is paused: the 10 ms polls run on tokio's time, which moves on only while the
/// watcher waits (not while it reads the file), so a busy machine changes nothing.
#[tokio::test(start_paused = true)]
async fn watch_reloads_on_change_and_stops_on_shutdown() {
    let path = temp_file("watched.csv", b"AS1,10.0.0.0/24,24\n");
    let (tx, mut rx) = mpsc::channel(8);
    let (stop, shutdown) = watch::channel(false);
    let task = tokio::spawn(super::watch(
        3,
        path.clone(),
        Duration::from_millis(10),
        tx,
        shutdown,
    ));
    let SourceEvent::FileLoaded { file: 3, vrps, .. } = next(&mut rx).await else {
        panic!("first event is FileLoaded for file 3");
    };
    assert_eq!(vrps, vec![vrp("10.0.0.0/24", 24, 1)]);

    replace(&path, "AS1,10.0.0.0/24,8\n");
    let SourceEvent::FileFailed { file: 3, error } = next(&mut rx).await else {
        panic!("a broken file gives FileFailed");
    };
    assert!(error.contains("watched.csv:1: max length 8"), "{error}");

    replace(&path, "AS1,10.0.0.0/24,24\nAS2,10.1.0.0/16,24\n");
    let SourceEvent::FileLoaded { vrps, .. } = next(&mut rx).await else {
        panic!("a fixed file gives FileLoaded");
    };
    assert_eq!(vrps.len(), 2);
    // Ten polls of an unchanged file read nothing.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        rx.try_recv().is_err(),
        "an unchanged file is not read again"
    );

    stop.send(true).expect("watcher listens");
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("watcher stops on shutdown")
        .expect("watcher did not panic");
}
