//! The same scenarios in both worlds, the lab and real processes on loopback, must agree
//! within the comparison's tolerance (counts max(10 %, 2), times max(15 %, 1.5 s)).
//! Needs root (nftables) and redis-server, haproxy and nft: skipped, with a message
//! saying why, otherwise. Each scenario lasts at most 2 minutes of wall-clock time.

use std::sync::Mutex;

/// One real world at a time: they share the machine's two cores with the lab's run.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn both_worlds(file: &str) {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let path = format!(
        "{}/../scenarios/compare/{file}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let scenario = scenario::load(std::path::Path::new(&path)).expect("the scenario loads");
    if let Err(e) = sim::real::preflight::check(&scenario) {
        println!("skipped {file} in both worlds: {e}");
        return;
    }
    let lab = sim::run::run(&scenario, scenario.seed);
    let real = sim::real::run(&scenario, scenario.seed).expect("the real world runs");
    assert!(
        real.summary.fault_problems.is_empty(),
        "{:?}",
        real.summary.fault_problems
    );
    let c = sim::compare::compare(file, &lab, &real);
    let md = sim::compare::markdown(&c);
    println!("{md}");
    assert!(c.within, "the worlds disagree beyond the tolerance:\n{md}");
}

#[test]
fn master_machine_crash_agrees_in_both_worlds() {
    both_worlds("master-machine-crash");
}

#[test]
fn haproxy1_crash_agrees_in_both_worlds() {
    both_worlds("haproxy1-crash");
}

#[test]
fn monit_down_agrees_in_both_worlds() {
    both_worlds("monit-down");
}

#[test]
fn master_pause_agrees_in_both_worlds() {
    both_worlds("master-pause");
}
