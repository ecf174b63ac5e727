//! The seed profile's detection: monit's cycle, tests one after another with a connect
//! timeout each, `fail_count` cycles in a row, the next cycle an interval after the last
//! answer. Played against a world where each poll takes time to answer.

use std::collections::{BTreeMap, BTreeSet};

use failover_core::config::{ControllerConfig, Deployment, PollOrder};
use failover_core::controller::{Action, Controller};
use failover_core::detection::ANSWER_GRACE_MS;
use failover_core::error::ServerError;
use failover_core::event::Event;
use failover_core::layout::{Layout, MachineInfo, MachineRole};
use failover_core::observation::{Observation, RedisStatus};
use proptest::prelude::*;

const MACHINES: [&str; 4] = ["haproxy1", "haproxy2", "redis1", "redis2"];

fn deployment() -> Deployment {
    let m = |name: &str| MachineInfo {
        name: name.into(),
        addr: format!("addr-{name}"),
        role: if name.starts_with("redis") {
            MachineRole::Redis
        } else {
            MachineRole::Haproxy
        },
        instance_id: Some(format!("i-{name}")),
    };
    Deployment {
        layout: Layout::seed("addr-app"),
        machines: MACHINES.iter().map(|n| m(n)).collect(),
        masters: [(9001, "redis1".to_string()), (9002, "redis1".to_string())].into(),
        app_slots: BTreeMap::new(),
    }
}

fn config(interval_ms: u64) -> ControllerConfig {
    let c = ControllerConfig {
        interval_ms,
        ..ControllerConfig::seed_profile()
    };
    assert_eq!(c.polls, PollOrder::OneAfterAnother);
    c
}

/// How the world answers a poll of a machine.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Answer {
    /// At once, well.
    Healthy,
    /// After the poll's timeout, with a timeout error (a silent machine).
    Silent,
    /// Never: the answer is lost on the way.
    Lost,
}

/// What a run saw: each poll's send time with its machine, each `MachineFailed` with its
/// time, and the most polls ever awaiting an answer at once.
struct Run {
    polls: Vec<(u64, String)>,
    failed: Vec<(u64, String)>,
    most_outstanding: usize,
}

/// Runs the controller against `world` until `until_ms`, waking it at its deadlines and
/// feeding each answer when it is due.
fn run(c: &mut Controller, world: &BTreeMap<String, Answer>, until_ms: u64) -> Run {
    let timeout = c.config().poll_timeout_ms;
    let mut out = Run {
        polls: Vec::new(),
        failed: Vec::new(),
        most_outstanding: 0,
    };
    // Answers due: (time, observation).
    let mut due: Vec<(u64, Observation)> = Vec::new();
    let mut now = 0;
    while now <= until_ms {
        let actions = match due.iter().position(|(at, _)| *at <= now) {
            Some(i) => {
                let (_, o) = due.remove(i);
                c.handle(now, o)
            }
            None => c.handle_timeout(now),
        };
        for a in actions {
            let (machine, obs) = match a {
                Action::PollRedis { machine, port, .. } => {
                    let ok = world[&machine] == Answer::Healthy;
                    let result = if ok {
                        Ok(RedisStatus::Master { offset: 0 })
                    } else {
                        Err(ServerError::Timeout {
                            server: machine.clone(),
                            what: "poll".into(),
                            after_ms: timeout,
                        })
                    };
                    let obs = Observation::RedisPolled {
                        machine: machine.clone(),
                        port,
                        result,
                    };
                    (machine, obs)
                }
                Action::PollHaproxy { machine, .. } => {
                    let result = match world[&machine] {
                        Answer::Healthy => Ok(Vec::new()),
                        _ => Err(ServerError::Connect {
                            server: machine.clone(),
                            reason: "timed out".into(),
                        }),
                    };
                    let obs = Observation::HaproxyPolled {
                        machine: machine.clone(),
                        result,
                    };
                    (machine, obs)
                }
                Action::Event(Event::MachineFailed { machine, .. }) => {
                    out.failed.push((now, machine));
                    continue;
                }
                _ => continue,
            };
            out.polls.push((now, machine.clone()));
            match world[&machine] {
                Answer::Healthy => due.push((now + 1, obs)),
                Answer::Silent => due.push((now + timeout, obs)),
                Answer::Lost => {}
            }
        }
        out.most_outstanding = out.most_outstanding.max(due.len());
        let next_answer = due.iter().map(|(at, _)| *at).min().unwrap_or(u64::MAX);
        let next = next_answer.min(c.next_deadline());
        assert!(next >= now, "a deadline in the past: {next} at {now}");
        if next == now && next_answer > now {
            panic!("the controller asks to be woken at the time it was just woken: {now}");
        }
        now = next;
    }
    out
}

