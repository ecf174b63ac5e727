//! Hostile input to the command line: every number bounded, every exit clean, nothing
//! lost. Flags out of range, outputs that are not directories, inputs that are FIFOs or
//! devices, sweep.json files that lie, scenario paths no shell or XML parser expects, a
//! sweep stopped by SIGTERM. Every command here must end quickly, with a clear message,
//! never a panic or a hang (each runs under a deadline and is killed past it).

const TINY: &str = r#"
description = "tiny: redis1's replica process on 9002 is killed and restarted"
duration = "20s"
seed = 1

[workload]
start = "2s"

[[faults]]
at = "6s"
kind = "kill"
machine = "redis1"
process = "redis-9002"

[[faults]]
at = "9s"
kind = "restart"
machine = "redis1"
process = "redis-9002"
"#;

#[test]
fn a_second_kill_of_a_killed_process_says_it_had_no_effect() {
    let text = TINY.replace(
        "[[faults]]\nat = \"9s\"",
        "[[faults]]\nat = \"6s\"\nkind = \"kill\"\nmachine = \"redis1\"\nprocess = \"redis-9002\"\n\n[[faults]]\nat = \"9s\"",
    );
    let scenario = scenario::parse(&text, "twice.toml").unwrap();
    let result = sim::run::run(&scenario, 1);
    assert!(result.summary.faults[0].took_effect_ms.is_some());
    assert_eq!(
        result.summary.fault_problems,
        vec![
            "fault 1 (kill) scheduled at 6s never took effect: kill redis-9002 on redis1 had \
             no effect: it was not running (fault 0 killed it at 6s)"
                .to_string()
        ]
    );
}
