//! The Prometheus metrics (prometheus-client): polls, failures detected, plans, steps and
//! their durations, the master of each port, maintenance mode.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PollLabels {
    pub role: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

/// Why a failed machine was not failed over (`event::Unrecoverable::label`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WhyLabels {
    pub why: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StepLabels {
    pub step: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MasterLabels {
    pub port: String,
    pub machine: String,
}

pub struct Metrics {
    pub registry: Registry,
    pub polls: Family<PollLabels, Counter>,
    pub machines_failed: Counter,
    pub cannot_recover: Family<WhyLabels, Counter>,
    pub plans_started: Family<KindLabels, Counter>,
    pub plans_finished: Family<KindLabels, Counter>,
    pub steps_failed: Family<StepLabels, Counter>,
    pub step_seconds: Family<StepLabels, Histogram>,
    pub plans_active: Gauge,
    pub master: Family<MasterLabels, Gauge>,
    pub paused: Gauge,
}

fn step_buckets() -> Histogram {
    // From a runtime-API command (milliseconds) to a machine's boot (minutes).
    Histogram::new([
        0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    ])
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("failover");
        let m = Metrics {
            polls: Family::default(),
            machines_failed: Counter::default(),
            cannot_recover: Family::default(),
            plans_started: Family::default(),
            plans_finished: Family::default(),
            steps_failed: Family::default(),
            step_seconds: Family::new_with_constructor(step_buckets as fn() -> Histogram),
            plans_active: Gauge::default(),
            master: Family::default(),
            paused: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "polls",
            "Polls of redis servers and haproxy runtime APIs, by result",
            m.polls.clone(),
        );
        registry.register(
            "machines_failed",
            "Machines declared failed (fail_count failed cycles in a row)",
            m.machines_failed.clone(),
        );
        registry.register(
            "cannot_recover",
            "Failed machines not failed over, by why: no survivor, monitor cut off, unconfirmed, no eligible replica, flapping, launch budget (an alert for a person)",
            m.cannot_recover.clone(),
        );
        registry.register(
            "plans_started",
            "Recovery plans started",
            m.plans_started.clone(),
        );
        registry.register(
            "plans_finished",
            "Recovery plans finished (a plan is never abandoned: a failed step is retried)",
            m.plans_finished.clone(),
        );
        registry.register(
            "steps_failed",
            "Failed attempts of plan steps (each is retried)",
            m.steps_failed.clone(),
        );
        registry.register(
            "step_duration_seconds",
            "Duration of successful plan steps",
            m.step_seconds.clone(),
        );
        registry.register(
            "plans_active",
            "Recovery plans under way",
            m.plans_active.clone(),
        );
        registry.register(
            "master",
            "1 for the machine the controller believes is master of a port",
            m.master.clone(),
        );
        registry.register("paused", "1 while in maintenance mode", m.paused.clone());
        Metrics { registry, ..m }
    }
}

impl Metrics {
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String");
        out
    }
}
