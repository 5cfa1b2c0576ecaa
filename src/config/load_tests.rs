//! Tests for the idle hold keys (`convert/damping.rs`) and the VRP and SLURM files
//! `Config::load` checks (`convert/files.rs`); the helpers are `config_tests.rs`'s.

use super::*;

#[test]
fn idle_hold_is_own_then_defaults_then_5_to_300_seconds() {
    let secs = |first, max| IdleHold {
        first: Duration::from_secs(first),
        max: Duration::from_secs(max),
    };
    let config = parse(TWO_PEERS).expect("valid");
    assert_eq!(config.defaults.idle_hold, secs(5, 300));
    assert_eq!(config.peers[0].idle_hold, secs(5, 300));
    let text = two_peers_with(
        "rov = \"tag\"",
        "idle_hold_seconds = 2\nidle_hold_max_seconds = 60",
    )
    .replacen(
        "role = \"rs-client\"",
        "role = \"rs-client\"\nidle_hold_max_seconds = 600",
        1,
    );
    let config = parse(&text).expect("valid");
    assert_eq!(config.defaults.idle_hold, secs(2, 60));
    assert_eq!(
        config.peers[0].idle_hold,
        secs(2, 60),
        "inherits [defaults]"
    );
    assert_eq!(
        config.peers[1].idle_hold,
        secs(2, 600),
        "own max, inherited first"
    );
}

#[test]
fn broken_idle_holds_name_line_and_key() {
    let defaults = |body: &str| two_peers_with("rov = \"tag\"", body);
    let peer = |body: &str| two_peers_with("max_prefixes = 100", body);
    #[rustfmt::skip]
    let cases: Vec<BrokenCase> = vec![
        ("zero first", defaults("idle_hold_seconds = 0"), Some(7), Some("defaults.idle_hold_seconds"), "expected at least 1 second"),
        ("max below first", defaults("idle_hold_seconds = 10\nidle_hold_max_seconds = 9"), Some(8), Some("defaults.idle_hold_max_seconds"), "expected idle_hold_max_seconds (9) at least idle_hold_seconds (10)"),
        ("peer first above inherited max", peer("idle_hold_seconds = 301"), Some(21), Some("peer[1].idle_hold_seconds"), "(300) at least idle_hold_seconds (301)"),
        ("peer max below default first", peer("idle_hold_max_seconds = 4"), Some(21), Some("peer[1].idle_hold_max_seconds"), "(4) at least idle_hold_seconds (5)"),
        ("negative", peer("idle_hold_seconds = -1"), Some(21), Some("peer[1].idle_hold_seconds"), "invalid value"),
    ];
    assert_broken(cases);
}

/// `Config::load` (what `run` and `check-config` read) refuses a config whose VRP or SLURM
/// file is missing, naming the key and the file; `Config::parse` does not look.
#[test]
fn load_refuses_missing_vrp_and_slurm_files() {
    let dir = std::env::temp_dir().join(format!("rovgate-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join("vrps.json"), "{\"roas\": []}").expect("write");
    let file = dir.join("rovgate.toml");
    let gone = dir.join("gone.json").display().to_string();
    let cases = [
        (
            "vrp_files = [\"vrps.json\", \"gone.json\"]",
            "rpki.vrp_files[1]",
            gone.as_str(),
        ),
        (
            "vrp_files = [\"vrps.json\"]\nslurm = [\"gone.json\"]",
            "rpki.slurm[0]",
            &gone,
        ),
        ("slurm = [\".\"]", "rpki.slurm[0]", "not a file"),
    ];
    for (rpki, key, why) in cases {
        let text = format!("{SERVER}[rpki]\n{rpki}\n");
        std::fs::write(&file, &text).expect("write");
        let e = Config::load(&file).expect_err(rpki);
        assert_eq!(
            (e.line.is_some(), e.key.as_deref()),
            (true, Some(key)),
            "{e}"
        );
        assert!(e.message.starts_with("cannot read "), "{e}");
        assert!(e.message.contains(why), "{e}");
        assert!(parse(&text).is_ok(), "{rpki}");
    }
    std::fs::write(
        &file,
        format!("{SERVER}[rpki]\nvrp_files = [\"vrps.json\"]\n"),
    )
    .expect("write");
    assert!(Config::load(&file).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}
