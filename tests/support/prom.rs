//! A strict parser of the Prometheus text format, for the tests that read rovgate's
//! `/metrics`: the integration tests (`tests/api.rs`) and the metrics module's unit tests
//! (`src/metrics_tests.rs` includes this file with `#[path]`), so there is one parser and
//! one self-test.

use std::collections::{BTreeMap, HashMap, HashSet};

/// One sample of a Prometheus text exposition.
#[derive(Debug)]
pub struct Sample {
    /// The metric name (a histogram's with its `_bucket`, `_sum` or `_count`).
    pub name: String,
    /// The labels.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// A parsed exposition: the samples and each metric family's TYPE.
pub struct Exposition {
    /// Every sample, in order.
    pub samples: Vec<Sample>,
    /// Each metric family's TYPE.
    pub types: HashMap<String, String>,
}

fn metric_name(s: &str) -> bool {
    let first = |c: char| c.is_ascii_alphabetic() || c == '_' || c == ':';
    let mut chars = s.chars();
    chars.next().is_some_and(first) && chars.all(|c| first(c) || c.is_ascii_digit())
}

fn label_name(s: &str) -> bool {
    metric_name(s) && !s.contains(':')
}

fn float(s: &str) -> Option<f64> {
    match s {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ if s.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) => s.parse().ok(),
        _ => None,
    }
}

/// Parses `{a="x",b="y\"z"}` at the start of `s`; returns the labels and the rest.
fn labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut out = BTreeMap::new();
    let mut rest = s.strip_prefix('{').ok_or("no '{'")?;
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((out, after));
        }
        let (key, after) = rest.split_once("=\"").ok_or("a label without =\"")?;
        if !label_name(key) {
            return Err(format!("bad label name {key:?}"));
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().ok_or("an unterminated label value")? {
                (i, '"') => break i,
                (_, '\\') => match chars.next().ok_or("a dangling backslash")?.1 {
                    'n' => value.push('\n'),
                    c @ ('\\' | '"') => value.push(c),
                    c => return Err(format!("bad escape \\{c}")),
                },
                (_, '\n') => return Err("a newline in a label value".into()),
                (_, c) => value.push(c),
            }
        };
        if out.insert(key.to_string(), value).is_some() {
            return Err(format!("label {key} twice"));
        }
        rest = &after[end + 1..];
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err("labels not separated by ','".into());
        }
    }
}

/// A strict parser of the Prometheus text format (0.0.4): `# HELP name text` and
/// `# TYPE name kind` comments only, one TYPE per family and before its samples, samples
/// `name{label="value",...} value [timestamp]`, no series twice.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples: Vec<Sample> = Vec::new();
    let mut seen = HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let bad = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.splitn(3, ' ');
            let (word, name, rest) = (words.next(), words.next(), words.next());
            let name = name
                .filter(|n| metric_name(n))
                .ok_or_else(|| bad("bad name"))?;
            match (word, rest) {
                (Some("HELP"), _) => {}
                (Some("TYPE"), Some(kind)) => {
                    let kinds = ["counter", "gauge", "histogram", "summary", "untyped"];
                    if !kinds.contains(&kind) {
                        return Err(bad("unknown type"));
                    }
                    if samples.iter().any(|s| s.name == name) {
                        return Err(bad("TYPE after samples"));
                    }
                    if types.insert(name.to_string(), kind.to_string()).is_some() {
                        return Err(bad("second TYPE"));
                    }
                }
                _ => return Err(bad("a comment that is neither HELP nor TYPE")),
            }
            continue;
        }
        let end = line.find(['{', ' ']).ok_or_else(|| bad("no value"))?;
        let name = &line[..end];
        if !metric_name(name) {
            return Err(bad("bad metric name"));
        }
        let (labels, rest) = match line[end..].starts_with('{') {
            true => labels(&line[end..]).map_err(|e| bad(&e))?,
            false => (BTreeMap::new(), &line[end..]),
        };
        let mut fields = rest
            .strip_prefix(' ')
            .ok_or_else(|| bad("no space"))?
            .split(' ');
        let value = fields
            .next()
            .and_then(float)
            .ok_or_else(|| bad("bad value"))?;
        if let Some(ts) = fields.next() {
            ts.parse::<i64>().map_err(|_| bad("bad timestamp"))?;
        }
        if fields.next().is_some() {
            return Err(bad("trailing fields"));
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .filter_map(|suffix| name.strip_suffix(suffix))
            .find(|base| {
                matches!(
                    types.get(*base).map(String::as_str),
                    Some("histogram" | "summary")
                )
            })
            .unwrap_or(name);
        if !types.contains_key(family) {
            return Err(bad("a sample without a TYPE"));
        }
        if !seen.insert(format!("{name}{labels:?}")) {
            return Err(bad("a series twice"));
        }
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    Ok(Exposition { samples, types })
}

impl Exposition {
    /// The value of the one series `name{labels}`, if there is one.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels: BTreeMap<String, String> = (labels.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let found = self.samples.iter();
        found
            .filter(|s| s.name == name && s.labels == labels)
            .map(|s| s.value)
            .next()
    }

    /// The value of the one series `name{labels}`; panics if there is none.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no {name}{labels:?}"))
    }
}

#[test]
fn the_parser_rejects_malformed_text() {
    let ok = "# HELP a_b Help text.\n# TYPE a_b gauge\na_b{x=\"1\",y=\"q\\\"\\\\\"} 2.5\n\
              # TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_sum 1e-3\nh_count 3 1700000000\n";
    let parsed = parse(ok).unwrap();
    assert_eq!(parsed.value("a_b", &[("x", "1"), ("y", "q\"\\")]), 2.5);
    assert_eq!(parsed.value("h_count", &[]), 3.0);
    for bad in [
        "a 1",
        "# TYPE a gauge\n1a 1",
        "# TYPE a gauge\na{x=1} 1",
        "# TYPE a gauge\na{x=\"1\"} one",
        "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1",
        "# TYPE a gauge\na{x=\"1\" y=\"2\"} 1",
        "# TYPE a gauge\na{x=\"1} 1",
        "# TYPE a gauge\na{x=\"\\t\"} 1",
        "# TYPE a gauge\na  1",
        "# TYPE a gauge\na 1 2 3",
        "# TYPE a gauge\na 1\na 2",
        "# TYPE a gauge\n# TYPE a counter\na 1",
        "# TYPE a gauge\n# a comment\na 1",
        "# TYPE a meter\na 1",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} parsed");
    }
}
