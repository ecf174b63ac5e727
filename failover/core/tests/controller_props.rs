//! Property tests of the pure controller: random observations (polls that fail or not,
//! steps that fail or not, controller restarts on a new clock, lost state) never break
//! its promises.

mod support;
use support::deployment;

use std::collections::{BTreeMap, BTreeSet};

use failover_core::config::ControllerConfig;
use failover_core::controller::{Action, Controller};
use failover_core::error::{CloudError, ConfigError, ServerError, StepError};
use failover_core::event::Event;
use failover_core::layout::{MachineInfo, MachineRole};
use failover_core::observation::{Observation, RedisStatus, StepOutput};
use failover_core::plan::{Operation, StepKind, SAFE_FAILED_REDIS};
use proptest::prelude::*;

#[derive(Debug, Clone, Copy)]
enum Outcome {
    Ok,
    Fail,
    /// The cloud has no capacity (a launch), or an ordinary failure (any other step).
    NoCapacity,
}

#[derive(Debug, Clone)]
enum Input {
    /// A second passes; the controller is woken at each deadline in it, and the polls it
    /// sends answer at once: ok unless the machine is down.
    Tick,
    /// A machine goes down or comes back.
    Toggle(usize),
    /// The oldest step in flight finishes.
    Finish(Outcome),
    /// The controller process restarts from its persisted state. Its clock is a new
    /// process's monotonic clock: it starts again, here at this value, whatever the old
    /// process's clock had reached.
    Restart(u64),
    /// The persisted state is lost (a new disk): a fresh controller starts from the
    /// deployment, with a new epoch; its clock reads this value.
    LoseState(u64),
}

/// Where a controller process's clock starts: often 0 (a monotonic clock measured from
/// process start), sometimes anywhere.
fn clock_start() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), 0u64..10_000_000]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        4 => Just(Outcome::Ok),
        2 => Just(Outcome::Fail),
        1 => Just(Outcome::NoCapacity),
    ]
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        10 => Just(Input::Tick),
        2 => (0usize..8).prop_map(Input::Toggle),
        8 => outcome().prop_map(Input::Finish),
        2 => clock_start().prop_map(Input::Restart),
        1 => clock_start().prop_map(Input::LoseState),
    ]
}

/// Plays the world around the controller and checks every action it emits.
struct Harness {
    c: Controller,
    /// The controller process's clock.
    now: u64,
    /// The epoch the next fresh state gets.
    next_epoch: u64,
    down: BTreeSet<String>,
    in_flight: Vec<(u64, usize, Operation)>,
    launched: u32,
    /// Machines the world has shown reachable (WaitReachable succeeded).
    reachable: BTreeSet<String>,
    /// Every machine name ever launched, to find the n-th one when toggling.
    names: Vec<String>,
    /// Every launch token sent, with the (epoch, plan) that first sent it.
    tokens: BTreeMap<String, (u64, u64)>,
    events: Vec<(u64, Event)>,
    /// Redis machines put in maintenance on the proxies (a Fence step that succeeded).
    fenced: BTreeSet<String>,
}

impl Harness {
    fn new() -> Self {
        Self::starting_at(0)
    }

    /// A first controller whose clock reads `clock` when it starts.
    fn starting_at(clock: u64) -> Self {
        Self::with_config(ControllerConfig::default(), clock)
    }

    /// A first controller with `config`.
    fn with_config(config: ControllerConfig, clock: u64) -> Self {
        let d = deployment();
        let names = d.machines.iter().map(|m| m.name.clone()).collect();
        Self {
            c: Controller::new(config, d, 1, clock),
            now: clock,
            next_epoch: 2,
            down: BTreeSet::new(),
            in_flight: Vec::new(),
            launched: 0,
            reachable: BTreeSet::new(),
            names,
            tokens: BTreeMap::new(),
            events: Vec::new(),
            fenced: BTreeSet::new(),
        }
    }

    fn feed(&mut self, obs: Observation) -> Result<(), TestCaseError> {
        let before = self.before();
        let actions = self.c.handle(self.now, obs);
        self.act(before, actions)
    }

    /// Wakes the controller at its deadline, as the shell does.
    fn wake(&mut self) -> Result<(), TestCaseError> {
        let before = self.before();
        let actions = self.c.handle_timeout(self.now);
        // Asking to be woken again at a time already handled would spin the shell (and
        // stop a simulated clock).
        prop_assert!(
            self.c.next_deadline() > self.now,
            "woken at {}, the controller asks to be woken at {}",
            self.now,
            self.c.next_deadline()
        );
        self.act(before, actions)
    }

