//! False failovers: judged by the scenario's faults, not by anyone's detection.

use failover_core::event::Event;
use failover_core::plan::PlanKind;
use judge::checker::false_failovers::check;
use judge::fault_record::FaultRecord;
use judge::trace::TraceEvent;
use scenario::FaultAction;

fn plan_started(at_ms: u64, plan: u64, failed: &str) -> TraceEvent {
    TraceEvent {
        at_ms,
        source: "controller".into(),
        event: Event::PlanStarted {
            plan,
            kind: PlanKind::FailedRedis,
            failed: failed.into(),
            survivor: Some("redis2".into()),
        },
    }
}

fn record(index: usize, took_effect_ms: u64, healed_ms: Option<u64>) -> FaultRecord {
    FaultRecord {
        index,
        kind: String::new(),
        at_ms: took_effect_ms,
        took_effect_ms: Some(took_effect_ms),
        healed_ms,
        problem: None,
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn proxies() -> Vec<String> {
    names(&["haproxy1", "haproxy2"])
}

#[test]
fn a_failover_of_a_crashed_or_isolated_machine_is_not_false() {
    let trace = [plan_started(33_000, 1, "redis1")];
    let crash = [FaultAction::Crash {
        machine: "redis1".into(),
    }];
    assert_eq!(
        check(&trace, &[record(0, 30_000, None)], &crash, &proxies()).count,
        0
    );
    // Cut off from both proxies (and monit): no client reaches it.
    let isolated = [FaultAction::Partition {
        groups: vec![
            names(&["redis1"]),
            names(&["haproxy1", "haproxy2", "monit"]),
        ],
        heal_after: None,
    }];
    assert_eq!(
        check(&trace, &[record(0, 30_000, None)], &isolated, &proxies()).count,
        0
    );
}

#[test]
fn a_failover_of_a_machine_a_proxy_still_reaches_is_false() {
    let trace = [plan_started(60_000, 1, "redis1")];
    // monit alone is cut off.
    let monit_cut = [FaultAction::Partition {
        groups: vec![names(&["monit"]), names(&["redis1"])],
        heal_after: None,
    }];
    let found = check(
        &trace,
        &[record(0, 30_000, Some(90_000))],
        &monit_cut,
        &proxies(),
    );
    assert_eq!(found.count, 1);
    assert_eq!(found.plans[0].machine, "redis1");
    // haproxy2 still reaches it.
    let one_proxy = [FaultAction::Partition {
        groups: vec![names(&["haproxy1", "monit"]), names(&["redis1"])],
        heal_after: None,
    }];
    assert_eq!(
        check(&trace, &[record(0, 30_000, None)], &one_proxy, &proxies()).count,
        1
    );
    // A killed process restarted before the plan started.
    let kill_restart = [
        FaultAction::Kill {
            machine: "redis1".into(),
            process: "redis-9001".into(),
        },
        FaultAction::Restart {
            machine: "redis1".into(),
            process: "redis-9001".into(),
        },
    ];
    let records = [record(0, 30_000, None), record(1, 40_000, None)];
    assert_eq!(check(&trace, &records, &kill_restart, &proxies()).count, 1);
    // Before the restart, it was down.
    let early = [plan_started(35_000, 1, "redis1")];
    assert_eq!(check(&early, &records, &kill_restart, &proxies()).count, 0);
}

#[test]
fn a_healed_partition_no_longer_counts() {
    let trace = [plan_started(95_000, 1, "redis1")];
    let isolated = [FaultAction::Partition {
        groups: vec![names(&["redis1"]), names(&["haproxy1", "haproxy2"])],
        heal_after: None,
    }];
    assert_eq!(
        check(
            &trace,
            &[record(0, 30_000, Some(90_000))],
            &isolated,
            &proxies()
        )
        .count,
        1
    );
}
