//! One run of a scenario from one seed: build the lab, let the nemesis act while the
//! workload runs, step until the scenario's duration, and collect the history and trace.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use failover::config::{ControllerConfig, Policy};
use failover::layout::Topology;

use serde::Serialize;

use crate::lab::cloud_driver as driver;
use crate::lab::{self, Lab, LabOptions};
use crate::nemesis::{FaultRecord, Nemesis};
use crate::redundancy::{self, Live, LiveKind, Redundancy};
use crate::trace::{record, Event, Recording, Trace, TraceEvent};
use crate::workload::{read_back_from, written_keys, ReadBack};
use crate::workload::{Mix, WorkloadConfig};
use judge::checker::{self, Analysis, ExpectationResult};
use judge::history::Entry;
use scenario::Scenario;

/// Everything a run produced.
pub struct RunResult {
    pub seed: u64,
    pub history: Vec<Entry>,
    pub trace: Vec<TraceEvent>,
    /// What each app port's data looked like on its master after the run.
    pub final_state: BTreeMap<u16, ReadBack>,
    pub summary: Summary,
    /// What the checkers found.
    pub analysis: Analysis,
    /// The scenario's `[expect]` table, checked.
    pub expectations: Vec<ExpectationResult>,
}

impl RunResult {
    /// A finished run of `scenario` in either world, with what the checkers find in it.
    pub fn judged(
        scenario: &Scenario,
        seed: u64,
        history: Vec<Entry>,
        trace: Vec<TraceEvent>,
        final_state: BTreeMap<u16, ReadBack>,
        summary: Summary,
    ) -> RunResult {
        let mut input = checker::Input::new(&history, &trace, summary.duration_ms);
        input.faults = summary.faults.clone();
        input.actions = scenario.faults.iter().map(|f| f.action.clone()).collect();
        input.proxies = scenario.topology.lab().proxies;
        input.final_state = final_state.clone();
        input.redundant_at_ms = summary.redundant_at_ms;
        let analysis = checker::analyze(&input);
        let expectations = checker::expectations(&analysis, &scenario.expect);
        RunResult {
            seed,
            history,
            trace,
            final_state,
            summary,
            analysis,
            expectations,
        }
    }
}

impl RunResult {
    /// Whether the run passed: every fault took effect and every expectation was met. The one
    /// decision behind `failover-sim run`'s exit code and the check of scenarios' status.
    pub fn passed(&self) -> bool {
        self.failures().is_empty()
    }

    /// Why the run failed: a controller that could not start (nothing was guarding the
    /// lab, so no figure means anything), faults that never took effect, expectations not
    /// met.
    pub fn failures(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .trace
            .iter()
            .filter_map(|e| match &e.event {
                Event::ControllerCannotStart { error } => {
                    Some(format!("the controller could not start: {error}"))
                }
                _ => None,
            })
            .collect();
        out.extend(self.summary.fault_problems.iter().cloned());
        out.extend(
            self.expectations
                .iter()
                .filter(|e| !e.passed)
                .map(|e| format!("expectation not met: {}", e.message)),
        );
        out
    }
}

/// What the run itself established (the checkers' findings are in [`Analysis`]).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub seed: u64,
    pub duration_ms: u64,
    pub faults: Vec<FaultRecord>,
    /// Faults that never took effect: each makes the run fail.
    pub fault_problems: Vec<String>,
    /// The end-of-run check: fully redundant again, or what is missing.
    pub redundancy: Redundancy,
    /// Since when the lab has been fully redundant without a break (absent if it is not).
    pub redundant_at_ms: Option<u64>,
}

pub fn workload_config(scenario: &Scenario) -> WorkloadConfig {
    let w = &scenario.workload;
    WorkloadConfig {
        clients: w.clients,
        rate: f64::from(w.rate),
        ports: w.ports.clone(),
        timeout: w.timeout.to_std(),
        start: w.start.to_std(),
        stop: w.stop_at(scenario.duration).to_std(),
        mix: Mix {
            write: w.mix.write,
            read: w.mix.read,
            incr: w.mix.incr,
            rpush: w.mix.rpush,
        },
        ..WorkloadConfig::default()
    }
}

