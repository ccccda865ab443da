//! The report: a markdown table of every figure with its ratio to r2d2 and to the floor,
//! the targets the pool must meet, and an SVG chart of W2.

use std::fmt::Write as _;

use crate::workloads::{
    Multi, Single, ASYNC_BLOCK_ON, ASYNC_TASKS, DBPOOL, DBPOOL_FIFO, MUTEX_FLOOR, R2D2_CHECK,
    R2D2_NOCHECK, THREADS,
};

fn find<'a>(rows: &'a [Single], name: &str) -> Option<&'a Single> {
    rows.iter().find(|r| r.name == name)
}

fn find_multi<'a>(
    rows: &'a [Multi],
    name: &str,
    max_size: usize,
    threads: usize,
) -> Option<&'a Multi> {
    rows.iter()
        .find(|r| r.name == name && r.max_size == max_size && r.threads == threads)
}

fn us(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1000.0)
}

/// A target and whether this run met it.
pub struct Target {
    pub text: String,
    pub met: bool,
    pub measured: String,
}

pub fn single_table(out: &mut String, title: &str, rows: &[Single], floor: &str) {
    let r2d2 = find(rows, R2D2_CHECK).map(|r| r.ns);
    let floor_ns = find(rows, floor).map(|r| r.ns);
    let _ = writeln!(out, "### {title}\n");
    let _ = writeln!(
        out,
        "| contender | ns per cycle | vs r2d2 (test_on_check_out) | vs floor |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for row in rows {
        let ratio =
            |base: Option<f64>| base.map_or("–".into(), |b| format!("{:.2}×", row.ns / b));
        let _ = writeln!(
            out,
            "| {} | {:.1} | {} | {} |",
            row.name,
            row.ns,
            ratio(r2d2),
            ratio(floor_ns)
        );
    }
    out.push('\n');
}

pub fn multi_table(out: &mut String, title: &str, rows: &[Multi], baseline: &str) {
    let _ = writeln!(out, "### {title}\n");
    let _ = writeln!(
        out,
        "| contender | max_size | threads | ops/s | vs {baseline} | get p50 µs | p99 µs | p99.9 µs | threads' ops min/max | Jain | client CPU µs/op | switches/op |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for row in rows {
        let base = find_multi(rows, baseline, row.max_size, row.threads)
            .map_or("–".into(), |b| {
                format!("{:.2}×", row.result.ops_per_sec / b.result.ops_per_sec)
            });
        let l = &row.result.latency;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {:.2} | {:.3} | {} | {:.2} |",
            row.name,
            row.max_size,
            row.threads,
            row.result.ops_per_sec,
            base,
            us(l.quantile(0.5)),
            us(l.quantile(0.99)),
            us(l.quantile(0.999)),
            row.result.min_over_max(),
            row.result.jain(),
            per_op(row.result.cpu_us_per_op()),
            row.result.switches_per_op(),
        );
    }
    out.push('\n');
}

/// Microseconds with the digits that matter: two decimals below 10, one above.
fn per_op(us: f64) -> String {
    if us < 10.0 {
        format!("{us:.2}")
    } else {
        format!("{us:.1}")
    }
}

