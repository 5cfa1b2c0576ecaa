//! The layering rule, checked: dependencies point one way (DESIGN.md, "Data flow").
//!
//! Lowest first: `route` < `rpki` < `policy` < `rib` < `bgp`. A module of that chain may
//! name only the modules [`CORE`] lists for it (below it; `bgp` reaches policy and RPKI only
//! through the RIB) and the leaf utilities `mrt` and `accept`, which may name only `route`.
//! Every other module (`config`, `metrics`, `history`, `http`, `report`, `replay`, `feed`,
//! `daemon`, ...) sits above the chain and may name any module.
//! The scan reads every `src/**/*.rs`, comments and string literals left out, for
//! `crate::MODULE` paths: in `use` lines (with `use crate::{a, b::c}` groups) and inline.
//! `super::` paths stay inside a module and are not edges.

use std::fs;
use std::path::{Path, PathBuf};

/// The chain, lowest first, and what each of its modules may name besides itself.
const CORE: [(&str, &[&str]); 5] = [
    ("route", &[]),
    ("rpki", &["route"]),
    ("policy", &["route", "rpki"]),
    ("rib", &["route", "rpki", "policy"]),
    ("bgp", &["route", "rib"]),
];
/// Utilities any module may use; they use only `route`.
const LEAVES: [&str; 2] = ["mrt", "accept"];
/// Whether module `from` may name module `to`.
fn allowed(from: &str, to: &str) -> bool {
    let below = |m: &str| CORE.iter().find(|(c, _)| *c == m).map(|(_, b)| *b);
    if from == to {
        return true;
    }
    if LEAVES.contains(&from) {
        return to == "route";
    }
    match below(from) {
        None => true,
        Some(below) => below.contains(&to) || (from != "route" && LEAVES.contains(&to)),
    }
}

/// The module a source file belongs to: `src/rib/mod.rs` -> `rib`, `src/config_tests.rs`
/// -> `config`; `None` for the crate root and the binary.
fn module_of(path: &Path, src: &Path) -> Option<String> {
    let rel = path.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    let name = name.strip_suffix("_tests").unwrap_or(name);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// `text` with comments and the contents of string and char literals blanked, newlines
/// kept, so positions and line numbers still match the file.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        let end = if rest.starts_with(b"//") {
            rest.iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |n| i + n)
        } else if rest.starts_with(b"/*") {
            find(b, i + 2, b"*/").map_or(b.len(), |n| n + 2)
        } else if rest.starts_with(b"r\"") || rest.starts_with(b"r#") {
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            let close: Vec<u8> = std::iter::once(b'"').chain(vec![b'#'; hashes]).collect();
            find(b, i + 2 + hashes, &close).map_or(b.len(), |n| n + close.len())
        } else if rest[0] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            j + 1
        } else if rest[0] == b'\'' && (rest.get(2) == Some(&b'\'') || rest.get(1) == Some(&b'\\')) {
            find(b, i + 2, b"'").map_or(b.len(), |n| n + 1)
        } else {
            i += 1;
            continue;
        };
        let end = end.min(b.len());
        blank(&mut out, i, end);
        i = end;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn find(b: &[u8], from: usize, what: &[u8]) -> Option<usize> {
    (from..b.len()).find(|&i| b[i..].starts_with(what))
}

/// Every module `code` names through `crate::`, with the byte offset where it is named.
fn named_modules(code: &str) -> Vec<(usize, String)> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let preceded = code[..at].chars().next_back();
        if preceded.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `rovgate_crate::`, not ours
        }
        let start = at + "crate::".len();
        let rest = &code[start..];
        if !rest.starts_with('{') {
            found.push((start, ident(rest)));
            continue;
        }
        // A group: the first name of each top-level item.
        let (mut depth, mut item_start) = (0, start + 1);
        for (k, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' | ',' if depth == 1 => {
                    let item = &code[item_start..start + k];
                    let lead = item.len() - item.trim_start().len();
                    let name = ident(item.trim_start());
                    if !name.is_empty() {
                        found.push((item_start + lead, name));
                    }
                    item_start = start + k + 1;
                    if c == '}' {
                        break;
                    }
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
    }
    found
}

/// Every edge against the rule in file `path` of module `from`: `file:line: from -> to`.
fn violations(path: &str, from: &str, text: &str) -> Vec<String> {
    let code = code_only(text);
    named_modules(&code)
        .into_iter()
        .filter(|(_, to)| !allowed(from, to))
        .map(|(at, to)| {
            let line = code[..at].matches('\n').count() + 1;
            format!("{path}:{line}: {from} -> {to} (crate::{to}) is against the layering")
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Expect: no module under `src/` names a module the layering puts above it.
#[test]
fn modules_import_only_downwards() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let (mut bad, mut edges) = (Vec::new(), 0);
    for file in &files {
        let Some(from) = module_of(file, &src) else {
            continue;
        };
        let text = fs::read_to_string(file).expect("read source");
        edges += named_modules(&code_only(&text)).len();
        let shown = file.strip_prefix(&src).unwrap_or(file).display();
        bad.extend(violations(&format!("src/{shown}"), &from, &text));
    }
    assert!(
        files.len() > 100 && edges > 150,
        "the scan found {} files and {edges} crate:: paths: it is not reading the sources",
        files.len()
    );
    assert!(
        bad.is_empty(),
        "imports against the layering:\n{}",
        bad.join("\n")
    );
}

/// Expect: the scan sees plain, grouped and inline paths, and nothing in comments or
/// strings; each edge against the rule is named with its line.
#[test]
fn scan_names_each_edge_against_the_rule() {
    let text = r#"//! Uses `crate::http` in a comment only.
use crate::{config::RovConfig, route::Asn,
    metrics};
use crate::rpki::Vrp;
fn f() { let s = "crate::bgp::x"; crate::bgp::send(); super::http::g(); }
"#;
    assert_eq!(
        violations("src/rib/x.rs", "rib", text),
        [
            "src/rib/x.rs:2: rib -> config (crate::config) is against the layering",
            "src/rib/x.rs:3: rib -> metrics (crate::metrics) is against the layering",
            "src/rib/x.rs:5: rib -> bgp (crate::bgp) is against the layering",
        ]
    );
    assert!(violations("src/http/x.rs", "http", text).is_empty());
    let cases = [
        ("rpki", "route", true),
        ("rpki", "config", false),
        ("rpki", "policy", false),
        ("policy", "rpki", true),
        ("bgp", "rib", true),
        ("bgp", "policy", false),
        ("bgp", "metrics", false),
        ("rib", "accept", true),
        ("mrt", "route", true),
        ("mrt", "rpki", false),
        ("route", "rpki", false),
        ("route", "mrt", false),
        ("config", "rib", true),
        ("report", "feed", true),
    ];
    for (from, to, ok) in cases {
        assert_eq!(allowed(from, to), ok, "{from} -> {to}");
    }
}