/// Runs `scenario` with `seed`. The trace is recorded whatever `RUST_LOG` says; logs go
/// wherever the process's `tracing` subscriber sends them.
pub fn run(scenario: &Scenario, seed: u64) -> RunResult {
    let trace = Trace::default();
    let _recording = Recording::start(&trace);
    run_inner(scenario, seed, &trace)
}

/// The controller's settings from the scenario's `[failover]` table: its policy's
/// profile, with the scenario's interval and fail count.
pub fn controller_config(scenario: &Scenario) -> ControllerConfig {
    let interval = scenario.failover.interval.as_millis().max(1);
    let policy = scenario.failover.policy;
    let profile = ControllerConfig::profile(policy);
    // monit's tests wait for each other, each up to its 5 s connect timeout; polls that go
    // out together must end before the next cycle starts.
    let poll_timeout_ms = match policy {
        Policy::Seed => profile.poll_timeout_ms,
        Policy::Safe => (interval * 4 / 5).max(1),
    };
    ControllerConfig {
        interval_ms: interval,
        fail_count: scenario.failover.fail_count.max(1),
        poll_timeout_ms,
        ..profile
    }
}

/// How often the redundancy watch asks, once a fault has taken effect.
const WATCH_EVERY: Duration = Duration::from_secs(2);

fn run_inner(scenario: &Scenario, seed: u64, trace: &Trace) -> RunResult {
    let duration = scenario.duration.to_std();
    let latency = scenario.topology.latency.to_std();
    let options = LabOptions {
        seed,
        topology: scenario.topology.lab(),
        policy: scenario.failover.policy,
        tick: scenario.topology.tick.to_std(),
        latency,
        // Room after the run for the final check and read-back.
        sim_duration: duration + Duration::from_secs(300),
        workload: workload_config(scenario),
        controller: Some(controller_config(scenario)),
    };
    let mut lab = lab::build(&options);
    let mut nemesis = Nemesis::new(&scenario.faults);
    let watch = Watch {
        topology: Rc::new(options.topology.clone()),
        live: Rc::default(),
        changes: Rc::default(),
    };
    let mut watching = false;
    let mut last_census = (0, 0);
    while lab.sim.elapsed() < duration {
        trace.set_now(lab.sim.elapsed());
        nemesis.before_step(&mut lab);
        lab.cloud.state().borrow_mut().arm(&mut nemesis.cloud);
        if let Err(e) = lab.sim.step() {
            let error = e.to_string();
            record("lab", Event::WorldStopped { error });
            break;
        }
        trace.set_now(lab.sim.elapsed());
        nemesis.after_step(&mut lab);
        let cloud = lab.cloud.clone();
        for (i, at) in driver::after_step(&mut lab, &cloud, &mut nemesis.cloud, seed) {
            nemesis.cloud_fault_took_effect(i, at);
        }
        // Machines come and go rarely; rebuild the watch's list only then.
        let census = (lab.machines.len(), lab.dead.len());
        if census != last_census {
            last_census = census;
            watch.set_live(live_machines(&lab));
        }
        // Watch redundancy from the first fault on: that is when it can be lost.
        if !watching && nemesis.any_took_effect() {
            watching = true;
            lab.sim.client("watch", watch.clone().run());
        }
    }
    let ended = lab.sim.elapsed();
    let (redundancy, final_state) = final_check(&mut lab, trace);
    let history = lab.history.events();
    let redundant_at_ms = redundancy
        .ok
        .then(|| watch.redundant_since(ended))
        .flatten();
    let summary = Summary {
        seed,
        duration_ms: ended.as_millis() as u64,
        faults: nemesis.records().to_vec(),
        fault_problems: nemesis.problems(),
        redundancy,
        redundant_at_ms,
    };
    let trace = trace.events();
    RunResult::judged(scenario, seed, history, trace, final_state, summary)
}