    /// What the promises are checked against: the picture before an input.
    fn before(&self) -> (BTreeMap<u16, String>, BTreeSet<String>) {
        let monitored = self.c.monitored().iter().map(|m| m.name.clone()).collect();
        (self.c.masters().clone(), monitored)
    }

    fn act(
        &mut self,
        (before_masters, monitored): (BTreeMap<u16, String>, BTreeSet<String>),
        actions: Vec<Action>,
    ) -> Result<(), TestCaseError> {
        let mut polls = Vec::new();
        for a in actions {
            match a {
                Action::PollRedis { machine, port, .. } => polls.push(Observation::RedisPolled {
                    result: if self.down.contains(&machine) {
                        Err(ServerError::Timeout {
                            server: format!("addr-{machine}:{port}"),
                            what: "poll".into(),
                            after_ms: 800,
                        })
                    } else {
                        Ok(RedisStatus::Master { offset: 0 })
                    },
                    machine,
                    port,
                }),
                Action::PollHaproxy { machine, .. } => polls.push(Observation::HaproxyPolled {
                    result: if self.down.contains(&machine) {
                        Err(ServerError::Connect {
                            server: format!("addr-{machine}:9999"),
                            reason: "refused".into(),
                        })
                    } else {
                        // No redis server listed: no proxy vouches for a machine that
                        // monit finds down, so the quorum follows monit here.
                        Ok(Vec::new())
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
                                // Fenced plans: no proxy routes to the old master by then.
                                let fencing =
                                    self.c.config().failed_redis.contains(&StepKind::FenceRedis);
                                prop_assert!(
                                    !fencing
                                        || self.fenced.contains(current)
                                        || format!("addr-{current}") == *addr,
                                    "promoting {addr} on {p} before {current} was fenced"
                                );
                            }
                        }
                        Operation::Fence {
                            proxies, server, ..
                        } => {
                            // Every proxy the controller watches, answering or not: each
                            // proxy monitored both before and after this input (one input
                            // can unmonitor a failed proxy or monitor a new one around the
                            // fence), and none it never watched.
                            let now: BTreeSet<String> = self
                                .c
                                .monitored()
                                .iter()
                                .filter(|m| m.role == MachineRole::Haproxy)
                                .map(|m| m.addr.clone())
                                .collect();
                            let then: BTreeSet<String> =
                                monitored.iter().map(|m| format!("addr-{m}")).collect();
                            let fenced: BTreeSet<String> = proxies.iter().cloned().collect();
                            for p in now.intersection(&then) {
                                prop_assert!(
                                    fenced.contains(p),
                                    "fencing {} without {}",
                                    server,
                                    p
                                );
                            }
                            for p in &fenced {
                                prop_assert!(
                                    now.contains(p) || then.contains(p),
                                    "fencing {} on {}",
                                    server,
                                    p
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
                        Operation::Launch { token, .. } => {
                            // A token is one launch: the same plan of the same state may
                            // send it again (that is the idempotence), nobody else may,
                            // or EC2 would hand them that plan's machine.
                            let owner = (self.c.epoch(), plan);
                            let first = *self.tokens.entry(token.clone()).or_insert(owner);
                            prop_assert_eq!(
                                first,
                                owner,
                                "launch token {} of (epoch, plan) {:?} was first sent by {:?}",
                                token,
                                owner,
                                first
                            );
                        }
                        _ => {}
                    }
                    self.in_flight.push((plan, step, op));
                }
                Action::Event(e) => self.events.push((self.now, e)),
            }
        }
        for p in polls {
            self.feed(p)?;
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

    /// `ms` pass; the controller is woken at each of its deadlines on the way.
    fn wait(&mut self, ms: u64) -> Result<(), TestCaseError> {
        let until = self.now + ms;
        while self.c.next_deadline() <= until {
            self.now = self.now.max(self.c.next_deadline());
            self.wake()?;
        }
        self.now = until;
        Ok(())
    }

    fn step(&mut self, input: Input) -> Result<(), TestCaseError> {
        match input {
            Input::Tick => self.wait(1000)?,
            Input::Toggle(i) => {
                let name = self.names[i % self.names.len()].clone();
                if !self.down.remove(&name) {
                    self.down.insert(name);
                }
            }
            Input::Finish(outcome) => {
                if self.in_flight.is_empty() {
                    return Ok(());
                }
                let (plan, step, op) = self.in_flight.remove(0);
                let result = match (outcome, &op) {
                    (Outcome::Ok, _) => self.perform(&op),
                    (Outcome::NoCapacity, Operation::Launch { .. }) => {
                        Err(CloudError::Capacity("no m5.large in the zone".into()).into())
                    }
                    _ => Err(ServerError::Closed {
                        server: "addr-x:1".into(),
                        command: "anything".into(),
                    }
                    .into()),
                };
                self.feed(Observation::StepFinished { plan, step, result })?;
            }
            Input::Restart(clock) => self.restart(clock)?,
            Input::LoseState(clock) => {
                let config = self.c.config().clone();
                self.c = Controller::new(config, deployment(), self.next_epoch, clock);
                self.next_epoch += 1;
                self.now = clock;
                self.in_flight.clear();
            }
        }
        Ok(())
    }

    /// A new controller process resumes from the saved state; its clock reads `clock`.
    fn restart(&mut self, clock: u64) -> Result<(), TestCaseError> {
        self.c = Controller::restore(&self.c.snapshot(), clock)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        self.now = clock;
        self.in_flight.clear();
        Ok(())
    }

    /// Finishes every step in flight well, and the ones they lead to.
    fn finish_all(&mut self) -> Result<(), TestCaseError> {
        while !self.in_flight.is_empty() {
            self.step(Input::Finish(Outcome::Ok))?;
        }
        Ok(())
    }

    /// What a successful step returns.
    fn perform(&mut self, op: &Operation) -> Result<StepOutput, StepError> {
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
                    return Err(StepError::NotReachable {
                        machine: machine.name.clone(),
                        after_ms: 600_000,
                        last: ServerError::Timeout {
                            server: format!("{}:9001", machine.addr),
                            what: "PING".into(),
                            after_ms: 800,
                        },
                    });
                }
                self.reachable.insert(machine.name.clone());
                Ok(StepOutput::Done)
            }
            Operation::Fence { server, .. } => {
                self.fenced.insert(server.clone());
                Ok(StepOutput::Done)
            }
            _ => Ok(StepOutput::Done),
        }
    }

    /// The plan's current step, if it is in flight.
    fn in_flight_kind(&self) -> Option<StepKind> {
        let (plan, step, _) = self.in_flight.first()?;
        let p = self.c.active_plans().find(|p| p.id == *plan)?;
        Some(p.steps[*step])
    }

    /// Ticks, finishing every step well, until the first step in flight is `kind`.
    fn run_until_in_flight(&mut self, kind: StepKind) {
        for _ in 0..100 {
            while !self.in_flight.is_empty() && self.in_flight_kind() != Some(kind) {
                self.step(Input::Finish(Outcome::Ok)).unwrap();
            }
            if self.in_flight_kind() == Some(kind) {
                return;
            }
            self.step(Input::Tick).unwrap();
        }
        panic!("{kind:?} never started");
    }

    /// The retry waits the controller announced, in order.
    fn retry_waits(&self) -> Vec<u64> {
        self.events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::StepFailed { retry_in_ms, .. } => Some(*retry_in_ms),
                _ => None,
            })
            .collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn the_controller_keeps_its_promises(
        first_clock in clock_start(),
        inputs in proptest::collection::vec(input(), 1..300),
        last_clock in clock_start(),
        safe_plan in any::<bool>(),
    ) {
        let config = if safe_plan { safe_plans() } else { ControllerConfig::default() };
        let mut h = Harness::with_config(config, first_clock);
        for i in inputs {
            h.step(i)?;
        }
        // Once the world heals, every plan it started finishes, and soon: after one more
        // restart (a new clock), each step runs at once or after what was left of its
        // wait, and every step now succeeds.
        h.restart(last_clock)?;
        h.down.clear();
        let started: Vec<u64> = h.c.active_plans().map(|p| p.id).collect();
        let config = h.c.config().clone();
        let bound = config.retry_max_ms.max(config.capacity_retry_ms) + 3 * config.interval_ms;
        let healed = h.now;
        while h.c.active_plans().next().is_some() && h.now - healed <= bound {
            h.step(Input::Tick)?;
            h.finish_all()?;
        }
        let finished: BTreeMap<u64, bool> = h.c.finished_plans().iter().map(|p| (p.id, p.is_done())).collect();
        for id in started {
            prop_assert_eq!(
                finished.get(&id),
                Some(&true),
                "plan {} not finished {} ms after the world healed: {:?}",
                id,
                bound,
                h.c.active_plans().find(|p| p.id == id)
            );
        }
    }
}

