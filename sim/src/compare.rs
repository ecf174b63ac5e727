//! `failover-sim compare`: one scenario, one seed, both worlds, side by side. For each
//! measure, the lab's figure, the real figure, the difference and whether it is within
//! the tolerance: counts within max(10 %, 2) of the lab's figure, times within
//! max(15 %, 1.5 s). A measure absent in one world and present in the other (a failover
//! never detected, redundancy never regained) is outside it.

use serde::{Deserialize, Serialize};

use crate::run::RunResult;
use judge::checker::Analysis;

/// A count or a time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Count,
    Ms,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub measure: String,
    pub unit: Unit,
    pub sim: Option<u64>,
    pub real: Option<u64>,
    /// real - sim, when both exist.
    pub difference: Option<i64>,
    /// The largest difference allowed.
    pub tolerance: u64,
    pub within: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    pub scenario: String,
    pub seed: u64,
    pub rows: Vec<Row>,
    pub within: bool,
    /// The lab's total split brain; the real world cannot measure it.
    #[serde(default)]
    pub lab_split_brain_ms: u64,
    /// Faults that never took effect, or a controller that could not start, per world.
    pub sim_failures: Vec<String>,
    pub real_failures: Vec<String>,
}

/// max(10 %, 2) for counts, max(15 %, 1.5 s) for times, of the lab's figure.
pub fn tolerance(unit: Unit, sim: u64) -> u64 {
    match unit {
        Unit::Count => (sim / 10).max(2),
        Unit::Ms => (sim * 15 / 100).max(1500),
    }
}

fn row(measure: String, unit: Unit, sim: Option<u64>, real: Option<u64>) -> Row {
    let tolerance = tolerance(unit, sim.unwrap_or(0));
    let difference = sim.zip(real).map(|(s, r)| r as i64 - s as i64);
    let within = match difference {
        Some(d) => d.unsigned_abs() <= tolerance,
        None => sim.is_none() && real.is_none(),
    };
    Row {
        measure,
        unit,
        sim,
        real,
        difference,
        tolerance,
        within,
    }
}

/// The measures of one analysis, by name.
fn measures(a: &Analysis) -> Vec<(String, Unit, Option<u64>)> {
    let mut m = vec![
        (
            "failed requests".to_string(),
            Unit::Count,
            Some(a.requests.total.failed),
        ),
        (
            "unknown requests".to_string(),
            Unit::Count,
            Some(a.requests.total.unknown),
        ),
        (
            "lost writes".to_string(),
            Unit::Count,
            Some(a.lost_writes.total),
        ),
    ];
    for (port, w) in &a.unavailability.per_port {
        m.push((
            format!("longest unavailability, port {port}"),
            Unit::Ms,
            Some(w.longest_ms),
        ));
    }
    for f in &a.faults {
        let name = |what: &str| format!("fault {} ({}): {what}", f.index, f.kind);
        m.push((name("detection"), Unit::Ms, f.detection_ms));
        m.push((
            name("first write through the app"),
            Unit::Ms,
            f.first_ok_write_ms,
        ));
        m.push((name("full redundancy"), Unit::Ms, f.redundancy_ms));
    }
    // Split brain is not compared: the lab sees it in its models' "write accepted as
    // master" events, which real redis does not emit, so the real world's 0 would agree
    // with anything.
    m
}

pub fn compare(scenario: &str, sim: &RunResult, real: &RunResult) -> Comparison {
    let real_measures = measures(&real.analysis);
    let mut rows: Vec<Row> = measures(&sim.analysis)
        .into_iter()
        .map(|(name, unit, s)| {
            let r = real_measures
                .iter()
                .find(|(n, _, _)| *n == name)
                .and_then(|(_, _, v)| *v);
            row(name, unit, s, r)
        })
        .collect();
    // A port only one world saw unavailable.
    for (name, unit, r) in &real_measures {
        if !rows.iter().any(|row| row.measure == *name) {
            rows.push(row(name.clone(), *unit, Some(0), *r));
        }
    }
    let within = rows.iter().all(|r| r.within);
    Comparison {
        scenario: scenario.to_string(),
        seed: sim.seed,
        within,
        rows,
        lab_split_brain_ms: sim.analysis.split_brain.total_ms,
        sim_failures: sim.summary.fault_problems.clone(),
        real_failures: real.summary.fault_problems.clone(),
    }
}

impl Comparison {
    /// A comparison saved by `compare`, read back to rebuild its markdown and the index
    /// without running again. Files saved before split brain left the comparison still
    /// hold its row: it is taken out, and the lab's figure kept.
    pub fn load(path: &std::path::Path) -> Result<Comparison, String> {
        let bytes = scenario::input::read_limited(path, 16 << 20)
            .map_err(|why| format!("{}: {}", path.display(), why.about("a comparison")))?;
        let mut c: Comparison = serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "{}: not a comparison written by compare: {e}",
                path.display()
            )
        })?;
        if let Some(i) = c.rows.iter().position(|r| r.measure == "split brain") {
            c.lab_split_brain_ms = c.rows.remove(i).sim.unwrap_or(0);
        }
        c.within = c.rows.iter().all(|r| r.within);
        Ok(c)
    }
}

fn show(unit: Unit, v: Option<u64>) -> String {
    match (unit, v) {
        (_, None) => "—".into(),
        (Unit::Count, Some(v)) => v.to_string(),
        (Unit::Ms, Some(v)) => format!("{:.1} s", v as f64 / 1000.0),
    }
}

