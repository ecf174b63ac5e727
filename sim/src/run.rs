//! One run of a scenario from one seed: build the lab, let the nemesis act while the
//! workload runs, step until the scenario's duration, and collect the history and trace.

use std::time::Duration;

use serde::Serialize;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

use crate::history::{Event, Phase};
use crate::lab::{self, LabOptions};
use crate::nemesis::{FaultRecord, Nemesis};
use crate::scenario::Scenario;
use crate::trace::{Trace, TraceEvent, TraceLayer, TARGET};
use crate::workload::{Mix, WorkloadConfig};

/// Everything a run produced.
pub struct RunResult {
    pub seed: u64,
    pub history: Vec<Event>,
    pub trace: Vec<TraceEvent>,
    pub summary: Summary,
}

/// The run at a glance (the checkers of a later issue go further).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub seed: u64,
    pub duration_ms: u64,
    pub operations: OpCounts,
    pub faults: Vec<FaultRecord>,
    /// Faults that never took effect: each makes the run fail.
    pub fault_problems: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct OpCounts {
    pub invoked: u64,
    pub ok: u64,
    pub fail: u64,
    pub unknown: u64,
    /// Invoked but never completed (the run ended first).
    pub incomplete: u64,
}

impl OpCounts {
    pub fn of(history: &[Event]) -> OpCounts {
        let mut c = OpCounts::default();
        for e in history {
            match e.phase {
                Phase::Invoke => c.invoked += 1,
                Phase::Ok => c.ok += 1,
                Phase::Fail => c.fail += 1,
                Phase::Unknown => c.unknown += 1,
            }
        }
        c.incomplete = c.invoked - (c.ok + c.fail + c.unknown);
        c
    }
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

/// Runs `scenario` with `seed`. Logs go to stderr as `RUST_LOG` asks; the trace is
/// collected whatever `RUST_LOG` says.
pub fn run(scenario: &Scenario, seed: u64) -> RunResult {
    let trace = Trace::default();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let subscriber = tracing_subscriber::registry()
        .with(TraceLayer::new(trace.clone()).with_filter(
            tracing_subscriber::filter::Targets::new().with_target(TARGET, tracing::Level::INFO),
        ))
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        );
    tracing::subscriber::with_default(subscriber, || run_inner(scenario, seed, &trace))
}

fn run_inner(scenario: &Scenario, seed: u64, trace: &Trace) -> RunResult {
    let duration = scenario.duration.to_std();
    let latency = scenario.topology.latency.to_std();
    let options = LabOptions {
        seed,
        tick: scenario.topology.tick.to_std(),
        latency,
        sim_duration: duration + Duration::from_secs(1),
        workload: workload_config(scenario),
    };
    let mut lab = lab::build(&options);
    let mut nemesis = Nemesis::new(&scenario.faults);
    while lab.sim.elapsed() < duration {
        trace.set_now(lab.sim.elapsed());
        nemesis.before_step(&mut lab);
        if let Err(e) = lab.sim.step() {
            tracing::error!(target: TARGET, source = "lab", error = %e, "the simulation stopped");
            break;
        }
        trace.set_now(lab.sim.elapsed());
        nemesis.after_step(&mut lab);
    }
    let history = lab.history.events();
    let summary = Summary {
        seed,
        duration_ms: lab.sim.elapsed().as_millis() as u64,
        operations: OpCounts::of(&history),
        faults: nemesis.records().to_vec(),
        fault_problems: nemesis.problems(),
    };
    RunResult {
        seed,
        history,
        trace: trace.events(),
        summary,
    }
}

pub fn history_jsonl(history: &[Event]) -> String {
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
