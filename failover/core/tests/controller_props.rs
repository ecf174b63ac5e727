//! Property tests of the pure controller: random observations (polls that fail or not,
//! steps that fail or not, controller restarts) never break its promises.

use std::collections::{BTreeMap, BTreeSet};

use failover_core::config::{ControllerConfig, Deployment};
use failover_core::controller::{Action, Controller};
use failover_core::layout::{Layout, MachineInfo, MachineRole};
use failover_core::observation::{Observation, RedisStatus, StepOutput};
use failover_core::plan::Operation;
use proptest::prelude::*;

fn deployment() -> Deployment {
    let m = |name: &str, role| MachineInfo {
        name: name.into(),
        addr: format!("addr-{name}"),
        role,
        instance_id: Some(format!("i-{name}")),
    };
    Deployment {
        layout: Layout::seed("addr-app"),
        machines: vec![
            m("redis1", MachineRole::Redis),
            m("redis2", MachineRole::Redis),
            m("haproxy1", MachineRole::Haproxy),
            m("haproxy2", MachineRole::Haproxy),
        ],
        masters: [(9001, "redis1".to_string()), (9002, "redis1".to_string())].into(),
        app_slots: [
            ("haproxy1".to_string(), "haproxy1".to_string()),
            ("haproxy2".to_string(), "haproxy2".to_string()),
        ]
        .into(),
    }
}

#[derive(Debug, Clone)]
enum Input {
    /// A detection cycle: each machine's polls answer ok unless it is down.
    Tick,
    /// A machine goes down or comes back.
    Toggle(usize),
    /// The oldest step in flight finishes, well or badly.
    Finish(bool),
    /// The controller process restarts from its persisted state.
    Restart,
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        5 => Just(Input::Tick),
        1 => (0usize..8).prop_map(Input::Toggle),
        4 => any::<bool>().prop_map(Input::Finish),
        1 => Just(Input::Restart),
    ]
}

/// Plays the world around the controller and checks every action it emits.
struct Harness {
    c: Controller,
    now: u64,
    down: BTreeSet<String>,
    in_flight: Vec<(u64, usize, Operation)>,
    launched: u32,
    /// Machines the world has shown reachable (WaitReachable succeeded).
    reachable: BTreeSet<String>,
    /// Every machine name ever launched, to find the n-th one when toggling.
    names: Vec<String>,
}

impl Harness {
    fn new() -> Self {
        let d = deployment();
        let names = d.machines.iter().map(|m| m.name.clone()).collect();
        Self {
            c: Controller::new(ControllerConfig::default(), d),
            now: 0,
            down: BTreeSet::new(),
            in_flight: Vec::new(),
            launched: 0,
            reachable: BTreeSet::new(),
            names,
        }
    }

    fn feed(&mut self, obs: Observation) -> Result<(), TestCaseError> {
        let before_masters = self.c.masters().clone();
        let monitored: BTreeSet<String> =
            self.c.monitored().iter().map(|m| m.name.clone()).collect();
        let actions = self.c.handle(self.now, obs);
        for a in actions {
            let mut polls = Vec::new();
            match a {
                Action::PollRedis { machine, port, .. } => {
                    polls.push(if self.down.contains(&machine) {
                        Observation::RedisPolled {
                            machine,
                            port,
                            result: Err("timeout".into()),
                        }
                    } else {
                        Observation::RedisPolled {
                            machine,
                            port,
                            result: Ok(RedisStatus::Master { offset: 0 }),
                        }
                    })
                }
                Action::PollHaproxy { machine, .. } => polls.push(Observation::HaproxyPolled {
                    result: if self.down.contains(&machine) {
                        Err("refused".into())
                    } else {
                        Ok(())
                    },
                    machine,
                }),
                Action::Run { plan, step, op, .. } => {
                    match &op {
                        Operation::Promote { addr, ports } => {
                            for p in ports {
                                let current = &before_masters[p];
                                // Never a second master: the port's master must have been
                                // given up (unmonitored) before the survivor is promoted.
                                prop_assert!(
                                    !monitored.contains(current)
                                        || format!("addr-{current}") == *addr,
                                    "promoting {addr} on {p} while {current} is still monitored"
                                );
                            }
                        }
                        Operation::Register { server, .. } => {
                            prop_assert!(
                                self.reachable.contains(server),
                                "registered {server} never seen reachable"
                            );
                            prop_assert!(self.c.seen_healthy(server));
                        }
                        _ => {}
                    }
                    self.in_flight.push((plan, step, op));
                }
                Action::Event(_) => {}
            }
            for p in polls {
                self.feed(p)?;
            }
        }
        self.check_plans()
    }

    /// No two plans for one machine at once.
    fn check_plans(&self) -> Result<(), TestCaseError> {
        let mut busy = BTreeSet::new();
        for p in self.c.active_plans() {
            prop_assert!(
                busy.insert(p.failed.name.clone()),
                "two plans for {}",
                p.failed.name
            );
            if let Some(r) = &p.replacement {
                prop_assert!(busy.insert(r.name.clone()), "two plans for {}", r.name);
            }
        }
        Ok(())
    }