/// The safe policy's plans.
fn safe_plans() -> ControllerConfig {
    ControllerConfig {
        failed_redis: SAFE_FAILED_REDIS.to_vec(),
        ..ControllerConfig::default()
    }
}

#[test]
fn the_safe_plan_fences_then_promotes_and_deletes_last() {
    let mut h = Harness::with_config(safe_plans(), 0);
    h.down.insert("redis1".into());
    let mut ran = Vec::new();
    for _ in 0..40 {
        h.step(Input::Tick).unwrap();
        while let Some(kind) = h.in_flight_kind() {
            ran.push(kind);
            h.step(Input::Finish(Outcome::Ok)).unwrap();
        }
    }
    use StepKind::*;
    assert_eq!(
        ran,
        [
            FenceRedis,
            PromoteSurvivor,
            Terminate,
            Launch,
            WaitReachable,
            MakeReplica,
            RegisterRedis,
            UnregisterRedis
        ]
    );
    assert_eq!(h.c.finished_plans().len(), 1);
    assert_eq!(h.c.masters()[&9001], "redis2");
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
            h.step(Input::Finish(Outcome::Ok)).unwrap();
        }
    }
    let done = h.c.finished_plans();
    assert_eq!(done.len(), 1, "one plan");
    assert_eq!(done[0].failed.name, "redis1");
    assert_eq!(
        done[0].replacement.as_ref().map(|r| r.name.as_str()),
        Some("redis3")
    );
    // Detection took fail_count cycles: the first cycle (at 0) sends the polls, the third
    // failed one closes at 3 s.
    assert_eq!(done[0].started_ms, 3000);
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
fn cycles_are_due_every_interval_on_the_callers_clock() {
    let mut c = Controller::new(ControllerConfig::default(), deployment(), 1, 5_000);
    assert_eq!(c.next_deadline(), 5_000, "the first cycle is due at once");
    let polls = c.handle_timeout(5_000);
    assert_eq!(
        polls.len(),
        6,
        "two ports on two redis machines, two proxies"
    );
    assert_eq!(c.next_deadline(), 6_000);
    assert!(c.handle_timeout(5_999).is_empty(), "nothing is due early");
    assert_eq!(c.handle_timeout(6_000).len(), 6);
    // Woken late, one cycle, and the cadence starts again from then.
    assert_eq!(c.handle_timeout(9_500).len(), 6);
    assert_eq!(c.next_deadline(), 10_500);
}

