//! The `rovgate` binary given bad input: MRT files that are empty, not MRT or cut short,
//! and configs naming VRP or SLURM files that are not there; each exits 2 naming the file.
//!
//! Where it sits: under `cli.rs`, whose `rovgate` runs the binary.

use std::path::Path;

use super::{rovgate, ROOT};
use crate::support;

/// Expected: the command fails with exit code 2 and `message` (which names the file) on
/// stderr.
fn assert_bad_input(args: &[&str], message: &str) {
    let out = rovgate(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(message), "{args:?}: {stderr}");
}

/// Expected: `report --mrt` and `replay --mrt` refuse an empty file, random bytes and a
/// gzip file cut short (a real update file's first 600 kB) with exit code 2, naming the
/// file; with `--allow-truncated` the cut file is read up to the cut.
#[test]
fn bad_mrt_files_exit_2() {
    let dir = support::scratch_dir("bad-mrt");
    let real = Path::new(ROOT).join("../shared/data/mrt/updates.20190101.0000.gz");
    let gz = std::fs::read(real).unwrap();
    let (empty, random, cut) = (
        dir.join("empty.mrt"),
        dir.join("random.mrt"),
        dir.join("cut.mrt.gz"),
    );
    std::fs::write(&empty, b"").unwrap();
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&random, noise).unwrap();
    std::fs::write(&cut, &gz[..600_000]).unwrap();
    let path = |p: &std::path::PathBuf| p.to_str().unwrap().to_string();
    let cases = [
        (path(&empty), format!("no MRT records in {}", path(&empty))),
        (path(&random), format!("{} is not MRT: ", path(&random))),
        (path(&cut), format!("{} is cut short after ", path(&cut))),
    ];
    let vrps = "configs/sample-vrps.json";
    for (file, message) in &cases {
        assert_bad_input(&["report", "--mrt", file, "--vrps", vrps], message);
    }
    let target = format!("127.0.0.1:{}", support::free_port());
    for (file, message) in &cases {
        assert_bad_input(&["replay", "--mrt", file, "--target", &target], message);
    }
    let out = rovgate(&[
        "report",
        "--allow-truncated",
        "--mrt",
        &path(&cut),
        "--vrps",
        vrps,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("MRT file cut short"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Expected: a config naming a VRP file or a SLURM file that is not there fails
/// `check-config` and `run` with exit code 2, naming the file and the key.
#[test]
fn missing_vrp_or_slurm_file_exits_2() {
    let dir = support::scratch_dir("missing-files");
    let vrps = Path::new(ROOT).join("configs/sample-vrps.json");
    let cases = [
        (
            format!("vrp_files = [{vrps:?}, \"gone-vrps.json\"]"),
            "rpki.vrp_files[1]",
            "gone-vrps.json",
        ),
        (
            format!("vrp_files = [{vrps:?}]\nslurm = [\"gone.slurm.json\"]"),
            "rpki.slurm[0]",
            "gone.slurm.json",
        ),
    ];
    for (i, (rpki, key, file)) in cases.iter().enumerate() {
        let config = dir.join(format!("rovgate-{i}.toml"));
        let text = format!(
            "[server]\nasn = 64500\nrouter_id = \"192.0.2.254\"\nlisten = [\"127.0.0.1:{}\"]\n\n[rpki]\n{rpki}\n",
            support::free_port()
        );
        std::fs::write(&config, text).unwrap();
        let missing = dir.join(file).display().to_string();
        let message = format!("key {key}: cannot read {missing}: ");
        let config = config.to_str().unwrap();
        assert_bad_input(&["check-config", config], &message);
        assert_bad_input(&["run", "--config", config], &message);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
