//! The async shell around the pure controller: a detection cycle every interval, polls and
//! steps run concurrently, their results fed back as observations, the controller's state
//! saved after every change so that a restarted controller resumes its plans.
//!
//! Generic over the stream type (through [`Connector`]), the cloud and the store, so the
//! same code runs in the lab (turmoil) and in production (tokio).

use std::rc::Rc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout, Instant};

use crate::admin::{CheckParams, HaproxyAdmin, RedisAdmin};
use crate::config::{ControllerConfig, Deployment};
use crate::controller::{Action, Controller, Event};
use crate::effects::{Cloud, Connector, Store};
use crate::layout::MachineRole;
use crate::observation::{Observation, StepOutput};
use crate::plan::Operation;

/// The tracing target of the controller's events.
pub const TARGET: &str = "failover";

/// Where the shell hands every event of the controller's (the lab's trace, failoverd's
/// audit log). Logging through `tracing` happens whether or not one is set.
pub type Recorder = Rc<dyn Fn(crate::event::Event)>;

pub struct Shell<C, K, S> {
    controller: Controller,
    recorder: Option<Recorder>,
    /// Plans resumed from the store, reported once the shell runs.
    resumed: Option<usize>,
    redis: Rc<RedisAdmin<C>>,
    haproxy: Rc<HaproxyAdmin<C>>,
    cloud: Rc<K>,
    store: S,
}

