//! The side-by-side table: per scenario and variant, each measure at the pinned seed and
//! as median / max over the swept seeds; as markdown for people and JSON for machines.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::VariantFile;
use crate::sweep::figures::Figures;
use crate::sweep::outcome::SeedOutcome;
use crate::sweep::stats::Spread;

/// One measure: at the pinned seed, and over the swept seeds that produced figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Measure {
    pub pinned: Option<u64>,
    pub median: Option<u64>,
    pub max: Option<u64>,
    /// Runs where the measure has no value (redundancy never came back).
    pub never: u64,
}

impl Measure {
    fn of(
        pinned: Option<&Figures>,
        swept: &[&Figures],
        value: impl Fn(&Figures) -> Option<u64>,
    ) -> Self {
        let values: Vec<u64> = swept.iter().filter_map(|f| value(f)).collect();
        let never = (swept.len() - values.len()) as u64;
        let spread = Spread::of(values);
        Measure {
            pinned: pinned.and_then(&value),
            median: spread.map(|s| s.median),
            max: spread.map(|s| s.max),
            never,
        }
    }
}

/// One scenario under one variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub scenario: String,
    pub policy: String,
    pub pinned_seed: u64,
    /// Swept seeds that produced no figures (panicked, timed out).
    pub without_figures: u64,
    pub lost_writes: Measure,
    pub failed_requests: Measure,
    pub unknown_requests: Measure,
    /// App port → its longest unavailability, ms.
    pub unavailability_per_port_ms: BTreeMap<u16, Measure>,
    pub false_failovers: Measure,
    pub split_brain_ms: Measure,
    /// From the first fault to full redundancy, ms.
    pub recovery_ms: Measure,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyTable {
    /// The swept seeds, as given.
    pub seeds: String,
    pub rows: Vec<Row>,
}

/// Aggregates the sweep's `results` by variant file; `seeds` are the swept ones (the
/// spreads cover them; a pinned seed outside them counts only as pinned).
pub fn build(
    files: &[VariantFile],
    results: &[SeedOutcome],
    seeds: &[u64],
    label: &str,
) -> PolicyTable {
    let rows = files
        .iter()
        .map(|f| {
            let path = crate::sweep::scenario_name(&f.path.to_string_lossy());
            let mine: Vec<&SeedOutcome> = results.iter().filter(|r| r.scenario == path).collect();
            let pinned = mine
                .iter()
                .find(|r| r.seed == f.pinned_seed)
                .and_then(|r| r.figures.as_ref());
            let swept: Vec<&Figures> = mine
                .iter()
                .filter(|r| seeds.contains(&r.seed))
                .filter_map(|r| r.figures.as_ref())
                .collect();
            let without = mine.iter().filter(|r| seeds.contains(&r.seed)).count() - swept.len();
            let m = |value: &dyn Fn(&Figures) -> Option<u64>| Measure::of(pinned, &swept, value);
            let ports: Vec<u16> = swept
                .iter()
                .chain(pinned.iter())
                .flat_map(|f| f.unavailability_per_port_ms.keys().copied())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            Row {
                scenario: f.scenario.clone(),
                policy: f.variant.label.to_string(),
                pinned_seed: f.pinned_seed,
                without_figures: without as u64,
                lost_writes: m(&|f| Some(f.lost_writes)),
                failed_requests: m(&|f| Some(f.failed_requests.saturating_sub(f.unknown_requests))),
                unknown_requests: m(&|f| Some(f.unknown_requests)),
                unavailability_per_port_ms: ports
                    .iter()
                    .map(|p| {
                        let port = *p;
                        (
                            port,
                            m(&move |f| f.unavailability_per_port_ms.get(&port).copied()),
                        )
                    })
                    .collect(),
                false_failovers: m(&|f| Some(f.false_failovers)),
                split_brain_ms: m(&|f| Some(f.split_brain_ms)),
                recovery_ms: m(&|f| f.recovery_ms),
            }
        })
        .collect();
    PolicyTable {
        seeds: label.to_string(),
        rows,
    }
}

fn count(m: &Measure) -> String {
    let v = |x: Option<u64>| x.map_or("-".to_string(), |x| x.to_string());
    format!("{} · {} · {}", v(m.pinned), v(m.median), v(m.max))
}

fn time(m: &Measure) -> String {
    let v = |x: Option<u64>| x.map_or("never".to_string(), |x| format!("{:.1}", x as f64 / 1000.0));
    let mut s = format!("{} · {} · {}", v(m.pinned), v(m.median), v(m.max));
    if m.never > 0 && m.median.is_some() {
        let _ = write!(s, " ({} never)", m.never);
    }
    s
}

/// `reports/policies.md`: the table, then `notes` (hand-written: why a target is missed).
pub fn markdown(t: &PolicyTable, notes: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# The seed's design and the safe policy, side by side\n\n\
         Generated by `failover-sim policies --seeds {}` (do not edit; the notes below come \
         from `reports/policies-notes.md`). Every scenario in `scenarios/` runs under three \
         designs: the seed as written with Debian's 120 s monit cycle, the seed with a tuned \
         10 s cycle, and the safe policy (the default); see `sim/src/policies/mod.rs` for \
         what changes between them. Each cell is **pinned seed · median · max** over seeds \
         {}; times in seconds, from the first fault for full redundancy. Lost writes are \
         acknowledged writes missing at the end; failed requests exclude those whose outcome \
         is unknown, which have their own column; a false failover replaced a redis machine \
         that was serving; split brain is the longest time two masters of a port took writes.\n",
        t.seeds, t.seeds
    );
    let _ = writeln!(
        s,
        "| scenario | design | lost writes | failed | unknown | longest unavailability per app port (s) | false failovers | split brain (s) | full redundancy (s) |"
    );
    let _ = writeln!(s, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in &t.rows {
        let ports: Vec<String> = r
            .unavailability_per_port_ms
            .iter()
            .map(|(p, m)| format!("{p}: {}", time(m)))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.scenario,
            r.policy,
            count(&r.lost_writes),
            count(&r.failed_requests),
            count(&r.unknown_requests),
            ports.join("<br>"),
            count(&r.false_failovers),
            time(&r.split_brain_ms),
            time(&r.recovery_ms),
        );
    }
    let without: u64 = t.rows.iter().map(|r| r.without_figures).sum();
    if without > 0 {
        let _ = writeln!(
            s,
            "\n{without} swept runs produced no figures (panicked or timed out) and are left out."
        );
    }
    if !notes.trim().is_empty() {
        let _ = write!(s, "\n{}", notes.trim_end());
        s.push('\n');
    }
    s
}
