//! The async shell around the pure controller: it sleeps until the controller's next
//! deadline (a detection cycle, a step's retry), runs polls and steps concurrently, feeds
//! their results back as observations, and saves the controller's state after every
//! change so that a restarted controller resumes its plans. The schedule is the
//! controller's; the shell only keeps the clock (this process's, from its start).
//!
//! Generic over the stream type (through [`Connector`]), the cloud and the store, so the
//! same code runs in the lab (turmoil) and in production (tokio).

use std::rc::Rc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{sleep, sleep_until, timeout, Instant};

use crate::admin::{AdminError, CheckParams, HaproxyAdmin, RedisAdmin};
use crate::config::{ControllerConfig, Deployment};
use crate::controller::{Action, Controller};
use crate::effects::{Cloud, Connector, Store};
use crate::error::{ServerError, StartError, StepError};
use crate::event::Event;
use crate::layout::MachineRole;
use crate::observation::{Observation, StepOutput};
use crate::plan::Operation;

/// The tracing target of the controller's events.
pub const TARGET: &str = "failover";

/// Where the shell hands every event of the controller's (the lab's trace, failoverd's
/// audit log). Logging through `tracing` happens whether or not one is set.
pub type Recorder = Rc<dyn Fn(Event)>;

pub struct Shell<C, K, S> {
    controller: Controller,
    recorder: Option<Recorder>,
    /// Plans resumed from the store, reported once the shell runs.
    resumed: Option<usize>,
    /// Where the controller's clock starts: this shell's creation. A restarted process
    /// starts again from 0, which `Controller::restore` accounts for.
    start: Instant,
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
    ///
    /// `epoch` is used only when the store is empty and a fresh state begins: it must be
    /// one no earlier state of this deployment had, since it keeps their launch tokens
    /// apart (see `Controller::new`). `failoverd` would pass random bits; the lab passes
    /// a value drawn from its seed.
    pub fn new(
        config: ControllerConfig,
        deployment: Deployment,
        epoch: u64,
        connector: C,
        cloud: K,
        store: S,
    ) -> Result<Self, StartError> {
        config.validate()?;
        let start = Instant::now();
        let mut resumed = None;
        let controller = match store.load() {
            Some(state) => {
                let c = Controller::restore(&state, 0)?;
                resumed = Some(c.active_plans().count());
                c
            }
            None => Controller::new(config.clone(), deployment, epoch, 0),
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
            start,
            cloud: Rc::new(cloud),
            store,
        })
    }

    /// Hands every controller event to `recorder` as well as to the log.
    pub fn with_recorder(mut self, recorder: Recorder) -> Self {
        self.recorder = Some(recorder);
        self
    }

    fn record(&self, event: Event) {
        if let Some(r) = &self.recorder {
            r(event);
        }
    }

    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    /// The controller's clock.
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Runs until the task is dropped.
    pub async fn run(mut self) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Observation>();
        let mut tasks: JoinSet<()> = JoinSet::new();
        self.store.save(&self.controller.snapshot());
        if let Some(plans) = self.resumed.take() {
            tracing::info!(target: TARGET, source = "controller", plans, "resumed from the saved state");
            self.record(Event::Resumed { plans });
        }
        loop {
            let wake = self.start + Duration::from_millis(self.controller.next_deadline());
            // Results first: they are already here, and one may move the deadline.
            let actions = tokio::select! {
                biased;
                Some(o) = rx.recv() => self.controller.handle(self.now_ms(), o),
                _ = sleep_until(wake) => self.controller.handle_timeout(self.now_ms()),
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            };
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
                        Ok(r) => r.map_err(ServerError::from),
                        Err(_) => Err(ServerError::Timeout {
                            server: format!("{addr}:{port}"),
                            what: "poll".into(),
                            after_ms: poll.as_millis() as u64,
                        }),
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
                let port = self.controller.layout().haproxy_api_port;
                tasks.spawn_local(async move {
                    let result = match timeout(poll, haproxy.ping(&addr)).await {
                        Ok(r) => r.map_err(ServerError::from),
                        Err(_) => Err(ServerError::Timeout {
                            server: format!("{addr}:{port}"),
                            what: "poll".into(),
                            after_ms: poll.as_millis() as u64,
                        }),
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
                self.record(Event::StepStarted { plan, step, kind });
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
                self.record(event);
            }
        }
    }
}

fn log_event(event: &Event) {
    match event {
        Event::MachineFailed { machine, failures } => {
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
        // The controller emits only the variants above; the rest are other sources'.
        other => tracing::info!(target: TARGET, source = "controller", event = ?other),
    }
}

impl From<AdminError> for StepError {
    fn from(e: AdminError) -> Self {
        StepError::Server(e.into())
    }
}

/// Carries out one step. Every operation is idempotent.
pub async fn execute<C, K>(
    op: &Operation,
    redis: &RedisAdmin<C>,
    haproxy: &HaproxyAdmin<C>,
    cloud: &K,
    config: &ControllerConfig,
) -> Result<StepOutput, StepError>
where
    C: Connector + Clone + 'static,
    K: Cloud,
{
    let check = CheckParams {
        inter_ms: config.check_inter_ms,
        fall: config.check_fall,
        rise: config.check_rise,
    };
    match op {
        Operation::Unregister {
            proxies,
            backends,
            server,
        } => {
            for proxy in proxies {
                for backend in backends {
                    haproxy.remove_server(proxy, backend, server).await?;
                }
            }
        }
        Operation::Promote { addr, ports } => {
            for port in ports {
                redis.promote(addr, *port).await?;
            }
        }
        Operation::Terminate { machine } => {
            let id = machine
                .instance_id
                .as_deref()
                .ok_or_else(|| StepError::NoInstanceId {
                    machine: machine.name.clone(),
                })?;
            cloud.terminate(id).await?;
        }
        Operation::Launch { role, token } => {
            let info = cloud.launch(*role, token).await?;
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
                        return Err(StepError::NotReachable {
                            machine: machine.name.clone(),
                            after_ms: config.reachable_timeout_ms,
                            last: err.into(),
                        })
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
                redis.replicate(addr, *port, master_addr, *port).await?;
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
                        .await?;
                }
            }
        }
        Operation::ConfigureHaproxy { addr, servers } => {
            for (backend, server, server_addr, port) in servers {
                haproxy
                    .add_server(addr, backend, server, server_addr, *port, true, &check)
                    .await?;
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
                    .await?;
            }
        }
    }
    Ok(StepOutput::Done)
}