#[test]
fn a_restored_controller_moves_its_times_onto_the_new_clock() {
    let mut h = Harness::starting_at(40_000);
    h.down.insert("redis1".into());
    h.run_until_in_flight(StepKind::Terminate);
    // Terminate fails once (backoff retry_min_ms); 400 ms later a poll's answer comes in,
    // and the state saved then is the one the next process finds. Its "now" is the time
    // of the last thing the controller was told.
    h.step(Input::Finish(Outcome::Fail)).unwrap();
    let failed_at = h.now;
    let retry = h.c.config().retry_min_ms;
    h.now += 400;
    h.feed(Observation::HaproxyPolled {
        machine: "haproxy1".into(),
        result: Ok(Vec::new()),
    })
    .unwrap();
    assert!(h.in_flight.is_empty());
    let started = h.c.active_plans().next().unwrap().started_ms;
    let next_cycle = h.c.next_deadline();
    assert!(next_cycle > h.now);
    let saved_at = h.now;

    // The new process's clock starts at 0, below every time the state holds.
    h.restart(0).unwrap();
    let plan = h.c.active_plans().next().unwrap();
    assert_eq!(
        plan.not_before_ms,
        failed_at + retry - saved_at,
        "the backoff keeps what was left of it"
    );
    assert_eq!(
        plan.started_ms, 0,
        "a past time before the new clock's zero is its zero (it started at {started})"
    );
    assert!(h.c.next_deadline() <= plan.not_before_ms);
    h.wait(plan.not_before_ms - 1).unwrap();
    assert!(h.in_flight.is_empty(), "not retried early");
    h.wait(1).unwrap();
    assert_eq!(
        h.in_flight_kind(),
        Some(StepKind::Terminate),
        "retried on time"
    );

    // A step in flight when the state was saved is due at once on the new clock.
    h.restart(123).unwrap();
    assert_eq!(h.c.next_deadline(), 123);
    h.wait(0).unwrap();
    assert_eq!(h.in_flight_kind(), Some(StepKind::Terminate));
}

