//! The async shell around the pure controller: it sleeps until the controller's next
//! deadline (a detection cycle, a step's retry), runs polls and steps concurrently, feeds
//! their results back as observations, and saves the controller's state after every
//! change so that a restarted controller resumes its plans. The schedule is the
//! controller's; the shell only keeps the clock (this process's, from its start).
//!
//! Generic over the stream type (through [`Connector`]), the cloud and the store, so the
//! same code runs in the lab (turmoil) and in production (tokio).
//!
//! What a daemon adds is optional and changes no decision: a [`Tap`] sees every input the
//! controller is given with the actions it returned (failoverd's audit log, metrics and
//! /status), a [`Mode`] can hold the controller (maintenance) or keep steps from being
//! carried out (a dry run), and [`Shell::run_until`] stops cleanly.

use std::rc::Rc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
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

/// One input to the controller: a timeout, or an observation. With the time it was given
/// and the snapshot the shell started from, a sequence of these replays the controller's
/// decisions exactly (the core is pure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    Timeout,
    Observed(Observation),
}

/// Sees what the controller is given and what it decides. Every method defaults to doing
/// nothing.
pub trait Tap {
    /// The shell starts from this state (fresh or restored), at time 0 of its clock.
    fn started(&self, _snapshot: &str) {}
    /// The controller was given `input` at `now_ms` and returned `actions`.
    fn input(&self, _now_ms: u64, _input: &Input, _actions: &[Action]) {}
    /// The controller's state changed (after every input).
    fn changed(&self, _controller: &Controller) {}
    /// The shell held a step instead of running it (dry run).
    fn held(&self, _plan: u64, _step: usize, _op: &Operation) {}
    /// The shell was paused (true) or resumed (false).
    fn paused(&self, _now_ms: u64, _paused: bool) {}
}

/// How the shell treats the controller's actions, beyond the lab's default (run them all).
#[derive(Clone, Default)]
pub struct Mode {
    /// Maintenance: while the value is true the controller is given nothing, so it starts
    /// no plan and runs no step (detection is frozen too: failures in a row are neither
    /// counted nor forgotten). Results of polls made before the pause are dropped; results
    /// of steps are kept and given on resume, so no plan loses track of its step.
    pub paused: Option<watch::Receiver<bool>>,
    /// A dry run: polls run and the controller decides, but steps are logged and held,
    /// never carried out (a held step's plan waits on it for good).
    pub dry_run: bool,
}

pub struct Shell<C, K, S> {
    controller: Controller,
    recorder: Option<Recorder>,
    tap: Option<Rc<dyn Tap>>,
    mode: Mode,
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
            tap: None,
            mode: Mode::default(),
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

    /// Shows every input and decision to `tap`.
    pub fn with_tap(mut self, tap: Rc<dyn Tap>) -> Self {
        self.tap = Some(tap);
        self
    }

    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
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
    pub async fn run(self) {
        self.run_until(std::future::pending(), Duration::ZERO).await
    }

