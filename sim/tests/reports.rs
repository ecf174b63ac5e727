//! `reports/` must be what the code produces now, and every scenario's faults must fire.

use std::path::Path;

#[test]
fn reports_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let scenarios = root.join("scenarios");
    let files = sim::reports::scenario_files(&scenarios).expect("scenarios/ is readable");
    assert!(files.len() >= 10, "the seed cases and the weak spots");
    // Each scenario in its own thread: the runs are independent and the machine has cores.
    let generated: Vec<sim::reports::Generated> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .map(|f| s.spawn(move || sim::reports::generate(f).unwrap_or_else(|e| panic!("{e}"))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a scenario run panicked"))
            .collect()
    });
    let mut problems = Vec::new();
    for g in &generated {
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
    if std::fs::read_to_string(&index).ok() != Some(sim::reports::index(&generated)) {
        problems.push(format!("{} is stale", index.display()));
    }
    assert!(
        problems.is_empty(),
        "run `cargo run --release -p sim --bin failover-sim -- reports` to regenerate:\n{}",
        problems.join("\n")
    );
}
