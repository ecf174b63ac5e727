//! A finding written down: the shrunk scenario as a file whose description says what failed
//! and how it was found, with the seed pinned, and proof that the file reproduces.

use std::path::{Path, PathBuf};

use super::verdict::{judge, FailedExpectation};
use crate::run::run;
use scenario::{self, Scenario, Status};

/// `<expectation>-<fault kinds>`, e.g. `max-lost-writes-kill-restart`: what failed and
/// what did it, readable in a directory listing.
pub fn name(expectation: &str, scenario: &Scenario) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for f in &scenario.faults {
        let kind = f.action.kind();
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds.truncate(3);
    let mut name = expectation.replace('_', "-");
    if kinds.is_empty() {
        name.push_str("-no-faults");
    }
    for k in kinds {
        name.push('-');
        name.push_str(k);
    }
    name
}

/// The shrunk scenario with its description (what failed, how it was found) and its status:
/// a known weakness, since failing is what makes it a finding, whatever the base said. The
/// reason names the expectation until a person who understands the failure rewrites it.
pub fn describe(
    shrunk: &Scenario,
    failed: &FailedExpectation,
    drawn_faults: usize,
    runs: usize,
) -> Scenario {
    let mut s = shrunk.clone();
    s.description = format!(
        "Found by `failover-sim explore --seeds {seed}..={seed}`: {}. Seed {seed} drew {drawn_faults} \
         faults; shrunk to {} in {runs} runs.",
        failed.message,
        s.faults.len(),
        seed = s.seed,
    );
    s.status = Status::KnownWeakness {
        reason: format!(
            "found by explore: {} fails ({})",
            failed.name, failed.message
        ),
    };
    s
}

/// Writes `scenario` to `dir/<name>-seed-<seed>.toml`; returns the path.
pub fn write(dir: &Path, name: &str, scenario: &Scenario) -> Result<PathBuf, String> {
    let text = scenario::to_toml(scenario).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}-seed-{}.toml", scenario.seed));
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Loads the written file and runs it at its pinned seed, as `failover-sim run` would:
/// whether `expectation` fails again (with every fault taking effect), and why not if not.
pub fn reproduces(path: &Path, expectation: &str) -> Result<(), String> {
    let scenario = scenario::load(path).map_err(|e| e.to_string())?;
    let verdict = judge(&run(&scenario, scenario.seed));
    if verdict.fails(expectation) {
        Ok(())
    } else {
        Err(format!("running it again gave {verdict:?}"))
    }
}
