//! The safe policy's decision in the controller: the quorum, promotion by data and the
//! budget, each against the seed profile, on a world told second by second what monit's
//! polls and the proxies' `show stat` say.

mod support;
use support::deployment;

use std::collections::BTreeSet;

use failover_core::budget::{BudgetConfig, Refusal};
use failover_core::config::{ControllerConfig, Promotion};
use failover_core::controller::{Action, Controller};
use failover_core::error::ServerError;
use failover_core::event::{Event, ServerStatus, Unrecoverable};
use failover_core::layout::{MachineInfo, MachineRole};
use failover_core::observation::{Observation, RedisStatus, ServerStat, StepOutput};
use failover_core::plan::StepKind;
use failover_core::promotion::Ineligible;

/// What the world answers: machines monit cannot reach, and the servers the proxies see
/// as DOWN (every other is UP).
#[derive(Default)]
struct World {
    monit_cannot_reach: BTreeSet<String>,
    proxies_see_down: BTreeSet<String>,
    /// Replicas whose link to their master is down.
    link_down: BTreeSet<String>,
    /// Steps succeed at once; otherwise they stay in flight.
    steps_succeed: bool,
}

struct Harness {
    c: Controller,
    now: u64,
    world: World,
    events: Vec<Event>,
    launched: u32,
}

impl Harness {
    fn new(config: ControllerConfig) -> Self {
        config.validate().unwrap();
        Harness {
            c: Controller::new(config, deployment(), 7, 0),
            now: 0,
            world: World::default(),
            events: Vec::new(),
            launched: 0,
        }
    }

    /// Runs the controller for `ms`, answering every poll at once.
    fn run_for(&mut self, ms: u64) {
        let end = self.now + ms;
        while self.now <= end {
            let actions = self.c.handle_timeout(self.now);
            self.answer(actions);
            let next = self.c.next_deadline().max(self.now + 1);
            self.now = next;
        }
    }

    fn answer(&mut self, actions: Vec<Action>) {
        let mut queue = actions;
        while !queue.is_empty() {
            let mut next = Vec::new();
            for a in queue {
                if let Some(o) = self.observe(a) {
                    next.extend(self.c.handle(self.now, o));
                }
            }
            queue = next;
        }
    }

    fn observe(&mut self, action: Action) -> Option<Observation> {
        match action {
            Action::PollRedis { machine, port, .. } => {
                let result = if self.world.monit_cannot_reach.contains(&machine) {
                    Err(ServerError::Timeout {
                        server: format!("{machine}:{port}"),
                        what: "poll".into(),
                        after_ms: 800,
                    })
                } else if self.c.masters().get(&port) == Some(&machine) {
                    Ok(RedisStatus::Master { offset: 100 })
                } else {
                    Ok(RedisStatus::Replica {
                        master_host: "addr-redis1".into(),
                        master_port: port,
                        link_up: !self.world.link_down.contains(&machine),
                        offset: 90,
                    })
                };
                Some(Observation::RedisPolled {
                    machine,
                    port,
                    result,
                })
            }
            Action::PollHaproxy { machine, .. } => {
                let mut stats = Vec::new();
                for redis in ["redis1", "redis2", "redis3", "redis4"] {
                    for port in [9001, 9002] {
                        let status = if self.world.proxies_see_down.contains(redis) {
                            ServerStatus::Down
                        } else {
                            ServerStatus::Up
                        };
                        stats.push(ServerStat {
                            backend: format!("redis_{port}"),
                            server: redis.into(),
                            status,
                            checks_failing: false,
                        });
                    }
                }
                Some(Observation::HaproxyPolled {
                    machine,
                    result: Ok(stats),
                })
            }
            Action::Run { plan, step, op, .. } => {
                if !self.world.steps_succeed {
                    return None;
                }
                let output = match op {
                    failover_core::plan::Operation::Launch { .. } => {
                        self.launched += 1;
                        let name = format!("redis{}", 2 + self.launched);
                        StepOutput::Launched(MachineInfo {
                            addr: format!("addr-{name}"),
                            name,
                            role: MachineRole::Redis,
                            instance_id: None,
                        })
                    }
                    _ => StepOutput::Done,
                };
                Some(Observation::StepFinished {
                    plan,
                    step,
                    result: Ok(output),
                })
            }
            Action::Event(e) => {
                self.events.push(e);
                None
            }
        }
    }

