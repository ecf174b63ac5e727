//! What the HTTP API shows and controls, shared between the shell's thread of work and
//! the API's handlers: the controller's picture (/status), liveness (/health), the metrics
//! and the maintenance switch. The shell's [`Tap`] keeps it current.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use failover::controller::{Action, Controller};
use failover::event::Event;
use failover::layout::MachineInfo;
use failover::observation::Observation;
use failover::plan::{Operation, Plan, PlanKind};
use failover::shell::{Input, Tap};
use serde::Serialize;
use tokio::sync::watch;

use crate::audit::{AuditLog, Entry};
use crate::metrics::{KindLabels, MasterLabels, Metrics, PollLabels, StepLabels, WhyLabels};

/// The controller's picture, as /status shows it. Holds no credential: the controller
/// knows none.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Picture {
    pub paused: bool,
    pub dry_run: bool,
    pub epoch: u64,
    pub masters: BTreeMap<u16, String>,
    pub monitored: Vec<MachineInfo>,
    pub active_plans: Vec<Plan>,
    pub finished_plans: usize,
}

pub struct Shared {
    pub picture: Mutex<Picture>,
    pub metrics: Metrics,
    pub pause: watch::Sender<bool>,
    /// When the controller was last given anything; /health fails when it is stale.
    pub last_input: Mutex<Instant>,
    pub interval_ms: u64,
    /// Step starts, for their durations: (plan, step) → when.
    started: Mutex<BTreeMap<(u64, usize), (Instant, String)>>,
}

impl Shared {
    pub fn new(interval_ms: u64, dry_run: bool) -> Arc<Shared> {
        let (pause, _) = watch::channel(false);
        Arc::new(Shared {
            picture: Mutex::new(Picture {
                dry_run,
                ..Picture::default()
            }),
            metrics: Metrics::default(),
            pause,
            last_input: Mutex::new(Instant::now()),
            interval_ms,
            started: Mutex::new(BTreeMap::new()),
        })
    }

    /// Healthy while the controller keeps being woken: within five intervals (a poll
    /// that times out still wakes it), or paused.
    pub fn healthy(&self) -> bool {
        let last = *self.last_input.lock().unwrap_or_else(|p| p.into_inner());
        *self.pause.borrow() || last.elapsed().as_millis() < u128::from(self.interval_ms) * 5
    }

    pub fn set_paused(&self, paused: bool) {
        self.pause.send_replace(paused);
        self.metrics.paused.set(i64::from(paused));
        self.picture
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .paused = paused;
    }
}

fn kind_name(kind: PlanKind) -> String {
    match kind {
        PlanKind::FailedRedis => "failed-redis".into(),
        PlanKind::FailedHaproxy => "failed-haproxy".into(),
    }
}

fn step_name(kind: failover::plan::StepKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// What the daemon does with each input and decision: audit line, metrics, picture, and
/// the hook for an app-facing address that changed (Route53).
pub struct DaemonTap {
    pub shared: Arc<Shared>,
    pub audit: Arc<AuditLog>,
    pub dry_run: bool,
    /// Called with (machine name, address) when the app's haproxy was pointed at a new
    /// proxy.
    pub app_facing: Option<Box<dyn Fn(String, String)>>,
}

impl DaemonTap {
    fn observed(&self, o: &Observation) {
        let m = &self.shared.metrics;
        let (role, ok) = match o {
            Observation::RedisPolled { result, .. } => ("redis", result.is_ok()),
            Observation::HaproxyPolled { result, .. } => ("haproxy", result.is_ok()),
            Observation::StepFinished { .. } => return,
        };
        m.polls
            .get_or_create(&PollLabels {
                role: role.into(),
                result: if ok { "ok" } else { "failed" }.into(),
            })
            .inc();
    }

    fn event(&self, e: &Event, controller_plans: &[Plan]) {
        let m = &self.shared.metrics;
        let mut started = self
            .shared
            .started
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match e {
            Event::MachineFailed { .. } => {
                m.machines_failed.inc();
            }
            Event::CannotRecover { why, .. } => {
                m.cannot_recover
                    .get_or_create(&WhyLabels {
                        why: why.label().into(),
                    })
                    .inc();
            }
            Event::PlanStarted { kind, .. } => {
                m.plans_started
                    .get_or_create(&KindLabels {
                        kind: kind_name(*kind),
                    })
                    .inc();
            }
            Event::PlanFinished { plan, .. } => {
                let kind = controller_plans
                    .iter()
                    .find(|p| p.id == *plan)
                    .map_or("unknown".into(), |p| kind_name(p.kind));
                m.plans_finished.get_or_create(&KindLabels { kind }).inc();
            }
            Event::StepDone { plan, step, kind } => {
                if let Some((at, _)) = started.remove(&(*plan, *step)) {
                    m.step_seconds
                        .get_or_create(&StepLabels {
                            step: step_name(*kind),
                        })
                        .observe(at.elapsed().as_secs_f64());
                }
            }
            Event::StepFailed {
                plan, step, kind, ..
            } => {
                started.remove(&(*plan, *step));
                m.steps_failed
                    .get_or_create(&StepLabels {
                        step: step_name(*kind),
                    })
                    .inc();
            }
            _ => {}
        }
    }
}

impl Tap for DaemonTap {
    fn started(&self, snapshot: &str) {
        self.audit.write(Entry::Start {
            snapshot: snapshot.to_string(),
            dry_run: self.dry_run,
        });
    }

    fn input(&self, now_ms: u64, input: &Input, actions: &[Action]) {
        *self
            .shared
            .last_input
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.audit.write(Entry::Input {
            now_ms,
            input: input.clone(),
            actions: actions.to_vec(),
        });
        if let Input::Observed(o) = input {
            self.observed(o);
        }
        let plans = self
            .shared
            .picture
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .active_plans
            .clone();
        for a in actions {
            match a {
                Action::Event(e) => {
                    self.event(e, &plans);
                    if let (
                        Event::StepDone {
                            plan,
                            kind: failover::plan::StepKind::PointApp,
                            ..
                        },
                        Some(hook),
                    ) = (e, &self.app_facing)
                    {
                        if let Some(r) = plans
                            .iter()
                            .find(|p| p.id == *plan)
                            .and_then(|p| p.replacement.clone())
                        {
                            hook(r.name, r.addr);
                        }
                    }
                }
                Action::Run {
                    plan, step, kind, ..
                } => {
                    self.shared
                        .started
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert((*plan, *step), (Instant::now(), step_name(*kind)));
                }
                _ => {}
            }
        }
    }

    fn changed(&self, c: &Controller) {
        let m = &self.shared.metrics;
        let mut p = self
            .shared
            .picture
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if p.masters != *c.masters() {
            m.master.clear();
            for (port, machine) in c.masters() {
                m.master
                    .get_or_create(&MasterLabels {
                        port: port.to_string(),
                        machine: machine.clone(),
                    })
                    .set(1);
            }
        }
        p.epoch = c.epoch();
        p.masters = c.masters().clone();
        p.monitored = c.monitored().into_iter().cloned().collect();
        p.active_plans = c.active_plans().cloned().collect();
        p.finished_plans = c.finished_plans().len();
        m.plans_active.set(p.active_plans.len() as i64);
    }

    fn held(&self, plan: u64, step: usize, op: &Operation) {
        self.audit.write(Entry::Held {
            plan,
            step,
            op: op.clone(),
        });
    }

    fn paused(&self, now_ms: u64, paused: bool) {
        self.audit.write(Entry::Paused { now_ms, paused });
    }
}
