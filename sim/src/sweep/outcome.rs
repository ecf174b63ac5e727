//! One (scenario, seed) of a sweep: passed or why not, its figures, and the command that
//! reproduces it.

use serde::{Deserialize, Serialize};

use super::figures::Figures;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedOutcome {
    /// The scenario file as it was given on the command line.
    pub scenario: String,
    pub seed: u64,
    pub passed: bool,
    /// Why the seed failed: the run's failures (faults that never took effect,
    /// expectations not met), or a panic, a non-zero exit, a timeout.
    pub failures: Vec<String>,
    /// Absent when the run produced none (it panicked or timed out).
    pub figures: Option<Figures>,
    /// The one command that runs this seed again, alone.
    pub reproduce: String,
    /// The child process's peak resident memory; for the benchmark only, never written,
    /// since it differs from one machine to the next.
    #[serde(skip)]
    pub peak_rss_kb: Option<u64>,
}

impl SeedOutcome {
    pub fn new(scenario: &str, seed: u64, failures: Vec<String>, figures: Option<Figures>) -> Self {
        SeedOutcome {
            scenario: scenario.to_string(),
            seed,
            passed: failures.is_empty(),
            failures,
            figures,
            reproduce: reproduce(scenario, seed),
            peak_rss_kb: None,
        }
    }
}

/// Quoted for a shell (see [`crate::reproduce`]); `merge` rebuilds it rather than trust
/// the one a file holds.
pub fn reproduce(scenario: &str, seed: u64) -> String {
    crate::reproduce::run_command(std::ffi::OsStr::new(scenario), Some(seed))
}
