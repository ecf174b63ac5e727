//! The controller: a pure state machine. Observations in, actions out; no I/O, no
//! randomness, and no clock of its own: the caller passes the time, and asks when to call
//! again ([`Controller::next_deadline`], then [`Controller::handle_timeout`], as
//! quinn-proto's `poll_timeout` / `handle_timeout`). So the controller owns its schedule
//! (cycles, backoffs) and the caller only sleeps. The same code decides in the lab, in
//! the property tests and in production.
//!
//! Detection is the seed's monit: every cycle every monitored machine is polled; a machine
//! with a failed poll in `fail_count` cycles in a row is failed. Recovery runs the plan of
//! its role (see [`crate::plan`]) one step at a time: a failed step is retried with
//! backoff; the whole state is serializable so that a restarted controller resumes.
//!
//! Times are milliseconds on the caller's monotonic clock. A restarted process has a new
//! clock that does not continue the old one, so [`Controller::restore`] moves every saved
//! time onto it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::budget::Budget;
use crate::config::{ControllerConfig, Deployment, PollOrder};
use crate::detection::{SequentialCycle, ANSWER_GRACE_MS};
use crate::error::{NotReady, RestoreError, StepError};
use crate::event::Event;
use crate::layout::{Layout, MachineInfo, MachineRole};
use crate::observation::{Observation, ServerStat, StepOutput};
use crate::plan::{Operation, Plan, PlanKind, StepKind};
use crate::promotion::Replication;

mod decision;

/// What the controller asks the shell to do, or tells it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    PollRedis {
        machine: String,
        addr: String,
        port: u16,
    },
    PollHaproxy {
        machine: String,
        addr: String,
    },
    /// Carry out one step; report with `Observation::StepFinished`.
    Run {
        plan: u64,
        step: usize,
        kind: StepKind,
        op: Operation,
    },
    /// A decision worth recording: the lab's trace, failoverd's audit log.
    Event(Event),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Machine {
    info: MachineInfo,
    monitored: bool,
    /// Failed cycles in a row.
    failures: u32,
    cycle_failed: bool,
    cycle_ok: bool,
    /// The redis ports whose poll failed this cycle, and in the last closed one: the
    /// servers the quorum asks the proxies about.
    #[serde(default)]
    cycle_failed_ports: BTreeSet<u16>,
    #[serde(default)]
    failed_ports: BTreeSet<u16>,
}