    fn plans_started(&self) -> Vec<(String, Option<String>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::PlanStarted {
                    failed, survivor, ..
                } => Some((failed.clone(), survivor.clone())),
                _ => None,
            })
            .collect()
    }

    fn refusals(&self) -> Vec<Unrecoverable> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::CannotRecover { why, .. } => Some(why.clone()),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn a_monitor_cut_off_from_a_master_the_proxies_reach_fails_nothing_over() {
    let mut h = Harness::new(ControllerConfig::default());
    // The harness's `show stat` names backends as the seed's layout does.
    assert_eq!(h.c.layout().backend(9001), "redis_9001");
    h.world.monit_cannot_reach.insert("redis1".into());
    h.run_for(20_000);
    assert_eq!(h.plans_started(), vec![]);
    assert_eq!(
        h.refusals(),
        vec![Unrecoverable::MonitorCutOff {
            proxies: vec!["haproxy1".into(), "haproxy2".into()]
        }],
        "said once"
    );

    // The seed's monit alone fails it over.
    let mut seed = Harness::new(ControllerConfig {
        quorum: false,
        promotion: Promotion::AnySurvivor,
        budget: None,
        ..ControllerConfig::default()
    });
    seed.world.monit_cannot_reach.insert("redis1".into());
    seed.run_for(20_000);
    assert_eq!(
        seed.plans_started(),
        vec![("redis1".into(), Some("redis2".into()))]
    );
}

#[test]
fn a_master_that_monit_and_the_proxies_lose_is_failed_over_without_an_alert() {
    let mut h = Harness::new(ControllerConfig::default());
    h.world.monit_cannot_reach.insert("redis1".into());
    h.run_for(1_500);
    // The proxies' checks decide a little after monit's third cycle.
    h.world.proxies_see_down.insert("redis1".into());
    h.run_for(10_000);
    assert_eq!(
        h.plans_started(),
        vec![("redis1".into(), Some("redis2".into()))]
    );
    assert_eq!(h.refusals(), vec![], "waiting for the proxies is no alert");
}

#[test]
fn a_replica_whose_link_has_been_down_too_long_is_not_promoted() {
    let mut h = Harness::new(ControllerConfig::default());
    h.world.link_down.insert("redis2".into());
    h.run_for(ControllerConfig::MAX_LINK_DOWN_MS + 5_000);
    h.world.monit_cannot_reach.insert("redis1".into());
    h.world.proxies_see_down.insert("redis1".into());
    h.run_for(10_000);
    assert_eq!(h.plans_started(), vec![]);
    assert_eq!(
        h.refusals(),
        vec![Unrecoverable::NoEligibleReplica {
            rejected: vec![("redis2".into(), Ineligible::LinkDownTooLong)]
        }]
    );
}

#[test]
fn a_freshly_launched_replica_that_never_synced_is_not_promoted() {
    let mut h = Harness::new(ControllerConfig {
        budget: Some(BudgetConfig {
            window_ms: 0,
            launches_per_hour: 6,
        }),
        ..ControllerConfig::default()
    });
    h.world.steps_succeed = true;
    // redis1 dies; redis2 takes over and redis3 is launched as its replica, whose first
    // sync does not finish.
    h.world.link_down.insert("redis3".into());
    h.world.monit_cannot_reach.insert("redis1".into());
    h.world.proxies_see_down.insert("redis1".into());
    h.run_for(20_000);
    assert_eq!(
        h.plans_started(),
        vec![("redis1".into(), Some("redis2".into()))]
    );
    assert!(h.c.monitored().iter().any(|m| m.name == "redis3"));
    // redis3 is still in its first sync when redis2 dies.
    h.world.monit_cannot_reach.insert("redis2".into());
    h.world.proxies_see_down.insert("redis2".into());
    h.run_for(20_000);
    assert_eq!(h.plans_started().len(), 1, "{:?}", h.plans_started());
    assert_eq!(
        h.refusals(),
        vec![Unrecoverable::NoEligibleReplica {
            rejected: vec![("redis3".into(), Ineligible::NeverSynced)]
        }]
    );
}

#[test]
fn a_second_failover_of_a_port_within_the_window_is_refused_once() {
    let mut h = Harness::new(ControllerConfig::default());
    h.world.steps_succeed = true;
    h.world.monit_cannot_reach.insert("redis1".into());
    h.world.proxies_see_down.insert("redis1".into());
    h.run_for(20_000);
    // redis3 synced, then redis2 (the new master) fails a minute later.
    h.run_for(40_000);
    h.world.monit_cannot_reach.insert("redis2".into());
    h.world.proxies_see_down.insert("redis2".into());
    h.run_for(30_000);
    assert_eq!(h.plans_started().len(), 1);
    let refusals = h.refusals();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(
        matches!(
            refusals[0],
            Unrecoverable::Budget(Refusal::Flapping {
                port: 9001,
                window_ms: 300_000,
                ..
            })
        ),
        "{refusals:?}"
    );
    // Past the window it goes ahead.
    h.run_for(300_000);
    assert_eq!(h.plans_started().len(), 2, "{:?}", h.plans_started());
    assert_eq!(h.plans_started()[1].1.as_deref(), Some("redis3"));
    let step_kinds = h.c.config().failed_redis.clone();
    assert!(step_kinds.contains(&StepKind::PromoteSurvivor));
}
