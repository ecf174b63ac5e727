//! The crate boundaries that keep the decision core pure and the judge world-free hold for
//! the whole dependency tree, not just the direct dependencies: a crate that pulls in tokio
//! by the back door breaks them as surely as `use tokio`.

use std::collections::BTreeSet;
use std::process::Command;

/// Every package `package` depends on for its library (normal edges, transitively).
fn dependencies(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["-p", package])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != package)
        .map(str::to_string)
        .collect()
}

fn assert_free_of(package: &str, forbidden: &[&str]) {
    let deps = dependencies(package);
    let found: Vec<&&str> = forbidden.iter().filter(|f| deps.contains(**f)).collect();
    assert!(
        found.is_empty(),
        "{package} must not depend on {found:?}; its dependencies: {deps:?}"
    );
}

/// An async runtime, a simulator, a socket or a world.
const WORLDS: &[&str] = &["tokio", "turmoil", "mio", "socket2", "sim", "failover"];

#[test]
fn the_decision_core_has_no_runtime_and_no_io() {
    assert_free_of("failover-core", WORLDS);
}

#[test]
fn the_judge_and_the_scenario_format_know_no_world() {
    assert_free_of("judge", WORLDS);
    assert_free_of("scenario", WORLDS);
}

#[test]
fn the_check_sees_a_runtime_where_there_is_one() {
    // Without this, a broken `cargo tree` call would make the two tests above pass.
    assert!(dependencies("failover").contains("tokio"));
    assert!(dependencies("sim").contains("turmoil"));
}
