//! The timeline picture, hand-written SVG (no script): completions per second stacked as
//! ok / waited / failed or unknown, each fault's window shaded and labelled, and below the
//! plot one lane each for redis role changes, haproxy server states and the controller,
//! with a faint vertical line through the plot at each such moment. Hovering a shape shows
//! its `<title>`.
//!
//! Coordinates are printed with one fixed decimal, so the file is byte-identical from run
//! to run and machine to machine.

use std::fmt::Write as _;

use super::document::escape;
use super::ReportInput;
use crate::checker::{Marker, MarkerKind};

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 980.0;
const TOP: f64 = 40.0;
const PLOT_BOTTOM: f64 = 260.0;
const LANE_TOP: f64 = 290.0;
const LANE_HEIGHT: f64 = 22.0;
/// About how wide one character of a 10px label is, to keep labels from overlapping.
const LABEL_CHAR_WIDTH: f64 = 5.5;
const HEIGHT: f64 = LANE_TOP + 3.0 * LANE_HEIGHT + 20.0;

const OK: &str = "#4c9a4c";
const WAITED: &str = "#e0b000";
const FAILED: &str = "#d04040";
const FAULT: &str = "#8888cc";

/// The lanes under the plot and the markers each holds.
const LANES: [(&str, &[MarkerKind]); 3] = [
    (
        "redis roles",
        &[MarkerKind::Promotion, MarkerKind::Replicaof],
    ),
    ("haproxy", &[MarkerKind::ServerDown, MarkerKind::ServerUp]),
    (
        "controller",
        &[
            MarkerKind::MachineFailed,
            MarkerKind::PlanStarted,
            MarkerKind::PlanFinished,
        ],
    ),
];

fn color(kind: MarkerKind) -> &'static str {
    match kind {
        MarkerKind::Promotion => "#2a7f2a",
        MarkerKind::Replicaof => "#7a3fa0",
        MarkerKind::ServerDown => "#c03030",
        MarkerKind::ServerUp => "#2a7f2a",
        MarkerKind::MachineFailed => "#d07000",
        MarkerKind::PlanStarted => "#2060c0",
        MarkerKind::PlanFinished => "#103070",
    }
}

