//! One seed's exploration: draw, run, judge; for a finding, shrink, write and re-run the
//! written file.

use serde::Serialize;

use super::finding;
use super::generate::{generate, GenOptions};
use super::options::ExploreOptions;
use super::shrink::shrink;
use super::verdict::{judge, Verdict};
use crate::run::run;

/// What one seed gave.
#[derive(Clone, Debug, Serialize)]
pub struct SeedReport {
    pub seed: u64,
    /// The drawn faults' kinds, in time order.
    pub drawn: Vec<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// For a failed run: the shrunk case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<Finding>,
    /// The seed could not be explored at all (bad options).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A shrunk failing case.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// The expectation the shrinker kept failing.
    pub expectation: String,
    /// How it failed in the shrunk run's re-run, or in the drawn run.
    pub message: String,
    pub drawn_faults: usize,
    pub shrunk_faults: usize,
    /// Shrinking runs of the lab spent, and the changes they kept.
    pub shrink_runs: usize,
    pub shrink_steps: Vec<String>,
    /// The scenario file written, absent if writing failed (see `error`).
    pub file: Option<String>,
    pub reproduce: Option<String>,
    /// Whether running the written file again failed the same expectation.
    pub reproduced: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Explores `seed`.
pub fn explore_seed(seed: u64, options: &ExploreOptions) -> SeedReport {
    let gen = GenOptions {
        base: options.base.clone(),
        draw_settings: options.draw_settings,
        max_faults: options.max_faults,
    };
    let drawn = match generate(seed, &gen) {
        Ok(s) => s,
        Err(e) => {
            return SeedReport {
                seed,
                drawn: Vec::new(),
                verdict: Verdict::Passed,
                finding: None,
                error: Some(e),
            }
        }
    };
    let kinds = drawn
        .faults
        .iter()
        .map(|f| f.action.kind().to_string())
        .collect();
    let verdict = judge(&run(&drawn, seed));
    let finding = match &verdict {
        Verdict::Failed { expectations } => expectations.first().map(|first| {
            // The message of the last candidate that still failed is the shrunk case's own
            // (accepted candidates are exactly those, and the last one is kept).
            let mut failed = first.clone();
            let shrunk = shrink(&drawn, options.shrink_budget, |candidate| {
                let verdict = judge(&run(candidate, seed));
                match verdict.failed(&first.name) {
                    Some(e) => {
                        failed = e.clone();
                        true
                    }
                    None => false,
                }
            });
            let described =
                finding::describe(&shrunk.scenario, &failed, drawn.faults.len(), shrunk.runs);
            let name = finding::name(&first.name, &described);
            let mut f = Finding {
                expectation: first.name.clone(),
                message: failed.message.clone(),
                drawn_faults: drawn.faults.len(),
                shrunk_faults: described.faults.len(),
                shrink_runs: shrunk.runs,
                shrink_steps: shrunk.steps,
                file: None,
                reproduce: None,
                reproduced: false,
                error: None,
            };
            match finding::write(&options.out, &name, &described) {
                Ok(path) => {
                    f.file = Some(path.display().to_string());
                    f.reproduce = Some(crate::reproduce::run_command(path.as_os_str(), None));
                    match finding::reproduces(&path, &first.name) {
                        Ok(()) => f.reproduced = true,
                        Err(e) => f.error = Some(e),
                    }
                }
                Err(e) => f.error = Some(e),
            }
            f
        }),
        _ => None,
    };
    SeedReport {
        seed,
        drawn: kinds,
        verdict,
        finding,
        error: None,
    }
}