impl<C, K, S> Shell<C, K, S>
where
    C: Connector + Clone + 'static,
    K: Cloud + 'static,
    S: Store,
{
    /// Resumes from the store if it holds a state, else starts from `deployment`.
    pub fn new(
        config: ControllerConfig,
        deployment: Deployment,
        connector: C,
        cloud: K,
        store: S,
    ) -> Result<Self, String> {
        config.validate()?;
        let mut resumed = None;
        let controller = match store.load() {
            Some(state) => {
                let c = Controller::restore(&state)
                    .map_err(|e| format!("the saved controller state is unreadable: {e}"))?;
                resumed = Some(c.active_plans().count());
                c
            }
            None => Controller::new(config.clone(), deployment),
        };
        let ops_timeout = Duration::from_millis(config.poll_timeout_ms);
        Ok(Self {
            redis: Rc::new(RedisAdmin::new(connector.clone(), ops_timeout)),
            haproxy: Rc::new(HaproxyAdmin::new(
                connector,
                controller.layout().haproxy_api_port,
                ops_timeout,
            )),
            controller,
            recorder: None,
            resumed,
            cloud: Rc::new(cloud),
            store,
        })
    }

    /// Hands every controller event to `recorder` as well as to the log.
    pub fn with_recorder(mut self, recorder: Recorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    fn record(&self, event: crate::event::Event) {
        if let Some(r) = &self.recorder {
            r(event);
        }
    }

    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    /// Runs until the task is dropped.
    pub async fn run(mut self) {
        let start = Instant::now();
        let interval = Duration::from_millis(self.controller.config().interval_ms);
        let (tx, mut rx) = mpsc::unbounded_channel::<Observation>();
        let mut tasks: JoinSet<()> = JoinSet::new();
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        self.store.save(&self.controller.snapshot());
        if let Some(plans) = self.resumed.take() {
            tracing::info!(target: TARGET, source = "controller", plans, "resumed from the saved state");
            self.record(crate::event::Event::Resumed { plans });
        }
        loop {
            let observation = tokio::select! {
                biased;
                Some(o) = rx.recv() => o,
                _ = ticks.tick() => Observation::Tick,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            };
            let now_ms = start.elapsed().as_millis() as u64;
            let actions = self.controller.handle(now_ms, observation);
            self.store.save(&self.controller.snapshot());
            for action in actions {
                self.dispatch(action, &tx, &mut tasks);
            }
        }
    }

    fn dispatch(
        &self,
        action: Action,
        tx: &mpsc::UnboundedSender<Observation>,
        tasks: &mut JoinSet<()>,
    ) {
        let tx = tx.clone();
        let poll = Duration::from_millis(self.controller.config().poll_timeout_ms);
        match action {
            Action::PollRedis {
                machine,
                addr,
                port,
            } => {
                let redis = self.redis.clone();
                tasks.spawn_local(async move {
                    let result = match timeout(poll, redis.status(&addr, port)).await {
                        Ok(r) => r.map_err(|e| e.to_string()),
                        Err(_) => Err(format!(
                            "no answer from {addr}:{port} in {} ms",
                            poll.as_millis()
                        )),
                    };
                    let _ = tx.send(Observation::RedisPolled {
                        machine,
                        port,
                        result,
                    });
                });
            }
            Action::PollHaproxy { machine, addr } => {
                let haproxy = self.haproxy.clone();
                tasks.spawn_local(async move {
                    let result = match timeout(poll, haproxy.ping(&addr)).await {
                        Ok(r) => r.map_err(|e| e.to_string()),
                        Err(_) => Err(format!("no answer from {addr} in {} ms", poll.as_millis())),
                    };
                    let _ = tx.send(Observation::HaproxyPolled { machine, result });
                });
            }
            Action::Run {
                plan,
                step,
                kind,
                op,
            } => {
                tracing::info!(target: TARGET, source = "controller", plan, step, kind = ?kind, op = ?op, "step started");
                self.record(crate::event::Event::StepStarted { plan, step, kind });
                let (redis, haproxy, cloud) =
                    (self.redis.clone(), self.haproxy.clone(), self.cloud.clone());
                let config = self.controller.config().clone();
                tasks.spawn_local(async move {
                    let result = execute(&op, &redis, &haproxy, &*cloud, &config).await;
                    let _ = tx.send(Observation::StepFinished { plan, step, result });
                });
            }
            Action::Event(event) => {
                log_event(&event);
                self.record(event.into());
            }
        }
    }
}

fn log_event(event: &Event) {
    match event {
        Event::Failed { machine, failures } => {
            tracing::info!(target: TARGET, source = "controller", machine = %machine, failures, "machine failed")
        }
        Event::CannotRecover { machine, why } => {
            tracing::warn!(target: TARGET, source = "controller", machine = %machine, why = %why, "cannot recover")
        }
        Event::PlanStarted {
            plan,
            kind,
            failed,
            survivor,
        } => {
            tracing::info!(target: TARGET, source = "controller", plan, kind = ?kind, failed = %failed, survivor = %survivor.as_deref().unwrap_or("-"), "plan started")
        }
        Event::StepDone { plan, step, kind } => {
            tracing::info!(target: TARGET, source = "controller", plan, step, kind = ?kind, "step done")
        }
        Event::StepFailed {
            plan,
            step,
            kind,
            error,
            retry_in_ms,
        } => {
            tracing::info!(target: TARGET, source = "controller", plan, step, kind = ?kind, error = %error, retry_in_ms, "step failed")
        }
        Event::PlanFinished { plan, replacement } => {
            tracing::info!(target: TARGET, source = "controller", plan, replacement = ?replacement, "plan finished")
        }
    }
}

/// Carries out one step. Every operation is idempotent.
pub async fn execute<C, K>(
    op: &Operation,
    redis: &RedisAdmin<C>,
    haproxy: &HaproxyAdmin<C>,
    cloud: &K,
    config: &ControllerConfig,
) -> Result<StepOutput, String>
where
    C: Connector + Clone + 'static,
    K: Cloud,
{
    let check = CheckParams {
        inter_ms: config.check_inter_ms,
        fall: config.check_fall,
        rise: config.check_rise,
    };
    let e = |e: crate::admin::AdminError| e.to_string();
    match op {
        Operation::Unregister {
            proxies,
            backends,
            server,
        } => {
            for proxy in proxies {
                for backend in backends {
                    haproxy
                        .remove_server(proxy, backend, server)
                        .await
                        .map_err(e)?;
                }
            }
        }
        Operation::Promote { addr, ports } => {
            for port in ports {
                redis.promote(addr, *port).await.map_err(e)?;
            }
        }
        Operation::Terminate { machine } => {
            let id = machine
                .instance_id
                .as_deref()
                .ok_or_else(|| format!("{} has no instance id to terminate", machine.name))?;
            cloud.terminate(id).await.map_err(|e| e.to_string())?;
        }
        Operation::Launch { role, token } => {
            let info = cloud
                .launch(*role, token)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(StepOutput::Launched(info));
        }
        Operation::WaitReachable { machine, ports } => {
            let deadline = Instant::now() + Duration::from_millis(config.reachable_timeout_ms);
            loop {
                let mut last = Ok(());
                for port in ports {
                    last = match machine.role {
                        MachineRole::Redis => redis.status(&machine.addr, *port).await.map(drop),
                        MachineRole::Haproxy => haproxy.ping(&machine.addr).await,
                    };
                    if last.is_err() {
                        break;
                    }
                }
                match last {
                    Ok(()) => break,
                    Err(err) if Instant::now() >= deadline => {
                        return Err(format!("{} not reachable: {err}", machine.name))
                    }
                    Err(_) => sleep(Duration::from_secs(1)).await,
                }
            }
        }
        Operation::MakeReplica {
            addr,
            master_addr,
            ports,
        } => {
            for port in ports {
                redis
                    .replicate(addr, *port, master_addr, *port)
                    .await
                    .map_err(e)?;
            }
        }
        Operation::Register {
            proxies,
            backends,
            server,
            addr,
        } => {
            for proxy in proxies {
                for (backend, port) in backends {
                    haproxy
                        .add_server(proxy, backend, server, addr, *port, true, &check)
                        .await
                        .map_err(e)?;
                }
            }
        }
        Operation::ConfigureHaproxy { addr, servers } => {
            for (backend, server, server_addr, port) in servers {
                haproxy
                    .add_server(addr, backend, server, server_addr, *port, true, &check)
                    .await
                    .map_err(e)?;
            }
        }
        Operation::PointApp {
            app_addr,
            backends,
            server,
            addr,
        } => {
            for (backend, port) in backends {
                haproxy
                    .set_addr(app_addr, backend, server, addr, *port)
                    .await
                    .map_err(e)?;
            }
        }
    }
    Ok(StepOutput::Done)
}