/// The timeline as an SVG document.
pub fn svg(input: &ReportInput) -> String {
    let a = input.analysis;
    let t = &a.timeline;
    let bucket_ms = t.bucket_ms.max(1);
    let end_ms = a.duration_ms.max(t.buckets.len() as u64 * bucket_ms).max(1);
    let x = |ms: u64| LEFT + (RIGHT - LEFT) * ms as f64 / end_ms as f64;
    let max_count = t
        .buckets
        .iter()
        .map(|b| b.ok + b.waited + b.failed)
        .max()
        .unwrap_or(0)
        .max(1);
    let y_max = nice_ceiling(max_count);
    let y = |n: u64| PLOT_BOTTOM - (PLOT_BOTTOM - TOP) * n as f64 / y_max as f64;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{HEIGHT:.0}" viewBox="0 0 {WIDTH:.0} {HEIGHT:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        s,
        "<title>{}: requests per second, faults and role changes</title>",
        escape(input.scenario)
    );
    let _ = writeln!(
        s,
        r#"<rect x="0" y="0" width="{WIDTH:.0}" height="{HEIGHT:.0}" fill="white"/>"#
    );

    // Legend.
    let legend = [
        ("ok", OK, "legend-ok"),
        ("waited", WAITED, "legend-waited"),
        ("failed or unknown", FAILED, "legend-failed"),
        ("fault", FAULT, "legend-fault"),
    ];
    let mut lx = LEFT;
    for (label, fill, class) in legend {
        let _ = writeln!(
            s,
            r#"<rect class="{class}" x="{lx:.1}" y="10.0" width="10.0" height="10.0" fill="{fill}"/><text x="{:.1}" y="19.0">{label}</text>"#,
            lx + 14.0
        );
        lx += 30.0 + 7.0 * label.len() as f64;
    }

    // Fault windows, behind the bars.
    for f in input.faults {
        let start = f.took_effect_ms.unwrap_or(f.at_ms);
        let end = f.healed_ms.unwrap_or(end_ms).max(start);
        let (x0, x1) = (x(start), x(end));
        let effect = match f.took_effect_ms {
            Some(_) => String::new(),
            None => " (never took effect)".to_string(),
        };
        let _ = writeln!(
            s,
            r#"<rect class="fault" x="{x0:.1}" y="{TOP:.1}" width="{:.1}" height="{:.1}" fill="{FAULT}" fill-opacity="0.25"><title>fault {}: {} from {} to {}{effect}</title></rect>"#,
            (x1 - x0).max(1.0),
            PLOT_BOTTOM - TOP,
            f.index,
            escape(&f.kind),
            secs(start),
            secs(end),
        );
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#333366">fault {}: {}</text>"##,
            x0 + 3.0,
            TOP + 12.0,
            f.index,
            escape(&f.kind)
        );
    }

    // Stacked bars: ok at the bottom, then waited, then failed or unknown.
    let bar_w = ((RIGHT - LEFT) * bucket_ms as f64 / end_ms as f64).max(0.5);
    for b in &t.buckets {
        let bx = x(b.start_ms);
        let mut base = 0;
        for (n, fill, class) in [
            (b.ok, OK, "ok"),
            (b.waited, WAITED, "waited"),
            (b.failed, FAILED, "failed"),
        ] {
            if n == 0 {
                continue;
            }
            let (top, bottom) = (y(base + n), y(base));
            let _ = writeln!(
                s,
                r#"<rect class="{class}" x="{bx:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{}: {n} {class}</title></rect>"#,
                (bar_w - 0.2).max(0.3),
                bottom - top,
                secs(b.start_ms)
            );
            base += n;
        }
    }

    // Axes.
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT:.1}" y1="{PLOT_BOTTOM:.1}" x2="{RIGHT:.1}" y2="{PLOT_BOTTOM:.1}" stroke="#000"/>"##
    );
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT:.1}" y1="{TOP:.1}" x2="{LEFT:.1}" y2="{PLOT_BOTTOM:.1}" stroke="#000"/>"##
    );
    for n in [0, y_max / 2, y_max] {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{n}</text>"#,
            LEFT - 4.0,
            y(n) + 4.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="14.0" y="{:.1}" transform="rotate(-90 14.0 {:.1})" text-anchor="middle">requests / s</text>"#,
        (TOP + PLOT_BOTTOM) / 2.0,
        (TOP + PLOT_BOTTOM) / 2.0
    );
    let step = tick_step(end_ms);
    let mut next = Some(0);
    while let Some(tick) = next.filter(|t| *t <= end_ms) {
        let tx = x(tick);
        let _ = writeln!(
            s,
            r##"<line x1="{tx:.1}" y1="{PLOT_BOTTOM:.1}" x2="{tx:.1}" y2="{:.1}" stroke="#000"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle">{} s</text>"##,
            PLOT_BOTTOM + 4.0,
            PLOT_BOTTOM + 16.0,
            tick / 1000
        );
        next = tick.checked_add(step);
    }

    // Markers: a lane each, and a faint line through the plot.
    for (i, (name, kinds)) in LANES.iter().enumerate() {
        let ly = LANE_TOP + i as f64 * LANE_HEIGHT;
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{name}</text>"#,
            LEFT - 4.0,
            ly + 14.0
        );
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT:.1}" y1="{:.1}" x2="{RIGHT:.1}" y2="{:.1}" stroke="#ddd"/>"##,
            ly + 10.0,
            ly + 10.0
        );
        // Labels are written left to right and skipped where they would overlap the one
        // before (the tooltip still has it), so a burst of events stays legible.
        let mut free_from = LEFT;
        for m in t.markers.iter().filter(|m| kinds.contains(&m.kind)) {
            let mx = x(m.at_ms);
            marker(&mut s, m, mx, ly);
            if mx + 5.0 >= free_from {
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#333">{}</text>"##,
                    mx + 5.0,
                    ly + 14.0,
                    escape(&m.label)
                );
                free_from = mx + 5.0 + LABEL_CHAR_WIDTH * m.label.chars().count() as f64 + 6.0;
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

fn marker(s: &mut String, m: &Marker, mx: f64, lane_y: f64) {
    let c = color(m.kind);
    let _ = writeln!(
        s,
        r#"<line class="marker" x1="{mx:.1}" y1="{TOP:.1}" x2="{mx:.1}" y2="{PLOT_BOTTOM:.1}" stroke="{c}" stroke-opacity="0.35" stroke-dasharray="3,3"/>"#
    );
    let _ = writeln!(
        s,
        r#"<rect x="{:.1}" y="{:.1}" width="4.0" height="16.0" fill="{c}"><title>{} {}</title></rect>"#,
        mx - 2.0,
        lane_y + 2.0,
        secs(m.at_ms),
        escape(&m.label)
    );
}

fn secs(ms: u64) -> String {
    crate::format::secs(ms)
}

/// 1, 2 or 5 times a power of ten, at least `n`: round numbers for the y axis.
fn nice_ceiling(n: u64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            if m * p >= n {
                return m * p;
            }
        }
        p = p.saturating_mul(10);
    }
}

/// A tick step (ms) giving at most about 12 ticks, in seconds a person counts in.
fn tick_step(end_ms: u64) -> u64 {
    const STEPS_S: [u64; 12] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
    STEPS_S
        .iter()
        .map(|s| s * 1000)
        .find(|step| end_ms / step <= 12)
        .unwrap_or(3_600_000 * (end_ms / 3_600_000 / 12 + 1))
}