/// Every target the performance issues set, measured in this run. `w4` holds each server's
/// W4/W5 rows (`None` when its server was not available).
pub fn targets(
    w1: &[Single],
    w2: &[Multi],
    w3: &[Single],
    w4: &[(&str, Option<&[Multi]>)],
) -> Vec<Target> {
    let mut targets = Vec::new();
    if let (Some(ours), Some(floor), Some(r2d2)) = (
        find(w1, DBPOOL),
        find(w1, MUTEX_FLOOR),
        find(w1, R2D2_CHECK),
    ) {
        targets.push(Target {
            text: "W1: at most 2× the Mutex<Vec> floor".into(),
            met: ours.ns <= 2.0 * floor.ns,
            measured: format!("{:.2}×", ours.ns / floor.ns),
        });
        targets.push(Target {
            text: "W1: at least 4× faster than r2d2".into(),
            met: r2d2.ns >= 4.0 * ours.ns,
            measured: format!("{:.2}× faster", r2d2.ns / ours.ns),
        });
    }
    let default_label = format!(
        "dbpool (default: Eventual {} µs)",
        dbpool_core::Fairness::DEFAULT_BOUND.as_micros()
    );
    for (ours_name, label, default) in [
        (DBPOOL, default_label.as_str(), true),
        (DBPOOL_FIFO, "dbpool (Fairness::Fifo)", false),
    ] {
        let mut worst_throughput = f64::INFINITY;
        let mut tail_ok = true;
        let mut worst_jain = f64::INFINITY;
        for threads in [8, 16, 32] {
            if let (Some(ours), Some(r2d2)) = (
                find_multi(w2, ours_name, 4, threads),
                find_multi(w2, R2D2_CHECK, 4, threads),
            ) {
                worst_throughput =
                    worst_throughput.min(ours.result.ops_per_sec / r2d2.result.ops_per_sec);
                tail_ok &=
                    ours.result.latency.quantile(0.999) <= r2d2.result.latency.quantile(0.999);
                worst_jain = worst_jain.min(ours.result.jain());
            }
        }
        if worst_throughput.is_finite() {
            targets.push(Target {
                text: format!(
                    "W2, {label}: at least 3× r2d2's throughput at 8–32 threads, pool of 4"
                ),
                met: worst_throughput >= 3.0,
                measured: format!("worst {worst_throughput:.2}×"),
            });
            targets.push(Target {
                text: format!(
                    "W2, {label}: p99.9 get time no worse than r2d2's at 8–32 threads, pool of 4"
                ),
                met: tail_ok,
                measured: if tail_ok { "yes".into() } else { "no".into() },
            });
            targets.push(Target {
                text: format!("W2, {label}: Jain's index at least 0.9 at 8–32 threads, pool of 4"),
                met: worst_jain >= 0.9,
                measured: format!("worst {worst_jain:.3}"),
            });
        }
        if default {
            let mut worst = f64::INFINITY;
            for row in w2.iter().filter(|r| r.name == ours_name) {
                if let Some(r2d2) = find_multi(w2, R2D2_CHECK, row.max_size, row.threads) {
                    worst = worst.min(row.result.ops_per_sec / r2d2.result.ops_per_sec);
                }
            }
            if worst.is_finite() {
                targets.push(Target {
                    text: format!(
                        "W2, {label}: throughput not below r2d2's anywhere (1–32 threads, pools of 4 and 16)"
                    ),
                    met: worst >= 1.0,
                    measured: format!("worst {worst:.2}×"),
                });
            }
        }
    }
    if let (Some(floor), Some(ours)) = (find(w3, "floor: rusqlite, no pool"), find(w3, DBPOOL)) {
        let overhead = (ours.ns - floor.ns) / floor.ns;
        targets.push(Target {
            text: "W3: pool overhead under 25% of a cached SELECT 1".into(),
            met: overhead < 0.25,
            measured: format!("{:.0}%", overhead * 100.0),
        });
    }
    if let (Some(floor), Some(cursor)) = (
        find(w3, "floor: rusqlite, no pool"),
        find(w3, "dbpool + dbapi cursor"),
    ) {
        let ratio = cursor.ns / floor.ns;
        targets.push(Target {
            text: "W3: dbpool + DB-API cursor at most 1.5× the bare rusqlite query".into(),
            met: ratio <= 1.5,
            measured: format!("{ratio:.2}×"),
        });
    }
    for (server, w4) in w4 {
        let Some(w4) = w4 else { continue };
        if let (Some(ours), Some(fresh)) = (
            find_multi(w4, DBPOOL, 1, 1),
            find_multi(w4, "connection per request", 1, 1),
        ) {
            let ratio = ours.result.ops_per_sec / fresh.result.ops_per_sec;
            targets.push(Target {
                text: format!("W4 ({server}): pooled SELECT 1 at least 6× faster than a connection per request"),
                met: ratio >= 6.0,
                measured: format!("{ratio:.1}×"),
            });
        }
        if let (Some(autocommit), Some(transaction)) = (
            find_multi(w4, DBPOOL, 1, 1),
            find_multi(
                w4,
                "dbpool (DB-API transactions, rolled back on return)",
                1,
                1,
            ),
        ) {
            let ratio = transaction.result.ops_per_sec / autocommit.result.ops_per_sec;
            targets.push(Target {
                text: format!(
                    "W4 ({server}): a DB-API transaction at least 0.6× an autocommit SELECT 1"
                ),
                met: ratio >= 0.6,
                measured: format!("{ratio:.2}×"),
            });
        }
        for (callers, name) in [
            ("16 tasks", ASYNC_TASKS),
            ("16 threads in block_on", ASYNC_BLOCK_ON),
        ] {
            let (Some(sync), Some(async_pool)) =
                (find_multi(w4, DBPOOL, 16, 16), find_multi(w4, name, 16, 16))
            else {
                continue;
            };
            let ratio = async_pool.result.ops_per_sec / sync.result.ops_per_sec;
            targets.push(Target {
                text: format!(
                    "W5 ({server}): AsyncPool at least 0.8× the sync pool at 16 callers ({callers})"
                ),
                met: ratio >= 0.8,
                measured: format!("{ratio:.2}×"),
            });
            let tail = async_pool.result.latency.quantile(0.999);
            targets.push(Target {
                text: format!(
                    "W5 ({server}): AsyncPool p99.9 get time under 5 ms at 16 callers ({callers})"
                ),
                met: tail < 5_000_000,
                measured: if tail < 1_000_000 {
                    format!("{:.0} µs", tail as f64 / 1e3)
                } else {
                    format!("{:.1} ms", tail as f64 / 1e6)
                },
            });
        }
    }
    targets
}