#[test]
fn a_fresh_state_never_reuses_a_launch_token() {
    let launch_token = |epoch| {
        let mut h = Harness::new();
        h.c = Controller::new(ControllerConfig::default(), deployment(), epoch, 0);
        h.down.insert("redis1".into());
        h.run_until_in_flight(StepKind::Launch);
        let Operation::Launch { token, .. } = &h.in_flight[0].2 else {
            unreachable!()
        };
        let token = token.clone();
        // The same state, restored, sends its plan's launch again with the same token.
        h.restart(0).unwrap();
        h.wait(0).unwrap();
        assert!(matches!(&h.in_flight[0].2, Operation::Launch { token: t, .. } if *t == token));
        token
    };
    let (first, second) = (launch_token(7), launch_token(8));
    assert_ne!(first, second, "plan 1 of two fresh states");
    assert!(
        first.len() <= 64,
        "EC2's ClientToken is at most 64 characters"
    );
}

#[test]
fn no_capacity_waits_capacity_retry_ms_each_time_not_the_backoff() {
    let mut h = Harness::new();
    h.down.insert("redis1".into());
    h.run_until_in_flight(StepKind::Launch);
    let config = h.c.config().clone();
    assert!(config.capacity_retry_ms > config.retry_min_ms);
    for _ in 0..5 {
        h.step(Input::Finish(Outcome::NoCapacity)).unwrap();
        h.wait(config.capacity_retry_ms - 1).unwrap();
        assert!(
            h.in_flight.is_empty(),
            "launched again before the wait was over"
        );
        h.wait(1).unwrap();
        assert_eq!(h.in_flight_kind(), Some(StepKind::Launch));
    }
    // An ordinary failure after the shortage backs off from the start: the shortage's
    // waits were not counted as attempts.
    h.step(Input::Finish(Outcome::Fail)).unwrap();
    h.wait(config.retry_min_ms).unwrap();
    assert_eq!(h.in_flight_kind(), Some(StepKind::Launch));
    h.step(Input::Finish(Outcome::Fail)).unwrap();
    h.wait(2 * config.retry_min_ms).unwrap();
    assert_eq!(h.in_flight_kind(), Some(StepKind::Launch));
    let c = config.capacity_retry_ms;
    let m = config.retry_min_ms;
    assert_eq!(h.retry_waits(), [c, c, c, c, c, m, 2 * m]);
    let error = h
        .events
        .iter()
        .find_map(|(_, e)| match e {
            Event::StepFailed { error, .. } => Some(error.to_string()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        error,
        "InsufficientInstanceCapacity: no m5.large in the zone"
    );
    for _ in 0..10 {
        h.finish_all().unwrap();
        h.step(Input::Tick).unwrap();
    }
    assert_eq!(h.c.finished_plans().len(), 1, "then the plan goes on");
}

#[test]
fn plans_that_would_break_a_promise_are_rejected() {
    assert_eq!(ControllerConfig::default().validate(), Ok(()));
    let mut c = ControllerConfig::default();
    c.failed_redis.swap(0, 2);
    let err = c.validate().unwrap_err();
    assert_eq!(
        err,
        ConfigError::Order {
            plan: "failed_redis".into(),
            first: StepKind::Unmonitor,
            then: StepKind::PromoteSurvivor
        }
    );
    assert_eq!(
        err.to_string(),
        "failed_redis: Unmonitor must come before PromoteSurvivor"
    );
    // Promoting before the fence would let a proxy route to the old master.
    let mut c = safe_plans();
    c.failed_redis.swap(1, 2);
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "failed_redis: FenceRedis must come before PromoteSurvivor"
    );
    assert_eq!(safe_plans().validate(), Ok(()));
    let mut c = ControllerConfig::default();
    c.failed_haproxy.pop();
    assert!(matches!(c.validate(), Err(ConfigError::Steps { .. })));
    let c = ControllerConfig {
        capacity_retry_ms: 0,
        ..ControllerConfig::default()
    };
    assert_eq!(
        c.validate().unwrap_err().to_string(),
        "capacity_retry_ms must be at least 1"
    );
}