impl Machine {
    fn new(info: MachineInfo, monitored: bool) -> Self {
        Machine {
            info,
            monitored,
            failures: 0,
            cycle_failed: false,
            cycle_ok: false,
            cycle_failed_ports: BTreeSet::new(),
            failed_ports: BTreeSet::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controller {
    config: ControllerConfig,
    /// Chosen when this state was first created and kept through every restore: it keeps
    /// the launch tokens of this state apart from those of any state before it (see
    /// [`Controller::new`]).
    epoch: u64,
    /// The latest time the controller was given. In a snapshot it is the snapshot's "now",
    /// which [`Controller::restore`] maps onto the new process's clock.
    now_ms: u64,
    /// When the next detection cycle is due.
    next_cycle_ms: u64,
    /// The cycle under way when polls go one after another (`PollOrder::OneAfterAnother`).
    #[serde(default)]
    sequence: SequentialCycle,
    layout: Layout,
    machines: BTreeMap<String, Machine>,
    masters: BTreeMap<u16, String>,
    app_slots: BTreeMap<String, String>,
    plans: BTreeMap<u64, Plan>,
    next_plan: u64,
    /// Machines seen answering since they were launched (registration needs it).
    seen_healthy: BTreeSet<String>,
    /// Machines already reported as not recoverable, so the event is not repeated.
    reported: BTreeSet<String>,
    /// Each haproxy's last `show stat` answer; none while its polls fail.
    #[serde(default)]
    views: BTreeMap<String, Vec<ServerStat>>,
    /// What the polls say of each redis server (machine, then port), for promotion.
    #[serde(default)]
    replication: BTreeMap<String, BTreeMap<u16, Replication>>,
    /// Failovers and launches spent, against `config.budget`.
    #[serde(default)]
    budget: Budget,
    /// Plans that finished, for reports and for the property tests.
    finished: Vec<Plan>,
}

impl Controller {
    /// A fresh state for `deployment`, at `now_ms`; the first detection cycle is due at
    /// once.
    ///
    /// `epoch` goes into every launch token (EC2's ClientToken) with the plan id. The plan
    /// id alone is not enough: it starts again at 1 whenever a fresh state is created (a
    /// lost store, a new monit machine), and EC2 answers a token it has seen with the
    /// instance it launched for it back then, so a new plan 1 would be handed the old plan
    /// 1's machine, perhaps long terminated. The epoch is fixed here and kept by every
    /// restore, so a resumed plan keeps its token (which is what makes re-running its
    /// launch safe) while a fresh state never reuses one, provided each fresh state gets
    /// an epoch no earlier one had. It is passed in rather than drawn because the core
    /// draws nothing: `failoverd` would pass random bits, the lab passes a value derived
    /// from its seed and the controller's start count, so runs stay reproducible.
    pub fn new(config: ControllerConfig, deployment: Deployment, epoch: u64, now_ms: u64) -> Self {
        let machines = deployment
            .machines
            .into_iter()
            .map(|info| (info.name.clone(), Machine::new(info, true)))
            .collect::<BTreeMap<_, _>>();
        let seen_healthy = machines.keys().cloned().collect();
        let replication = machines
            .values()
            .filter(|m| m.info.role == MachineRole::Redis)
            .map(|m| {
                let ports = deployment.layout.redis_ports.iter();
                let servers = ports.map(|p| (*p, Replication::in_deployment())).collect();
                (m.info.name.clone(), servers)
            })
            .collect();
        Self {
            config,
            epoch,
            now_ms,
            next_cycle_ms: now_ms,
            sequence: SequentialCycle::default(),
            layout: deployment.layout,
            machines,
            masters: deployment.masters,
            app_slots: deployment.app_slots,
            plans: BTreeMap::new(),
            next_plan: 1,
            seen_healthy,
            reported: BTreeSet::new(),
            views: BTreeMap::new(),
            replication,
            budget: Budget::default(),
            finished: Vec::new(),
        }
    }

    /// The state to persist, so a restarted controller resumes its plans.
    pub fn snapshot(&self) -> String {
        serde_json::to_string(self).expect("the controller's state serializes")
    }

    /// Resumes from a snapshot, at `now_ms` on the new process's clock. A step that was in
    /// flight is run again (steps are idempotent); detection starts over.
    ///
    /// The snapshot's times are on the old process's clock, and the new clock does not
    /// continue it (a monotonic clock counts from its process's start), so every time is
    /// moved by `now_ms - saved now`: a backoff keeps the wait it had left, the next
    /// cycle stays at most one interval away. Kept as they were, the old times would read
    /// as the far future to a clock that started again at 0, and the plans would stall
    /// until the new clock caught up. How long the controller was down is not counted:
    /// without a wall clock it cannot be known, and the waits are short anyway.
    pub fn restore(snapshot: &str, now_ms: u64) -> Result<Self, RestoreError> {
        let mut c: Controller =
            serde_json::from_str(snapshot).map_err(|e| RestoreError::Unreadable(e.to_string()))?;
        let saved = c.now_ms;
        // A past time can fall before the new clock's zero; it becomes the zero. Only
        // when plans started or finished can be that old, and no decision reads those.
        let rebase = |t: u64| match t.checked_sub(saved) {
            Some(ahead) => now_ms.saturating_add(ahead),
            None => now_ms.saturating_sub(saved - t),
        };
        c.now_ms = now_ms;
        c.next_cycle_ms = rebase(c.next_cycle_ms);
        // Detection starts over: the old process's polls will not be answered.
        c.sequence = SequentialCycle::default();
        for plan in c.plans.values_mut().chain(c.finished.iter_mut()) {
            plan.not_before_ms = rebase(plan.not_before_ms);
            plan.started_ms = rebase(plan.started_ms);
            plan.finished_ms = plan.finished_ms.map(rebase);
            plan.in_flight = false;
        }
        for m in c.machines.values_mut() {
            m.failures = 0;
            m.cycle_failed = false;
            m.cycle_ok = false;
            m.cycle_failed_ports.clear();
            m.failed_ports.clear();
        }
        c.views.clear();
        for r in c.replication.values_mut().flat_map(|m| m.values_mut()) {
            r.link_down_since_ms = r.link_down_since_ms.map(rebase);
        }
        c.budget.rebase(rebase);
        Ok(c)
    }

    pub fn config(&self) -> &ControllerConfig {
        &self.config
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// When [`handle_timeout`](Self::handle_timeout) has something to do next: the next
    /// detection cycle, or sooner a plan step whose wait ends. Never `None`, because
    /// detection never stops. Already past when a step is due now (after a restore).
    pub fn next_deadline(&self) -> u64 {
        // While a cycle's polls go one after another, the next cycle waits for its end.
        let detection = self.sequence.deadline().unwrap_or(self.next_cycle_ms);
        self.plans
            .values()
            .filter(|p| !p.in_flight)
            .map(|p| p.not_before_ms)
            .fold(detection, u64::min)
    }

    /// Does what is due at `now_ms`: a detection cycle (the last one's polls are counted,
    /// every monitored machine is polled again) and the steps whose wait is over. Called
    /// early, it does only what is due.
    pub fn handle_timeout(&mut self, now_ms: u64) -> Vec<Action> {
        let now_ms = self.advance(now_ms);
        let mut out = Vec::new();
        match self.config.polls {
            PollOrder::AtOnce => self.cycle_at_once(now_ms, &mut out),
            PollOrder::OneAfterAnother => self.cycle_one_after_another(now_ms, &mut out),
        }
        self.drive_plans(now_ms, &mut out);
        out
    }

    fn cycle_at_once(&mut self, now_ms: u64, out: &mut Vec<Action>) {
        if now_ms < self.next_cycle_ms {
            return;
        }
        self.close_cycle(now_ms, out);
        self.poll(out);
        // Cycles keep their cadence; a caller woken late gets one cycle, not every one
        // it slept through (tokio's `MissedTickBehavior::Delay`).
        self.next_cycle_ms += self.config.interval_ms;
        if self.next_cycle_ms <= now_ms {
            self.next_cycle_ms = now_ms + self.config.interval_ms;
        }
    }

    /// monit's cycle: starts when due; an answer not in by its deadline counts as a
    /// failed poll and the next poll goes out.
    fn cycle_one_after_another(&mut self, now_ms: u64, out: &mut Vec<Action>) {
        if let Some(deadline) = self.sequence.deadline() {
            if now_ms >= deadline {
                if let Some((machine, port)) = self.sequence.awaited() {
                    self.polled(&machine, port, false);
                }
                self.send_next_poll(now_ms, out);
            }
            return;
        }
        if now_ms >= self.next_cycle_ms {
            let mut polls = Vec::new();
            self.poll(&mut polls);
            self.sequence.start(polls);
            self.send_next_poll(now_ms, out);
        }
    }

    /// The cycle's next poll, or, when none is left, the cycle's end: failures are
    /// counted and the next cycle is due an interval from now.
    fn send_next_poll(&mut self, now_ms: u64, out: &mut Vec<Action>) {
        let give_up = now_ms + self.config.poll_timeout_ms + ANSWER_GRACE_MS;
        match self.sequence.next(give_up) {
            Some(poll) => out.push(poll),
            None => {
                self.close_cycle(now_ms, out);
                self.next_cycle_ms = now_ms + self.config.interval_ms;
            }
        }
    }

    /// A poll's answer: counted at once when polls go out together; one after another,
    /// only the awaited answer counts, and it sends the next poll.
    fn answered(
        &mut self,
        now_ms: u64,
        machine: &str,
        port: Option<u16>,
        ok: bool,
        out: &mut Vec<Action>,
    ) {
        match self.config.polls {
            PollOrder::AtOnce => self.polled(machine, port, ok),
            PollOrder::OneAfterAnother => {
                if self.sequence.is_awaited(machine, port) {
                    self.polled(machine, port, ok);
                    self.send_next_poll(now_ms, out);
                }
            }
        }
    }

    /// The caller's clock is monotonic; an earlier time than the last is taken as the last,
    /// so a deadline once passed stays passed.
    fn advance(&mut self, now_ms: u64) -> u64 {
        self.now_ms = self.now_ms.max(now_ms);
        self.now_ms
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn active_plans(&self) -> impl Iterator<Item = &Plan> {
        self.plans.values()
    }

    pub fn finished_plans(&self) -> &[Plan] {
        &self.finished
    }

    /// Which machine the controller believes is master of each port.
    pub fn masters(&self) -> &BTreeMap<u16, String> {
        &self.masters
    }

    pub fn monitored(&self) -> Vec<&MachineInfo> {
        self.machines
            .values()
            .filter(|m| m.monitored)
            .map(|m| &m.info)
            .collect()
    }

    pub fn seen_healthy(&self, machine: &str) -> bool {
        self.seen_healthy.contains(machine)
    }

    /// Feeds one observation at time `now_ms`; returns what to do.
    pub fn handle(&mut self, now_ms: u64, observation: Observation) -> Vec<Action> {
        let now_ms = self.advance(now_ms);
        let mut out = Vec::new();
        match observation {
            Observation::RedisPolled {
                machine,
                port,
                result,
            } => {
                if let Some(r) = self
                    .replication
                    .get_mut(&machine)
                    .and_then(|m| m.get_mut(&port))
                {
                    r.observe(now_ms, &result);
                }
                self.answered(now_ms, &machine, Some(port), result.is_ok(), &mut out)
            }
            Observation::HaproxyPolled { machine, result } => {
                let ok = result.is_ok();
                match result {
                    Ok(stats) => self.views.insert(machine.clone(), stats),
                    Err(_) => self.views.remove(&machine),
                };
                self.answered(now_ms, &machine, None, ok, &mut out)
            }
            Observation::StepFinished { plan, step, result } => {
                self.step_finished(now_ms, plan, step, result, &mut out)
            }
        }
        self.drive_plans(now_ms, &mut out);
        out
    }

    fn poll(&self, out: &mut Vec<Action>) {
        for m in self.machines.values().filter(|m| m.monitored) {
            match m.info.role {
                MachineRole::Redis => {
                    for port in &self.layout.redis_ports {
                        out.push(Action::PollRedis {
                            machine: m.info.name.clone(),
                            addr: m.info.addr.clone(),
                            port: *port,
                        });
                    }
                }
                MachineRole::Haproxy => out.push(Action::PollHaproxy {
                    machine: m.info.name.clone(),
                    addr: m.info.addr.clone(),
                }),
            }
        }
    }

    fn polled(&mut self, machine: &str, port: Option<u16>, ok: bool) {
        if let Some(m) = self.machines.get_mut(machine).filter(|m| m.monitored) {
            if ok {
                m.cycle_ok = true;
            } else {
                m.cycle_failed = true;
                m.cycle_failed_ports.extend(port);
            }
        }
    }

    /// Ends a detection cycle: counts failures in a row and starts plans for failed machines.
    fn close_cycle(&mut self, now_ms: u64, out: &mut Vec<Action>) {
        let mut failed = Vec::new();
        for m in self.machines.values_mut().filter(|m| m.monitored) {
            if m.cycle_failed {
                m.failures += 1;
            } else if m.cycle_ok {
                m.failures = 0;
                // Recovered: a later failure is a new incident, reported again.
                self.reported.remove(&m.info.name);
            }
            m.cycle_failed = false;
            m.cycle_ok = false;
            m.failed_ports = std::mem::take(&mut m.cycle_failed_ports);
            if m.failures >= self.config.fail_count {
                failed.push(m.info.name.clone());
            }
        }
        for name in failed {
            self.recover(now_ms, &name, out);
        }
    }

    fn in_a_plan(&self, machine: &str) -> bool {
        self.plans.values().any(|p| {
            p.failed.name == machine || p.replacement.as_ref().is_some_and(|r| r.name == machine)
        })
    }

    fn recover(&mut self, now_ms: u64, name: &str, out: &mut Vec<Action>) {
        if self.in_a_plan(name) {
            return;
        }
        let failed = self.machines[name].info.clone();
        let survivor = match self.decide(now_ms, &failed) {
            Ok(survivor) => survivor,
            Err(why) => return self.hold(name, why, out),
        };
        self.spend_budget(now_ms, &failed);
        self.reported.remove(name);
        out.push(Action::Event(Event::MachineFailed {
            machine: name.to_string(),
            failures: self.machines[name].failures,
        }));
        let (kind, steps) = match failed.role {
            MachineRole::Redis => (PlanKind::FailedRedis, self.config.failed_redis.clone()),
            MachineRole::Haproxy => (PlanKind::FailedHaproxy, self.config.failed_haproxy.clone()),
        };
        let app_slot = self
            .app_slots
            .iter()
            .find(|(_, m)| **m == failed.name)
            .map(|(slot, _)| slot.clone());
        let id = self.next_plan;
        self.next_plan += 1;
        out.push(Action::Event(Event::PlanStarted {
            plan: id,
            kind,
            failed: failed.name.clone(),
            survivor: survivor.as_ref().map(|s| s.name.clone()),
        }));
        self.plans.insert(
            id,
            Plan {
                id,
                kind,
                steps,
                failed,
                survivor,
                app_slot,
                replacement: None,
                next: 0,
                attempts: 0,
                not_before_ms: now_ms,
                in_flight: false,
                started_ms: now_ms,
                finished_ms: None,
            },
        );
    }

    /// Every monitored proxy, answering or not: a step that must reach one that does not
    /// answer fails and is retried until the proxy answers or is declared failed (and
    /// unmonitored). Skipping it instead would leave it without the change for good.
    fn proxies(&self) -> Vec<String> {
        self.machines
            .values()
            .filter(|m| m.monitored && m.info.role == MachineRole::Haproxy)
            .map(|m| m.info.addr.clone())
            .collect()
    }

    /// The redis servers a proxy should have: per port, the master first, then the other
    /// monitored redis machines.
    fn redis_servers(&self) -> Vec<(String, String, String, u16)> {
        let mut out = Vec::new();
        for port in &self.layout.redis_ports {
            let master = self.masters.get(port);
            let mut machines: Vec<&MachineInfo> = self
                .machines
                .values()
                .filter(|m| m.monitored && m.info.role == MachineRole::Redis)
                .map(|m| &m.info)
                .collect();
            machines.sort_by_key(|m| (Some(&m.name) != master, m.name.clone()));
            for m in machines {
                out.push((
                    self.layout.backend(*port),
                    m.name.clone(),
                    m.addr.clone(),
                    *port,
                ));
            }
        }
        out
    }

    /// The concrete operation of a plan's current step, or why it cannot run yet.
    fn operation(&self, plan: &Plan, kind: StepKind) -> Result<Operation, NotReady> {
        let layout = &self.layout;
        let survivor = || {
            plan.survivor
                .clone()
                .ok_or(NotReady::NoSurvivor { step: kind })
        };
        let replacement = || {
            plan.replacement
                .clone()
                .ok_or(NotReady::NotLaunched { step: kind })
        };
        let seen = |r: &MachineInfo| {
            if self.seen_healthy.contains(&r.name) {
                Ok(())
            } else {
                Err(NotReady::NotSeenHealthy {
                    machine: r.name.clone(),
                })
            }
        };
        Ok(match kind {
            StepKind::UnregisterRedis => Operation::Unregister {
                proxies: self.proxies(),
                backends: layout
                    .redis_ports
                    .iter()
                    .map(|p| layout.backend(*p))
                    .collect(),
                server: plan.failed.name.clone(),
            },
            StepKind::FenceRedis => Operation::Fence {
                proxies: self.proxies(),
                backends: layout
                    .redis_ports
                    .iter()
                    .map(|p| layout.backend(*p))
                    .collect(),
                server: plan.failed.name.clone(),
            },
            StepKind::PromoteSurvivor => {
                let s = survivor()?;
                Operation::Promote {
                    ports: layout
                        .redis_ports
                        .iter()
                        .copied()
                        .filter(|p| self.masters.get(p) != Some(&s.name))
                        .collect(),
                    addr: s.addr,
                }
            }
            StepKind::Terminate => Operation::Terminate {
                machine: plan.failed.clone(),
            },
            StepKind::Launch => Operation::Launch {
                role: plan.failed.role,
                // Within EC2's 64 characters; see `Controller::new` for why the epoch.
                token: format!("{:016x}-plan-{}", self.epoch, plan.id),
            },
            StepKind::WaitReachable => {
                let machine = replacement()?;
                let ports = match machine.role {
                    MachineRole::Redis => layout.redis_ports.clone(),
                    MachineRole::Haproxy => vec![layout.haproxy_api_port],
                };
                Operation::WaitReachable { machine, ports }
            }
            StepKind::MakeReplica => Operation::MakeReplica {
                addr: replacement()?.addr,
                master_addr: survivor()?.addr,
                ports: layout.redis_ports.clone(),
            },
            StepKind::RegisterRedis => {
                let r = replacement()?;
                seen(&r)?;
                Operation::Register {
                    proxies: self.proxies(),
                    backends: layout
                        .redis_ports
                        .iter()
                        .map(|p| (layout.backend(*p), *p))
                        .collect(),
                    server: r.name,
                    addr: r.addr,
                }
            }
            StepKind::ConfigureHaproxy => {
                let r = replacement()?;
                seen(&r)?;
                Operation::ConfigureHaproxy {
                    addr: r.addr,
                    servers: self.redis_servers(),
                }
            }
            StepKind::PointApp => {
                let r = replacement()?;
                seen(&r)?;
                Operation::PointApp {
                    app_addr: layout.app_addr.clone(),
                    backends: layout.app_backends.clone(),
                    server: plan.app_slot.clone().ok_or_else(|| NotReady::NoAppSlot {
                        machine: plan.failed.name.clone(),
                    })?,
                    addr: r.addr,
                }
            }
            StepKind::Unmonitor | StepKind::Monitor => {
                return Err(NotReady::Internal { step: kind })
            }
        })
    }

    /// The wait before the next attempt of a step that failed `attempts` times in a row.
    fn backoff(&self, attempts: u32) -> u64 {
        let shift = attempts.saturating_sub(1).min(20);
        (self.config.retry_min_ms << shift).min(self.config.retry_max_ms)
    }

    fn drive_plans(&mut self, now_ms: u64, out: &mut Vec<Action>) {
        let ids: Vec<u64> = self.plans.keys().copied().collect();
        for id in ids {
            loop {
                let plan = &self.plans[&id];
                if plan.in_flight || plan.not_before_ms > now_ms {
                    break;
                }
                let Some(kind) = plan.current() else {
                    let mut plan = self.plans.remove(&id).expect("plan exists");
                    plan.finished_ms = Some(now_ms);
                    out.push(Action::Event(Event::PlanFinished {
                        plan: id,
                        replacement: plan.replacement.as_ref().map(|r| r.name.clone()),
                    }));
                    self.finished.push(plan);
                    break;
                };
                let step = plan.next;
                if kind.is_internal() {
                    self.apply(id, kind, &StepOutput::Done);
                    out.push(Action::Event(Event::StepDone {
                        plan: id,
                        step,
                        kind,
                    }));
                    let plan = self.plans.get_mut(&id).expect("plan exists");
                    plan.next += 1;
                    plan.attempts = 0;
                    continue;
                }
                match self.operation(plan, kind) {
                    Ok(op) => {
                        self.plans.get_mut(&id).expect("plan exists").in_flight = true;
                        out.push(Action::Run {
                            plan: id,
                            step,
                            kind,
                            op,
                        });
                    }
                    Err(why) => self.fail_step(now_ms, id, step, kind, why.into(), out),
                }
                break;
            }
        }
    }

    fn fail_step(
        &mut self,
        now_ms: u64,
        id: u64,
        step: usize,
        kind: StepKind,
        error: StepError,
        out: &mut Vec<Action>,
    ) {
        let mut attempts = self.plans[&id].attempts;
        let retry_in_ms = if error.is_capacity() {
            // Its own policy (see `ControllerConfig::capacity_retry_ms`); not counted as an
            // attempt, so a real failure after the shortage backs off from the start.
            self.config.capacity_retry_ms
        } else {
            attempts += 1;
            self.backoff(attempts)
        };
        let plan = self.plans.get_mut(&id).expect("plan exists");
        plan.attempts = attempts;
        plan.in_flight = false;
        plan.not_before_ms = now_ms + retry_in_ms;
        out.push(Action::Event(Event::StepFailed {
            plan: id,
            step,
            kind,
            error,
            retry_in_ms,
        }));
    }

    fn step_finished(
        &mut self,
        now_ms: u64,
        id: u64,
        step: usize,
        result: Result<StepOutput, StepError>,
        out: &mut Vec<Action>,
    ) {
        let Some(plan) = self.plans.get(&id) else {
            return;
        };
        // A late report of a step we no longer wait for (restarted controller): ignore it.
        if plan.next != step || !plan.in_flight {
            return;
        }
        let kind = plan.steps[step];
        match result {
            Ok(output) => {
                self.apply(id, kind, &output);
                let plan = self.plans.get_mut(&id).expect("plan exists");
                plan.in_flight = false;
                plan.next += 1;
                plan.attempts = 0;
                plan.not_before_ms = now_ms;
                out.push(Action::Event(Event::StepDone {
                    plan: id,
                    step,
                    kind,
                }));
            }
            Err(error) => self.fail_step(now_ms, id, step, kind, error, out),
        }
    }

    /// What a finished step changes in the controller's picture of the world.
    fn apply(&mut self, id: u64, kind: StepKind, output: &StepOutput) {
        let plan = self.plans[&id].clone();
        match kind {
            StepKind::Unmonitor => {
                if let Some(m) = self.machines.get_mut(&plan.failed.name) {
                    m.monitored = false;
                }
            }
            StepKind::PromoteSurvivor => {
                if let Some(s) = &plan.survivor {
                    for port in &self.layout.redis_ports {
                        self.masters.insert(*port, s.name.clone());
                    }
                }
            }
            StepKind::Terminate => {
                self.machines.remove(&plan.failed.name);
                self.seen_healthy.remove(&plan.failed.name);
                self.replication.remove(&plan.failed.name);
                self.views.remove(&plan.failed.name);
            }
            StepKind::Launch => {
                if let StepOutput::Launched(info) = output {
                    self.machines
                        .insert(info.name.clone(), Machine::new(info.clone(), false));
                    if info.role == MachineRole::Redis {
                        let ports = self.layout.redis_ports.iter();
                        let servers = ports.map(|p| (*p, Replication::launched())).collect();
                        self.replication.insert(info.name.clone(), servers);
                    }
                    self.plans.get_mut(&id).expect("plan exists").replacement = Some(info.clone());
                }
            }
            StepKind::WaitReachable => {
                if let Some(r) = &plan.replacement {
                    self.seen_healthy.insert(r.name.clone());
                }
            }
            StepKind::PointApp => {
                if let (Some(slot), Some(r)) = (&plan.app_slot, &plan.replacement) {
                    self.app_slots.insert(slot.clone(), r.name.clone());
                }
            }
            StepKind::Monitor => {
                if let Some(m) = plan
                    .replacement
                    .as_ref()
                    .and_then(|r| self.machines.get_mut(&r.name))
                {
                    m.monitored = true;
                    m.failures = 0;
                }
            }
            StepKind::UnregisterRedis
            | StepKind::FenceRedis
            | StepKind::MakeReplica
            | StepKind::RegisterRedis
            | StepKind::ConfigureHaproxy => {}
        }
    }
}