pub fn targets_table(out: &mut String, targets: &[Target]) {
    let _ = writeln!(out, "### Targets\n");
    let _ = writeln!(out, "| target | measured | met |");
    let _ = writeln!(out, "|---|---:|:---:|");
    for t in targets {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            t.text,
            t.measured,
            if t.met { "yes" } else { "**no**" }
        );
    }
    out.push('\n');
}

/// A chart panel: its title and the figure it plots.
type Panel = (&'static str, fn(&Multi) -> f64);

const COLORS: [(&str, &str); 4] = [
    (DBPOOL, "#1f77b4"),
    (DBPOOL_FIFO, "#2ca02c"),
    (R2D2_CHECK, "#d62728"),
    (R2D2_NOCHECK, "#ff7f0e"),
];

/// Two panels (throughput, p99 get latency) against threads, one line per pool and size;
/// log scales.
pub fn svg(w2: &[Multi], caption: &str) -> String {
    let (width, height, margin) = (1000.0, 450.0, 60.0);
    let panel_w = (width - 3.0 * margin) / 2.0;
    let panel_h = height - 2.0 * margin - 30.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>"##
    );
    fn throughput(m: &Multi) -> f64 {
        m.result.ops_per_sec
    }
    fn p99_us(m: &Multi) -> f64 {
        m.result.latency.quantile(0.99) as f64 / 1000.0
    }
    let panels: [Panel; 2] = [
        ("throughput (get+return per second, log)", throughput),
        ("p99 time to get a connection (µs, log)", p99_us),
    ];
    for (p, (title, value)) in panels.iter().enumerate() {
        let x0 = margin + p as f64 * (panel_w + margin);
        let y0 = margin;
        let values: Vec<f64> = w2.iter().map(|m| value(m).max(1e-3)).collect();
        let lo = values
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .log10()
            .floor();
        let hi = values
            .iter()
            .copied()
            .fold(0.0_f64, f64::max)
            .log10()
            .ceil()
            .max(lo + 1.0);
        let y = |v: f64| y0 + panel_h - (v.max(1e-3).log10() - lo) / (hi - lo) * panel_h;
        let x = |i: usize| x0 + i as f64 / (THREADS.len() - 1) as f64 * panel_w;
        let _ = write!(
            s,
            r##"<text x="{x0}" y="{}" font-weight="bold">{title}</text>"##,
            y0 - 12.0
        );
        let _ = write!(
            s,
            r##"<rect x="{x0}" y="{y0}" width="{panel_w}" height="{panel_h}" fill="none" stroke="#999"/>"##
        );
        for decade in (lo as i32)..=(hi as i32) {
            let v = 10f64.powi(decade);
            let (x1, yv, tx, ty) = (x0 + panel_w, y(v), x0 - 4.0, y(v) + 4.0);
            let _ = write!(
                s,
                r##"<line x1="{x0}" x2="{x1}" y1="{yv}" y2="{yv}" stroke="#eee"/><text x="{tx}" y="{ty}" text-anchor="end">1e{decade}</text>"##
            );
        }
        for (i, t) in THREADS.iter().enumerate() {
            let _ = write!(
                s,
                r##"<text x="{}" y="{}" text-anchor="middle">{t}</text>"##,
                x(i),
                y0 + panel_h + 16.0
            );
        }
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle">threads</text>"##,
            x0 + panel_w / 2.0,
            y0 + panel_h + 32.0
        );
        for (name, color) in COLORS {
            for (max_size, dash) in [(4, ""), (16, "6,4")] {
                let points: Vec<String> = THREADS
                    .iter()
                    .enumerate()
                    .filter_map(|(i, &t)| {
                        find_multi(w2, name, max_size, t)
                            .map(|m| format!("{:.1},{:.1}", x(i), y(value(m))))
                    })
                    .collect();
                let _ = write!(
                    s,
                    r##"<polyline fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}" points="{}"/>"##,
                    points.join(" ")
                );
            }
        }
    }
    let mut lx = margin;
    let ly = height - 40.0;
    for (name, color) in COLORS {
        let _ = write!(
            s,
            r##"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="3"/><text x="{}" y="{}">{name}</text>"##,
            lx + 24.0,
            lx + 30.0,
            ly + 4.0
        );
        lx += 50.0 + 6.5 * name.chars().count() as f64;
    }
    let _ = write!(
        s,
        r##"<text x="{margin}" y="{}" fill="#444">solid: max_size 4, dashed: max_size 16. W2, get + return, no-op driver; {caption}</text>"##,
        ly + 24.0
    );
    s.push_str("</svg>\n");
    s
}
