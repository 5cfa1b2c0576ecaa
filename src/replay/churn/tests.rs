//! Which routes churn can flip, what a run's churn reports, and the churn options.

use clap::Parser;

use super::*;
use crate::rpki::Vrp;

fn table(vrps: &[(&str, u8, u32)]) -> VrpTable {
    let vrp = |&(p, m, a): &(&str, u8, u32)| Vrp::new(p.parse().unwrap(), m, Asn(a)).unwrap();
    vrps.iter().map(vrp).collect()
}

/// Only a valid route that another VRP covers without matching it can turn invalid when
/// VRPs are withdrawn.
#[test]
fn volatile_routes() {
    let vrps = table(&[
        ("192.0.2.0/24", 24, 64496),
        ("192.0.2.0/24", 24, 64497),
        ("198.51.100.0/22", 24, 64498),
        ("203.0.113.0/24", 25, 64499),
        ("203.0.113.0/25", 25, 64499),
    ]);
    let cases = [
        (
            "192.0.2.0/24",
            64496,
            true,
            "valid, another AS's VRP covers it",
        ),
        ("198.51.100.0/24", 64498, false, "valid, only its own VRP"),
        (
            "203.0.113.0/25",
            64499,
            false,
            "valid, covered by two VRPs that both match",
        ),
        ("203.0.113.0/26", 64499, false, "invalid already (too long)"),
        ("198.51.100.0/24", 64511, false, "invalid already"),
        ("100.64.0.0/10", 64496, false, "not found"),
    ];
    for (prefix, asn, expected, why) in cases {
        let got = volatile(&vrps, &prefix.parse().unwrap(), Some(Asn(asn)));
        assert_eq!(got, expected, "{prefix} AS{asn}: {why}");
    }
}

/// A run's changes and rates, in the JSON output.
#[test]
fn run_report() {
    let run = ChurnRun {
        serials: 10,
        first_serial: 0,
        last_serial: 10,
        announced: 45,
        withdrawn: 50,
        duration: Duration::from_millis(500),
        notifies: 4,
        deltas: 4,
        resets: 0,
        device_serial: Some(9),
    };
    let j = json_run(&run);
    assert_eq!(j["vrp_changes"], json!(95));
    assert_eq!(j["serials_per_second"], json!(20.0));
    assert_eq!(j["vrp_changes_per_second"], json!(190.0));
    assert_eq!(j["device_serial"], json!(9));
    assert!(text_run(&run).contains("device at serial 9 of 10"));
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    churn: ChurnArgs,
}

/// `--rtr-listen` and `--churn-vrps` come together, rate and size only with them; rate and
/// size have defaults.
#[test]
fn options() {
    let parse = |args: &[&str]| Cli::try_parse_from([&["replay"], args].concat());
    let cli = parse(&["--rtr-listen", "127.0.0.1:3323", "--churn-vrps", "v.json"]).unwrap();
    let o = cli.churn.options().expect("churn");
    assert_eq!((o.rate, o.size), (10.0, 50));
    assert!(parse(&["--rtr-listen", "127.0.0.1:3323"]).is_err());
    assert!(parse(&["--churn-vrps", "v.json"]).is_err());
    assert!(parse(&["--churn-rate", "5"]).is_err());
    assert!(parse(&[]).unwrap().churn.options().is_none());
}
