//! Which key of a TOML document an error's span falls in, so that a config error names it
//! (`peer[1].rov`).

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// The dotted key (`peer[1].rov`) of the deepest key or value in `table` holding `span`.
pub(super) fn key_at(table: &DeTable, span: &Range<usize>) -> Option<String> {
    table.iter().find_map(|(k, v)| {
        let here = holds(&k.span(), span) || holds(&v.span(), span);
        match value_key(v.get_ref(), span) {
            Some(rest) => Some(format!("{}{rest}", k.get_ref())),
            None => here.then(|| k.get_ref().to_string()),
        }
    })
}

/// The key suffix (`.rov`, `[1].rov`, `[0]`) inside `value` holding `span`.
fn value_key(value: &DeValue, span: &Range<usize>) -> Option<String> {
    match value {
        DeValue::Table(t) => key_at(t, span).map(|k| format!(".{k}")),
        DeValue::Array(a) => {
            a.iter()
                .enumerate()
                .find_map(|(i, v)| match value_key(v.get_ref(), span) {
                    Some(rest) => Some(format!("[{i}]{rest}")),
                    None => holds(&v.span(), span).then(|| format!("[{i}]")),
                })
        }
        _ => None,
    }
}

/// Whether `outer` holds `inner` (an empty span counts as one character).
fn holds(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end.max(outer.start + 1)
}
