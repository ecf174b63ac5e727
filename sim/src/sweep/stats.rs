//! Per-scenario statistics of a sweep, computed from the per-seed figures alone, so that
//! `merge` gets exactly what one unsharded sweep would have printed.

use serde::{Deserialize, Serialize};

use super::outcome::SeedOutcome;

/// Nearest-rank percentiles: each is one of the observed values, so they are whole
/// numbers and the same on every machine (the median of an even count is the lower one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spread {
    pub min: u64,
    pub median: u64,
    pub p99: u64,
    pub max: u64,
}

impl Spread {
    /// `None` for no values.
    pub fn of(mut values: Vec<u64>) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let rank = |p: f64| {
            let r = (p * values.len() as f64).ceil() as usize;
            values[r.clamp(1, values.len()) - 1]
        };
        Some(Spread {
            min: values[0],
            median: rank(0.5),
            p99: rank(0.99),
            max: values[values.len() - 1],
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioStats {
    pub scenario: String,
    pub seeds: u64,
    pub passed: u64,
    pub failed: u64,
    /// Seeds that produced no figures (panicked, timed out): left out of the spreads.
    pub without_figures: u64,
    pub lost_writes: Option<Spread>,
    pub failed_requests: Option<Spread>,
    pub longest_unavailability_ms: Option<Spread>,
    /// Over the seeds that recovered; the others are counted in `not_recovered`.
    pub recovery_ms: Option<Spread>,
    /// Seeds with figures but no recovery time (redundancy never came back, or no fault
    /// took effect).
    pub not_recovered: u64,
}

/// One entry per scenario, in the order of `results` (which the sweep sorts by scenario).
pub fn per_scenario(results: &[SeedOutcome]) -> Vec<ScenarioStats> {
    let mut names: Vec<&str> = results.iter().map(|r| r.scenario.as_str()).collect();
    names.dedup();
    names.into_iter().map(|n| one(n, results)).collect()
}

fn one(scenario: &str, results: &[SeedOutcome]) -> ScenarioStats {
    let mine: Vec<&SeedOutcome> = results.iter().filter(|r| r.scenario == scenario).collect();
    let figures: Vec<_> = mine.iter().filter_map(|r| r.figures.clone()).collect();
    let passed = mine.iter().filter(|r| r.passed).count() as u64;
    ScenarioStats {
        scenario: scenario.to_string(),
        seeds: mine.len() as u64,
        passed,
        failed: mine.len() as u64 - passed,
        without_figures: (mine.len() - figures.len()) as u64,
        lost_writes: Spread::of(figures.iter().map(|f| f.lost_writes).collect()),
        failed_requests: Spread::of(figures.iter().map(|f| f.failed_requests).collect()),
        longest_unavailability_ms: Spread::of(
            figures
                .iter()
                .map(|f| f.longest_unavailability_ms)
                .collect(),
        ),
        recovery_ms: Spread::of(figures.iter().filter_map(|f| f.recovery_ms).collect()),
        not_recovered: figures.iter().filter(|f| f.recovery_ms.is_none()).count() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::Spread;

    #[test]
    fn nearest_rank() {
        let s = Spread::of((1..=100).collect()).unwrap();
        assert_eq!((s.min, s.median, s.p99, s.max), (1, 50, 99, 100));
        let s = Spread::of(vec![7]).unwrap();
        assert_eq!((s.min, s.median, s.p99, s.max), (7, 7, 7, 7));
        assert_eq!(Spread::of(vec![]), None);
    }
}