fn world(silent: &BTreeSet<usize>, lost: &BTreeSet<usize>) -> BTreeMap<String, Answer> {
    MACHINES
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let a = if lost.contains(&i) {
                Answer::Lost
            } else if silent.contains(&i) {
                Answer::Silent
            } else {
                Answer::Healthy
            };
            (m.to_string(), a)
        })
        .collect()
}

#[test]
fn a_silent_master_is_failed_after_three_cycles_of_timeouts_and_pauses() {
    let mut c = Controller::new(config(10_000), deployment(), 1, 0);
    let w = world(&[2].into(), &BTreeSet::new());
    let r = run(&mut c, &w, 200_000);
    // A cycle: haproxy1, haproxy2 (1 ms each), redis1:9001 and :9002 (5 s each, silent),
    // redis2's two ports (1 ms each): 10.004 s; then 10 s of sleep.
    let cycle = 2 + 2 * 5_000 + 2;
    let failed_at = 3 * cycle + 2 * 10_000;
    assert_eq!(r.failed.first(), Some(&(failed_at, "redis1".to_string())));
    assert_eq!(r.failed.len(), 1, "{:?}", r.failed);
}

#[test]
fn debian_cycle_takes_over_six_minutes_to_fail_a_silent_master() {
    let mut c = Controller::new(ControllerConfig::seed_profile(), deployment(), 1, 0);
    let w = world(&[2].into(), &BTreeSet::new());
    let r = run(&mut c, &w, 600_000);
    let (at, machine) = r.failed.first().expect("redis1 failed");
    assert_eq!(machine, "redis1");
    assert_eq!(*at, 3 * 10_004 + 2 * 120_000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// One poll out at a time; healthy machines are never failed; a silent or unanswering
    /// machine is failed within `fail_count` cycles of its worst length; cycles are at
    /// least an interval apart.
    #[test]
    fn polls_go_one_after_another_and_only_the_silent_fail(
        silent in proptest::collection::btree_set(0usize..4, 0..3),
        lost in proptest::collection::btree_set(0usize..4, 0..2),
        interval_s in 1u64..30,
    ) {
        let interval = interval_s * 1000;
        let mut c = Controller::new(config(interval), deployment(), 1, 0);
        let w = world(&silent, &lost);
        // The longest a cycle can take: six polls, each given up on at the latest.
        let worst = 6 * (c.config().poll_timeout_ms + ANSWER_GRACE_MS);
        let bound = 3 * worst + 2 * interval;
        let r = run(&mut c, &w, bound + 1);
        prop_assert!(r.most_outstanding <= 1, "{} polls out at once", r.most_outstanding);
        let failed: BTreeSet<&str> = r.failed.iter().map(|(_, m)| m.as_str()).collect();
        for (i, m) in MACHINES.iter().enumerate() {
            let bad = silent.contains(&i) || lost.contains(&i);
            if !bad {
                prop_assert!(!failed.contains(m), "{} failed while healthy", m);
            }
        }
        // Whichever silent machine is failed first: a redis failure of redis1 and redis2
        // both leaves no survivor, so only the first redis one is certain.
        if let Some(i) = silent.iter().chain(&lost).next() {
            let m = MACHINES[*i];
            let alone = !(m.starts_with("redis")
                && silent.iter().chain(&lost).filter(|j| MACHINES[**j].starts_with("redis")).count() > 1);
            if alone {
                prop_assert!(failed.contains(m), "{} never failed within {} ms", m, bound);
            }
        }
        // Each cycle starts with haproxy1's poll (the first machine); consecutive cycle
        // starts are at least an interval plus the six polls apart.
        let starts: Vec<u64> = r.polls.iter().filter(|(_, m)| m == "haproxy1").map(|(t, _)| *t).collect();
        for pair in starts.windows(2) {
            prop_assert!(pair[1] - pair[0] >= interval, "cycles at {} and {}", pair[0], pair[1]);
        }
    }
}