    fn step(&mut self, input: Input) -> Result<(), TestCaseError> {
        match input {
            Input::Tick => {
                self.now += 1000;
                self.feed(Observation::Tick)?;
            }
            Input::Toggle(i) => {
                let name = self.names[i % self.names.len()].clone();
                if !self.down.remove(&name) {
                    self.down.insert(name);
                }
            }
            Input::Finish(ok) => {
                if self.in_flight.is_empty() {
                    return Ok(());
                }
                let (plan, step, op) = self.in_flight.remove(0);
                let result = if ok {
                    self.perform(&op)
                } else {
                    Err("failed".to_string())
                };
                self.feed(Observation::StepFinished { plan, step, result })?;
            }
            Input::Restart => {
                self.c = Controller::restore(&self.c.snapshot())
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                self.in_flight.clear();
            }
        }
        Ok(())
    }

    /// What a successful step returns.
    fn perform(&mut self, op: &Operation) -> Result<StepOutput, String> {
        match op {
            Operation::Launch { role, .. } => {
                self.launched += 1;
                let prefix = match role {
                    MachineRole::Redis => "redis",
                    MachineRole::Haproxy => "haproxy",
                };
                let name = format!("{prefix}{}", self.launched + 2);
                self.names.push(name.clone());
                Ok(StepOutput::Launched(MachineInfo {
                    addr: format!("addr-{name}"),
                    instance_id: Some(format!("i-{name}")),
                    name,
                    role: *role,
                }))
            }
            Operation::WaitReachable { machine, .. } => {
                if self.down.contains(&machine.name) {
                    return Err("not reachable".into());
                }
                self.reachable.insert(machine.name.clone());
                Ok(StepOutput::Done)
            }
            _ => Ok(StepOutput::Done),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn the_controller_keeps_its_promises(inputs in proptest::collection::vec(input(), 1..300)) {
        let mut h = Harness::new();
        for i in inputs {
            h.step(i)?;
        }
        // Every plan it started either finished or resumes to the end once the world heals
        // (and also after one more restart).
        h.c = Controller::restore(&h.c.snapshot()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        h.in_flight.clear();
        h.down.clear();
        let started: Vec<u64> = h.c.active_plans().map(|p| p.id).collect();
        for _ in 0..200 {
            if h.c.active_plans().next().is_none() {
                break;
            }
            h.step(Input::Tick)?;
            while !h.in_flight.is_empty() {
                h.step(Input::Finish(true))?;
            }
        }
        let finished: BTreeMap<u64, bool> = h.c.finished_plans().iter().map(|p| (p.id, p.is_done())).collect();
        for id in started {
            prop_assert_eq!(finished.get(&id), Some(&true), "plan {} never finished", id);
        }
    }
}

#[test]
fn a_dead_master_is_replaced_by_the_seed_plan() {
    let mut h = Harness::new();
    h.down.insert("redis1".into());
    let mut ran = Vec::new();
    for _ in 0..40 {
        h.step(Input::Tick).unwrap();
        while !h.in_flight.is_empty() {
            ran.push(format!("{:?}", std::mem::discriminant(&h.in_flight[0].2)));
            let op = h.in_flight[0].2.clone();
            if let Operation::Promote { addr, ports } = &op {
                assert_eq!(addr, "addr-redis2");
                assert_eq!(ports, &vec![9001, 9002]);
            }
            h.step(Input::Finish(true)).unwrap();
        }
    }
    let done = h.c.finished_plans();
    assert_eq!(done.len(), 1, "one plan");
    assert_eq!(done[0].failed.name, "redis1");
    assert_eq!(
        done[0].replacement.as_ref().map(|r| r.name.as_str()),
        Some("redis3")
    );
    // Detection took fail_count cycles: the plan started at the 4th tick (3 s).
    assert_eq!(done[0].started_ms, 4000);
    assert_eq!(h.c.masters()[&9001], "redis2");
    let monitored: Vec<String> = h.c.monitored().iter().map(|m| m.name.clone()).collect();
    assert_eq!(monitored, ["haproxy1", "haproxy2", "redis2", "redis3"]);
    assert_eq!(ran.len(), 7, "seven steps went to the shell: {ran:?}");
}

#[test]
fn no_survivor_no_plan() {
    let mut h = Harness::new();
    h.down.insert("redis1".into());
    h.down.insert("redis2".into());
    for _ in 0..10 {
        h.step(Input::Tick).unwrap();
    }
    assert_eq!(h.c.active_plans().count(), 0);
    assert!(h.in_flight.is_empty());
}

#[test]
fn plans_that_would_break_a_promise_are_rejected() {
    assert_eq!(ControllerConfig::default().validate(), Ok(()));
    let mut c = ControllerConfig::default();
    c.failed_redis.swap(0, 2);
    let err = c.validate().unwrap_err();
    assert!(
        err.contains("Unmonitor must come before PromoteSurvivor"),
        "{err}"
    );
    let mut c = ControllerConfig::default();
    c.failed_haproxy.pop();
    assert!(c
        .validate()
        .unwrap_err()
        .contains("must list each of these steps once"));
}