/// The machines alive now, as the redundancy check needs them.
fn live_machines(lab: &Lab) -> Vec<Live> {
    lab.machines
        .iter()
        .filter(|(name, _)| lab.is_alive(name))
        .filter_map(|(name, m)| {
            let kind = if name.starts_with("redis") {
                LiveKind::Redis
            } else if name.starts_with("haproxy") {
                LiveKind::Proxy
            } else if name == "app" {
                LiveKind::App
            } else {
                return None;
            };
            Some(Live {
                name: name.clone(),
                ip: m.ip,
                kind,
            })
        })
        .collect()
}

/// Watches redundancy during the run: when it was lost and when it came back.
#[derive(Clone)]
struct Watch {
    topology: Rc<Topology>,
    live: Rc<RefCell<Vec<Live>>>,
    /// (time, redundant) at each change.
    changes: Rc<RefCell<Vec<(Duration, bool)>>>,
}

impl Watch {
    fn set_live(&self, live: Vec<Live>) {
        *self.live.borrow_mut() = live;
    }

    async fn run(self) -> turmoil::Result {
        loop {
            let live = self.live.borrow().clone();
            let ok = redundancy::check(&live, &self.topology).await.ok;
            let now = turmoil::sim_elapsed().unwrap_or_default();
            {
                let mut changes = self.changes.borrow_mut();
                if changes.last().map(|(_, was)| *was) != Some(ok) {
                    changes.push((now, ok));
                }
            }
            tokio::time::sleep(WATCH_EVERY).await;
        }
    }

    /// Since when the lab has been redundant without a break, if it was at the end.
    fn redundant_since(&self, ended: Duration) -> Option<u64> {
        match self.changes.borrow().last() {
            Some((at, true)) => Some(at.as_millis() as u64),
            Some((_, false)) => Some(ended.as_millis() as u64),
            // Never watched: no fault took effect, the lab was redundant all along.
            None => Some(0),
        }
    }
}

/// After the run: is the lab fully redundant, and what does each port's master hold.
fn final_check(lab: &mut Lab, trace: &Trace) -> (Redundancy, BTreeMap<u16, ReadBack>) {
    let live = live_machines(lab);
    let topology = lab.topology.clone();
    let keys: BTreeMap<u16, Vec<String>> = topology
        .app_ports()
        .into_iter()
        .map(|p| (p, written_keys(&lab.history, p)))
        .collect();
    type Out = Rc<RefCell<Option<(Redundancy, BTreeMap<u16, ReadBack>)>>>;
    let out: Out = Rc::default();
    let sink = out.clone();
    lab.sim.client("final-check", async move {
        let r = redundancy::check(&live, &topology).await;
        let mut state = BTreeMap::new();
        for redis_port in topology.redis_port_list() {
            let app_port = topology.app_port(redis_port);
            let master = r
                .masters
                .get(&redis_port)
                .and_then(|m| live.iter().find(|l| &l.name == m));
            if let Some(m) = master {
                let rb = read_back_from(
                    m.ip,
                    redis_port,
                    app_port,
                    &keys[&app_port],
                    Duration::from_secs(2),
                )
                .await;
                state.insert(app_port, rb);
            }
        }
        *sink.borrow_mut() = Some((r, state));
        Ok(())
    });
    let limit = lab.sim.elapsed() + Duration::from_secs(240);
    while out.borrow().is_none() && lab.sim.elapsed() < limit {
        trace.set_now(lab.sim.elapsed());
        if lab.sim.step().is_err() {
            break;
        }
    }
    let result = out.borrow_mut().take();
    result.unwrap_or_else(|| {
        (
            Redundancy {
                problems: vec!["the final check did not finish".into()],
                ..Redundancy::default()
            },
            BTreeMap::new(),
        )
    })
}

pub fn history_jsonl(history: &[Entry]) -> String {
    let mut out = String::new();
    for e in history {
        out.push_str(&serde_json::to_string(e).expect("history events serialize"));
        out.push('\n');
    }
    out
}

pub fn trace_jsonl(trace: &[TraceEvent]) -> String {
    let mut out = String::new();
    for e in trace {
        out.push_str(&serde_json::to_string(e).expect("trace events serialize"));
        out.push('\n');
    }
    out
}
