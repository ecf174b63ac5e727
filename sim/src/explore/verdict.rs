//! What one run of a drawn scenario means to the explorer.
//!
//! A fault that never took effect is the *generator's* mistake (it drew a schedule the lab
//! cannot carry out): it is reported, not shrunk, and not counted as a finding. Only an
//! unmet expectation, with every fault having taken effect, is a finding.

use serde::Serialize;

use crate::run::RunResult;

/// The meaning of one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Every fault took effect and every expectation was met.
    Passed,
    /// Some fault never took effect (a generator bug); the messages say which and why.
    Ineffective { problems: Vec<String> },
    /// Every fault took effect and these expectations failed (the first one is the one the
    /// shrinker keeps failing).
    Failed {
        expectations: Vec<FailedExpectation>,
    },
}

/// One unmet `[expect]` bound.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailedExpectation {
    /// The `[expect]` key, e.g. `max_lost_writes`.
    pub name: String,
    /// e.g. `lost writes: 12 > allowed 0`.
    pub message: String,
}

/// The verdict on `result`.
pub fn judge(result: &RunResult) -> Verdict {
    if !result.summary.fault_problems.is_empty() {
        return Verdict::Ineffective {
            problems: result.summary.fault_problems.clone(),
        };
    }
    let failed: Vec<FailedExpectation> = result
        .expectations
        .iter()
        .filter(|e| !e.passed)
        .map(|e| FailedExpectation {
            name: e.name.clone(),
            message: e.message.clone(),
        })
        .collect();
    if failed.is_empty() {
        Verdict::Passed
    } else {
        Verdict::Failed {
            expectations: failed,
        }
    }
}

impl Verdict {
    /// Whether this verdict fails the expectation named `name` with every fault effective:
    /// the shrinker's test that a smaller schedule still fails "the same way".
    pub fn fails(&self, name: &str) -> bool {
        self.failed(name).is_some()
    }

    /// The failed expectation named `name`, if this verdict has it.
    pub fn failed(&self, name: &str) -> Option<&FailedExpectation> {
        match self {
            Verdict::Failed { expectations } => expectations.iter().find(|e| e.name == name),
            _ => None,
        }
    }
}
