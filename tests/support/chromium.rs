//! Headless Chromium as the web tests use it: the DOM it rendered (`--dump-dom`), a
//! screenshot, and readers for the page's tables, elements and notices.

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::scratch_dir;

/// Loads `url` in headless Chromium with a fresh profile and returns the DOM it rendered.
pub fn dump_dom(url: &str) -> String {
    let dir = scratch_dir("chromium");
    let out = dir.join("dom.html");
    let log = chromium(&dir, &["--dump-dom".into()], url, &out);
    let dom = fs::read_to_string(&out).unwrap_or_default();
    assert!(
        dom.contains("</html>"),
        "no DOM from chromium:\n{dom}\n{log}"
    );
    let _ = fs::remove_dir_all(&dir);
    dom
}

/// Has headless Chromium draw `url` at 1000 x 2400 pixels and returns the PNG.
pub fn screenshot(url: &str) -> Vec<u8> {
    let dir = scratch_dir("chromium");
    let png = dir.join("page.png");
    let args = [
        format!("--screenshot={}", png.display()),
        "--window-size=1000,2400".into(),
        "--hide-scrollbars".into(),
    ];
    let log = chromium(&dir, &args, url, &dir.join("stdout"));
    let png = fs::read(&png).unwrap_or_else(|e| panic!("no screenshot ({e}):\n{log}"));
    let _ = fs::remove_dir_all(&dir);
    png
}

/// Runs headless Chromium with a fresh profile in `dir` on `url` with `args`, its output to
/// `out`; returns its log once it exited (panics if it failed or took over 60 s).
fn chromium(dir: &std::path::Path, args: &[String], url: &str, out: &std::path::Path) -> String {
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
        ])
        .arg("--disable-sync")
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(fs::File::create(out).expect("create chromium's output file"))
        .stderr(fs::File::create(dir.join("stderr")).expect("create chromium's log"))
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not render {url} within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = fs::read_to_string(dir.join("stderr")).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}):\n{log}");
    log
}

/// The text of some HTML: tags dropped, entities decoded.
pub fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let entities = [
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
    ];
    let out = (entities.iter()).fold(out, |s, (e, c)| s.replace(e, c));
    out.replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .trim()
        .into()
}

/// The table with `id` in `dom`: its rows (the header row first), each row's cells as
/// (HTML, text).
pub fn table(dom: &str, id: &str) -> Vec<Vec<(String, String)>> {
    let start = (dom.find(&format!("<table id=\"{id}\"")))
        .unwrap_or_else(|| panic!("no table {id:?} in the page:\n{dom}"));
    let end = start + dom[start..].find("</table>").expect("the table ends");
    // Every part after a `<tr` is a row (the part before the first is the table's head).
    let rows = dom[start..end]
        .split("<tr")
        .filter(|part| !part.starts_with("<table"));
    rows.map(|row| {
        let cells = row.split("</t").filter_map(|part| {
            let at = ["<td>", "<td ", "<th>", "<th "]
                .iter()
                .filter_map(|open| part.rfind(open))
                .max()?;
            let inner = &part[at..];
            let html = &inner[inner.find('>')? + 1..];
            Some((html.to_string(), text_of(html)))
        });
        cells.collect()
    })
    .collect()
}

/// The row of table `id` whose cell under `column` reads `key`, as (header, text) pairs,
/// and the row's HTML; panics if there is no such row or more than one.
pub fn row(dom: &str, id: &str, column: &str, key: &str) -> (Vec<(String, String)>, String) {
    let rows = table(dom, id);
    let headers: Vec<String> = rows[0].iter().map(|(_, t)| t.clone()).collect();
    let at = (headers.iter().position(|h| h == column))
        .unwrap_or_else(|| panic!("no column {column:?} in table {id}: {headers:?}"));
    let found: Vec<_> = (rows[1..].iter())
        .filter(|r| r.get(at).is_some_and(|(_, t)| t == key))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "rows {key:?} in table {id}: {found:?}\n{dom}"
    );
    let html = found[0].iter().map(|(h, _)| h.as_str()).collect();
    let cells = headers
        .into_iter()
        .zip(found[0].iter().map(|(_, t)| t.clone()));
    (cells.collect(), html)
}

pub fn cell<'a>(row: &'a [(String, String)], header: &str) -> &'a str {
    let found = row.iter().find(|(h, _)| h == header);
    found.map_or_else(|| panic!("no column {header:?} in {row:?}"), |(_, t)| t)
}

/// The element `<{tag} id="{id}"` .. `</{tag}>` of `dom`.
pub fn element<'a>(dom: &'a str, tag: &str, id: &str) -> &'a str {
    let start = (dom.find(&format!("<{tag} id=\"{id}\"")))
        .unwrap_or_else(|| panic!("no <{tag} id={id:?}> in the page:\n{dom}"));
    let end = start
        + dom[start..]
            .find(&format!("</{tag}>"))
            .expect("the element ends");
    &dom[start..end]
}

/// The value of attribute `name` of the first tag in `html` that has it.
pub fn attribute<'a>(html: &'a str, name: &str) -> &'a str {
    let value = html.split(&format!(" {name}=\"")).nth(1);
    let value = value.and_then(|v| v.split('"').next());
    value.unwrap_or_else(|| panic!("no {name} in {html}"))
}

/// The text of the paragraph with `id`, if the page has one.
pub fn paragraph(dom: &str, id: &str) -> Option<String> {
    let start = dom.find(&format!("<p class=\"alert\" id=\"{id}\">"))?;
    let end = start + dom[start..].find("</p>")?;
    Some(text_of(&dom[start..end]))
}
