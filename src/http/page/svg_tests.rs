//! The SVG drawing: scales, windows, downsampling, and the points and labels drawn.

use super::*;

#[test]
fn the_value_axis_ends_at_a_round_number() {
    let cases = [
        (0, 1),
        (1, 1),
        (2, 2),
        (3, 5),
        (7, 10),
        (10, 10),
        (11, 20),
        (999, 1000),
        (1001, 2000),
        (u64::MAX, u64::MAX),
    ];
    for (max, top) in cases {
        assert_eq!(scale_top(max), top, "{max}");
    }
}

#[test]
fn the_window_spans_an_hour_to_a_day() {
    let now = 1_000_000;
    let cases = [
        (None, 3600),
        (Some(now - 600), 3600),
        (Some(now - 5 * 3600), 5 * 3600),
        (Some(now - 3 * 86_400), 86_400),
        (Some(now + 60), 3600),
    ];
    for (oldest, span) in cases {
        let w = Window::new(oldest, now);
        assert_eq!((w.start, w.end), (now - span, now), "{oldest:?}");
    }
}

/// Expect: at most one point per pixel column, the column's highest value; points outside
/// the window are left out.
#[test]
fn columns_keep_each_pixels_highest_value() {
    let window = Window {
        start: 0,
        end: 5400,
    };
    // 540 plot pixels: a column is 10 seconds.
    let points = [(0, 1), (3, 9), (7, 2), (20, 4), (5400, 6), (5401, 100)];
    assert_eq!(columns(&points, window), [(0, 9), (20, 4), (5400, 6)]);
    assert_eq!(columns(&[], window), []);
}

fn window() -> Window {
    Window {
        start: 0,
        end: 3600,
    }
}

/// Expect: times map onto x from the plot's left edge (170) to its right (710), values onto
/// y from the bottom (130) to the top of the scale (22); the legend has each series' last
/// value; a validation spell is shaded.
#[test]
fn a_chart_draws_its_points_on_its_scales() {
    let series = [
        Series {
            name: "invalid",
            color: "#e08000",
            points: vec![(0, 0), (1800, 3), (3600, 10)],
        },
        Series {
            name: "dropped",
            color: "#404040",
            points: vec![(3600, 5)],
        },
    ];
    let mut out = String::new();
    line_chart(&mut out, "c", "m<1>", window(), &series, &[(0, 1800)]);
    let invalid = "data-name=\"invalid\" fill=\"none\" stroke=\"#e08000\" stroke-width=\"1.5\" \
                   points=\"170.0,130.0 440.0,97.6 710.0,22.0\"";
    assert!(out.contains(invalid), "{out}");
    assert!(out.contains("points=\"710.0,76.0\""), "{out}");
    assert!(out.contains(">invalid 10</text>"), "{out}");
    assert!(out.contains(">dropped 5</text>"), "{out}");
    for level in [">0</text>", ">5</text>", ">10</text>"] {
        assert!(out.contains(level), "{level} in {out}");
    }
    let shade =
        format!("<rect x=\"170.0\" y=\"22\" width=\"270.0\" height=\"108\" fill=\"{INACTIVE}\">");
    assert!(out.contains(&shade), "{out}");
    assert!(out.contains("<title>m&lt;1&gt;</title>"), "{out}");
    assert!(
        out.starts_with("<svg id=\"c\"") && out.ends_with("</svg>\n"),
        "{out}"
    );
}

/// Expect: with no points at all the chart still draws its frame, scale 0..1, no line
/// points and "-" in the legend.
#[test]
fn an_empty_history_draws_an_empty_chart() {
    let series = [Series {
        name: "would drop",
        color: "#c00000",
        points: vec![],
    }];
    let mut out = String::new();
    line_chart(&mut out, "c", "All peers", window(), &series, &[]);
    assert!(out.contains("points=\"\""), "{out}");
    assert!(!out.contains("<circle"), "{out}");
    assert!(out.contains(">would drop -</text>"), "{out}");
    assert!(
        out.contains(">1</text>") && out.contains(">0</text>"),
        "{out}"
    );
    assert!(out.contains(">UTC, last 1 h</text>"), "{out}");
    assert!(
        out.contains(">00:00</text>") && out.contains(">01:00</text>"),
        "{out}"
    );
}

/// Expect: each span a bar from its start to its end with its meaning as tooltip; each
/// mark a tick with its label as tooltip, and as text where the previous label is far
/// enough.
#[test]
fn a_timeline_draws_spans_and_marks() {
    let span = |from, to, color, what: &str| Span {
        from,
        to,
        color,
        what: what.into(),
    };
    let rows = [Row {
        label: "rtr <cache>".into(),
        spans: vec![
            span(0, 1800, "#40a040", "up, serial 7"),
            span(1800, 3600, "#f0a030", "down"),
        ],
        marks: vec![
            (0, "serial 7".into()),
            (60, "serial 8".into()),
            (1800, "serial 9".into()),
        ],
    }];
    let mut out = String::new();
    timeline(&mut out, "t", "RPKI sources", window(), &rows);
    let up = "<rect x=\"170.0\" y=\"25.0\" width=\"270.0\" height=\"14.0\" fill=\"#40a040\">\
              <title>up, serial 7</title></rect>";
    assert!(out.contains(up), "{out}");
    assert!(
        out.contains("x=\"440.0\" y=\"25.0\" width=\"270.0\""),
        "{out}"
    );
    assert!(out.contains(">rtr &lt;cache&gt;</text>"), "{out}");
    for serial in [7, 8, 9] {
        assert!(
            out.contains(&format!("<title>serial {serial}</title></line>")),
            "{out}"
        );
    }
    let labels: Vec<&str> = out
        .split("<text class=\"mark\"")
        .filter_map(|part| part.split('>').nth(1)?.split('<').next())
        .collect();
    assert_eq!(labels[1..], ["serial 7", "serial 9"], "{out}");
}
