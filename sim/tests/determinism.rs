//! Determinism: the same scenario and seed give byte-identical histories and traces, in one
//! process and in two; different seeds give different runs.

use std::path::Path;
use std::process::Command;

use sim::run::{history_jsonl, run, trace_jsonl};

/// Exercises every kind of fault the lab can apply without a controller.
const MIXED: &str = r#"
description = "a bit of everything"
status = "must-pass"
duration = "50s"
seed = 5

[workload]
start = "6s"

[[faults]]
at = "10s"
kind = "kill"
machine = "redis1"
process = "redis-9002"

[[faults]]
at = "14s"
kind = "restart"
machine = "redis1"
process = "redis-9002"

[[faults]]
at = "12s"
kind = "pause"
machine = "haproxy2"
process = "haproxy"
for = "2s"

[[faults]]
at = "15s"
kind = "loss"
between = [["app"], ["haproxy1"]]
rate = 0.2
heal_after = "10s"

[[faults]]
at = "18s"
kind = "latency"
between = [["haproxy1"], ["redis1"]]
latency = "150ms"
heal_after = "8s"

[[faults]]
at = "22s"
kind = "partition-oneway"
from = ["redis1"]
to = ["redis2"]
heal_after = "6s"

[[faults]]
at = "30s"
kind = "partition"
groups = [["haproxy1"], ["redis1", "redis2"]]
heal_after = "5s"

[[faults]]
at = "38s"
kind = "crash"
machine = "haproxy2"
"#;

fn mixed() -> scenario::Scenario {
    scenario::parse(MIXED, "mixed.toml").expect("the test scenario parses")
}

fn outputs(seed: u64) -> (String, String) {
    let r = run(&mixed(), seed);
    assert!(
        r.summary.fault_problems.is_empty(),
        "every fault must take effect: {:?}",
        r.summary.fault_problems
    );
    (history_jsonl(&r.history), trace_jsonl(&r.trace))
}

#[test]
fn same_seed_same_bytes_in_one_process() {
    let (h1, t1) = outputs(5);
    let (h2, t2) = outputs(5);
    assert!(h1.lines().count() > 1000, "the workload ran");
    assert!(t1.contains("\"event\":\"fault-took-effect\""));
    assert_eq!(h1, h2, "histories differ");
    assert_eq!(t1, t2, "traces differ");
}

#[test]
fn different_seeds_differ() {
    let (h1, _) = outputs(5);
    let (h2, _) = outputs(6);
    assert_ne!(h1, h2);
}

#[test]
fn same_seed_same_bytes_in_two_processes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = dir.path().join("mixed.toml");
    std::fs::write(&file, MIXED).expect("write the scenario");
    twice_in_two_processes(&file, dir.path());
}

/// The full failover path too: controller, EC2, a replacement machine.
#[test]
fn a_failover_is_the_same_in_two_processes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/master-machine-crash.toml");
    twice_in_two_processes(&file, dir.path());
}

fn twice_in_two_processes(file: &Path, dir: &Path) {
    let run_once = |out: &Path| {
        let status = Command::new(env!("CARGO_BIN_EXE_failover-sim"))
            .arg("run")
            .arg(file)
            .args(["--seed", "9", "--out"])
            .arg(out)
            .output()
            .expect("failover-sim runs");
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let stdout = String::from_utf8_lossy(&status.stdout).into_owned();
        assert!(stdout.contains("seed      9"), "prints the seed: {stdout}");
        assert!(
            stdout.contains("--seed 9"),
            "prints how to reproduce: {stdout}"
        );
    };
    let (a, b) = (dir.join("a"), dir.join("b"));
    run_once(&a);
    run_once(&b);
    for f in ["history.jsonl", "trace.jsonl", "summary.json"] {
        let x = std::fs::read(a.join(f)).expect("first run's file");
        let y = std::fs::read(b.join(f)).expect("second run's file");
        assert!(!x.is_empty());
        assert!(x == y, "{f} differs between two processes");
    }
}