fn show_diff(unit: Unit, d: Option<i64>) -> String {
    match (unit, d) {
        (_, None) => "—".into(),
        (Unit::Count, Some(d)) => format!("{d:+}"),
        (Unit::Ms, Some(d)) => format!("{:+.1} s", d as f64 / 1000.0),
    }
}

pub fn markdown(c: &Comparison) -> String {
    let mut s = format!(
        "# Lab and real world: {} (seed {})\n\n{}\n\nTolerance: counts within max(10 %, 2) of the lab's figure, times within max(15 %, 1.5 s); a measure present in one world only is outside it. Split brain is not compared: real redis does not say which writes it accepted as master, so the real world cannot measure it (lab: {}).\n\n| measure | lab | real | difference | tolerance | within |\n| --- | --- | --- | --- | --- | --- |\n",
        c.scenario,
        c.seed,
        if c.within { "**All measures within tolerance.**".to_string() } else {
            format!("**{} of {} measures outside tolerance.**", c.rows.iter().filter(|r| !r.within).count(), c.rows.len())
        },
        show(Unit::Ms, Some(c.lab_split_brain_ms)),
    );
    s.insert_str(
        s.find("| measure |").unwrap_or(s.len()),
        &format!(
            "The real world's reports are in [real/](real/report.md); the lab's run is deterministic: `failover-sim run SCENARIO --seed {}` writes it.\n\n",
            c.seed
        ),
    );
    for r in &c.rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | ±{} | {} |\n",
            r.measure,
            show(r.unit, r.sim),
            show(r.unit, r.real),
            show_diff(r.unit, r.difference),
            show(r.unit, Some(r.tolerance)),
            if r.within { "yes" } else { "**no**" }
        ));
    }
    for (world, f) in [("lab", &c.sim_failures), ("real", &c.real_failures)] {
        for p in f.iter() {
            s.push_str(&format!("\n{world}: {p}\n"));
        }
    }
    s
}

/// One row's figures as "lab / real".
fn pair(c: &Comparison, measure: impl Fn(&str) -> bool) -> String {
    let rows: Vec<&Row> = c.rows.iter().filter(|r| measure(&r.measure)).collect();
    let Some(unit) = rows.first().map(|r| r.unit) else {
        return "—".into();
    };
    // Several rows (ports, faults): the largest of each world.
    let most = |f: fn(&Row) -> Option<u64>| rows.iter().filter_map(|r| f(r)).max();
    format!(
        "{} / {}",
        show(unit, most(|r| r.sim)),
        show(unit, most(|r| r.real))
    )
}

/// `reports/compare/README.md`: one line per scenario, the headline figures of both
/// worlds and the measures outside the tolerance.
pub fn index(all: &[(scenario::Status, Comparison)], skipped: &[(String, String)]) -> String {
    let mut s = String::from(
        "# The lab and the real world, side by side\n\n\
         Every scenario in `scenarios/` at its pinned seed, run in the turmoil lab and on real\n\
         redis-server and haproxy processes on loopback (`failover-sim compare`; needs root).\n\
         Figures are lab / real. Tolerance: counts within max(10 %, 2) of the lab's figure,\n\
         times within max(15 %, 1.5 s). Split brain is not compared (real redis does not\n\
         say which writes it accepted as master). Real runs take wall-clock time and vary from run to\n\
         run, so this index is regenerated by hand, not checked by a test:\n\
         `failover-sim compare scenarios/*.toml --out reports/compare`.\n\n\
         | scenario | status | within | lost writes | failed requests | unknown requests | longest unavailability | full redundancy | outside tolerance |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for (status, c) in all {
        let outside: Vec<&str> = c
            .rows
            .iter()
            .filter(|r| !r.within)
            .map(|r| r.measure.as_str())
            .collect();
        let within = c.rows.len() - outside.len();
        s.push_str(&format!(
            "| [{name}]({name}/compare.md) | {} | {within} of {} | {} | {} | {} | {} | {} | {} |\n",
            status.name(),
            c.rows.len(),
            pair(c, |m| m == "lost writes"),
            pair(c, |m| m == "failed requests"),
            pair(c, |m| m == "unknown requests"),
            pair(c, |m| m.starts_with("longest unavailability")),
            pair(c, |m| m.ends_with("full redundancy")),
            if outside.is_empty() {
                "—".to_string()
            } else {
                outside.join("; ")
            },
            name = c.scenario,
        ));
    }
    if !skipped.is_empty() {
        s.push_str("\nNot run in the real world:\n\n");
        for (name, why) in skipped {
            s.push_str(&format!("- {name}: {why}\n"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_are_the_stated_ones() {
        assert_eq!(tolerance(Unit::Count, 0), 2);
        assert_eq!(tolerance(Unit::Count, 100), 10);
        assert_eq!(tolerance(Unit::Ms, 1000), 1500);
        assert_eq!(tolerance(Unit::Ms, 60_000), 9000);
        assert!(row("x".into(), Unit::Count, Some(10), Some(12)).within);
        assert!(!row("x".into(), Unit::Count, Some(10), Some(13)).within);
        assert!(!row("x".into(), Unit::Ms, Some(10_000), None).within);
        assert!(row("x".into(), Unit::Ms, None, None).within);
    }
}