    /// Runs until `stop` completes, then gives the steps under way up to `grace` to
    /// finish, feeds their results, saves the state and returns. Nothing new starts after
    /// `stop`: a step the controller hands out then is not run, and neither is one still
    /// running after `grace`; the saved state has it in flight, and a restarted
    /// controller runs it again (steps are idempotent), so the state is a checkpoint
    /// either way.
    pub async fn run_until(mut self, stop: impl std::future::Future<Output = ()>, grace: Duration) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Observation>();
        let mut tasks: JoinSet<()> = JoinSet::new();
        let snapshot = self.controller.snapshot();
        self.store.save(&snapshot);
        if let Some(tap) = &self.tap {
            tap.started(&snapshot);
            tap.changed(&self.controller);
        }
        if let Some(plans) = self.resumed.take() {
            tracing::info!(target: TARGET, source = "controller", plans, "resumed from the saved state");
            self.record(Event::Resumed { plans });
        }
        let mut paused = self.mode.paused.clone();
        let mut held: Vec<Observation> = Vec::new();
        tokio::pin!(stop);
        loop {
            let is_paused = paused.as_ref().is_some_and(|p| *p.borrow());
            if !is_paused && !held.is_empty() {
                for o in std::mem::take(&mut held) {
                    self.give(Input::Observed(o), &tx, &mut tasks, true);
                }
                continue;
            }
            let wake = self.start + Duration::from_millis(self.controller.next_deadline());
            // Results first: they are already here, and one may move the deadline.
            let input = tokio::select! {
                biased;
                _ = &mut stop => break,
                Some(o) = rx.recv() => Input::Observed(o),
                Ok(()) = async { paused.as_mut().expect("guarded").changed().await }, if paused.is_some() => {
                    let now = *paused.as_ref().expect("guarded").borrow();
                    tracing::info!(target: TARGET, source = "controller", paused = now, "maintenance mode changed");
                    if let Some(tap) = &self.tap {
                        tap.paused(self.now_ms(), now);
                    }
                    continue;
                }
                _ = sleep_until(wake), if !is_paused => Input::Timeout,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            };
            if is_paused {
                if let Input::Observed(o @ Observation::StepFinished { .. }) = input {
                    held.push(o);
                }
                continue;
            }
            self.give(input, &tx, &mut tasks, true);
        }
        self.finish(rx, held, tasks, grace, &tx).await;
    }

    /// After a stop: feeds the results of steps that finish within `grace`, runs nothing.
    async fn finish(
        &mut self,
        mut rx: mpsc::UnboundedReceiver<Observation>,
        held: Vec<Observation>,
        mut tasks: JoinSet<()>,
        grace: Duration,
        tx: &mpsc::UnboundedSender<Observation>,
    ) {
        let deadline = Instant::now() + grace;
        for o in held {
            self.give(Input::Observed(o), tx, &mut tasks, false);
        }
        loop {
            while let Ok(o) = rx.try_recv() {
                if matches!(o, Observation::StepFinished { .. }) {
                    self.give(Input::Observed(o), tx, &mut tasks, false);
                }
            }
            if tasks.is_empty() {
                break;
            }
            tokio::select! {
                biased;
                Some(_) = tasks.join_next() => {}
                _ = sleep_until(deadline) => break,
            }
        }
        tasks.abort_all();
        self.store.save(&self.controller.snapshot());
        tracing::info!(target: TARGET, source = "controller", "stopped; state saved");
    }

    /// Gives the controller one input, saves its state, and carries out what it returns
    /// (steps only when `run_steps`).
    fn give(
        &mut self,
        input: Input,
        tx: &mpsc::UnboundedSender<Observation>,
        tasks: &mut JoinSet<()>,
        run_steps: bool,
    ) {
        let now = self.now_ms();
        let actions = match &input {
            Input::Timeout => self.controller.handle_timeout(now),
            Input::Observed(o) => self.controller.handle(now, o.clone()),
        };
        self.store.save(&self.controller.snapshot());
        if let Some(tap) = &self.tap {
            tap.input(now, &input, &actions);
            tap.changed(&self.controller);
        }
        for action in actions {
            match action {
                Action::Run { .. } if !run_steps => {}
                Action::Run { plan, step, op, .. } if self.mode.dry_run => {
                    tracing::info!(target: TARGET, source = "controller", plan, step, op = ?op, "dry run: would run this step; holding it");
                    if let Some(tap) = &self.tap {
                        tap.held(plan, step, &op);
                    }
                }
                action => self.dispatch(action, tx, tasks),
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
                    let result = match timeout(poll, haproxy.server_stats(&addr)).await {
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
            haproxy.remove_everywhere(proxies, backends, server).await?;
        }
        Operation::Fence {
            proxies,
            backends,
            server,
        } => {
            haproxy.fence_everywhere(proxies, backends, server).await?;
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
