//! `reports/` must be what the code produces now, every scenario's faults must fire, and
//! every scenario in `scenarios/` and `scenarios/found/` must do what its status says.
//!
//! Both tests read the same runs, made once per directory: a run of every scenario is most
//! of this test binary's time, and twice would be twice the CI minutes.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sim::reports::Generated;

fn root() -> PathBuf {
    let sim = Path::new(env!("CARGO_MANIFEST_DIR"));
    sim.parent().unwrap_or(sim).to_path_buf()
}

/// Every scenario in `dir` run at its pinned seed, each in its own thread: the runs are
/// independent and the machine has cores.
fn generate_all(dir: &Path) -> Vec<Generated> {
    let files = sim::reports::scenario_files(dir)
        .unwrap_or_else(|e| panic!("{} is not readable: {e}", dir.display()));
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .map(|f| s.spawn(move || sim::reports::generate(f).unwrap_or_else(|e| panic!("{e}"))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a scenario run panicked"))
            .collect()
    })
}

fn scenarios() -> &'static [Generated] {
    static RUNS: OnceLock<Vec<Generated>> = OnceLock::new();
    RUNS.get_or_init(|| generate_all(&root().join("scenarios")))
}

fn found() -> &'static [Generated] {
    static RUNS: OnceLock<Vec<Generated>> = OnceLock::new();
    RUNS.get_or_init(|| generate_all(&root().join("scenarios/found")))
}

#[test]
fn reports_are_current() {
    let root = root();
    let generated = scenarios();
    assert!(generated.len() >= 10, "the seed cases and the weak spots");
    let mut problems = Vec::new();
    for g in generated {
        for p in &g.result.summary.fault_problems {
            problems.push(format!("{}: {p}", g.stem));
        }
        for (rel, contents) in &g.files {
            let path = root.join("reports").join(rel);
            if std::fs::read_to_string(&path).ok().as_deref() != Some(contents.as_str()) {
                problems.push(format!("{} is stale", path.display()));
            }
        }
    }
    let index = root.join("reports/README.md");
    if std::fs::read_to_string(&index).ok() != Some(sim::reports::index(generated)) {
        problems.push(format!("{} is stale", index.display()));
    }
    assert!(
        problems.is_empty(),
        "run `cargo run --release -p sim --bin failover-sim -- reports` to regenerate:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_scenario_keeps_its_status() {
    // found/ first: its runs then overlap with the other test's runs of scenarios/.
    let found = found();
    let scenarios = scenarios();
    assert!(
        !found.is_empty(),
        "scenarios/found/ holds explore's findings"
    );
    let mismatches: Vec<String> = scenarios
        .iter()
        .chain(found)
        .filter_map(sim::reports::status_mismatch)
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} scenarios do not do what their status says:\n{}",
        mismatches.len(),
        scenarios.len() + found.len(),
        mismatches.join("\n")
    );
}
