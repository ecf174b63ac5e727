//! Building the real world, running a scenario in it, and tearing it down.
//!
//! Time zero is the moment the seed deployment is ready (replicas in sync, proxies
//! routing to the master): the lab's machines are ready within its first seconds, and
//! every scenario time (the workload's start, each fault) counts from there.
//!
//! Teardown is `World`'s `Drop`: every machine's processes are killed by PID, the
//! nftables table is deleted, the addresses are given back. It runs on the normal end, on
//! an error, on Ctrl-C (SIGINT and SIGTERM only set a flag, which the run loop polls) and
//! when a panic unwinds.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use failover::config::Policy;
use failover::layout::{MachineRole, Topology};
use failover::shell::Shell;
use failover::store::MemoryStore;
use failover_local::{seed, Address, Binaries, LocalCloud, Ports, Table};
use nix::sys::signal::Signal;
use scenario::Scenario;

use super::cloud::RealCloud;
use super::images;
use super::nemesis::RealNemesis;
use super::net::{FromAddress, RealNet};
use super::preflight::{self, RealError};
use crate::cloud::state::CloudState;
use crate::cloud::CloudEvent;
use crate::lab::initial_deployment;
use crate::machine::derive_seed;
use crate::phase::{CHECKS_START, CONTROLLER_START};
use crate::redundancy::{self, Live, LiveKind, Redundancy};
use crate::run::{controller_config, workload_config, RunResult, Summary};
use crate::trace::{record, Event, Recording, Trace};
use crate::workload::{read_back_with, run_clients, written_keys, ReadBack};
use judge::history::History;

/// The running world. Dropping it tears everything down.
pub struct World {
    start: Instant,
    seed: u64,
    topology: Rc<Topology>,
    pub cloud: RealCloud,
    table: Table,
    monit: Address,
    crashed: RefCell<BTreeSet<String>>,
    /// The addresses of machines that ended, held to the end of the run: their silence
    /// rules stay, so a replacement must never be given one of them.
    held: RefCell<Vec<Address>>,
    controller: RefCell<Option<tokio::task::JoinHandle<()>>>,
    controller_starts: Cell<u64>,
    store: MemoryStore,
    config: failover::config::ControllerConfig,
    deployment: failover::config::Deployment,
    workload_paused: Rc<Cell<bool>>,
    trace: Trace,
    _dir: tempfile::TempDir,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(h) = self.controller.borrow_mut().take() {
            h.abort();
        }
        for r in self.cloud.local.records() {
            if let Err(e) = self.cloud.local.end(&r.name) {
                tracing::error!(machine = %r.name, error = %e, "cannot end a machine");
            }
        }
        // The table goes with its field, the addresses with theirs.
    }
}

impl World {
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }

    pub fn now_ms(&self) -> u64 {
        self.now().as_millis() as u64
    }

    /// Records a trace event stamped with the world's clock.
    pub fn record(&self, source: &str, event: Event) {
        self.trace.set_now(self.now());
        record(source, event);
    }

    /// A progress line for the person waiting (real runs take wall-clock time).
    pub fn log(&self, line: String) {
        tracing::info!(target: "real", "{line}");
        eprintln!("[real {:>7.1} s] {line}", self.now().as_secs_f64());
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    fn ip(&self, name: &str) -> Option<Ipv4Addr> {
        if name == self.topology.monitor {
            return Some(self.monit.ip());
        }
        self.cloud
            .local
            .machine(name)
            .filter(|r| !r.terminated)
            .map(|r| r.ip)
    }

    pub fn ips(&self, names: &[String]) -> Vec<Ipv4Addr> {
        names.iter().filter_map(|n| self.ip(n)).collect()
    }

    /// The port a scenario's process name stands for on its machine.
    fn port_of(&self, process: &str) -> Result<u16, String> {
        if process == "haproxy" {
            return Ok(self.topology.api_port);
        }
        process
            .strip_prefix("redis-")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("no process {process} in the real world"))
    }

    fn alive_machine(&self, machine: &str) -> Result<(), String> {
        if self.crashed.borrow().contains(machine) {
            return Err(format!(
                "{machine} crashed: its processes cannot be commanded"
            ));
        }
        match self.cloud.local.machine(machine) {
            Some(r) if !r.terminated => Ok(()),
            Some(_) => Err(format!("{machine} is terminated")),
            None => Err(format!("no machine named {machine}")),
        }
    }

    /// Silences the machine (nftables drop of every packet to and from its address),
    /// then SIGKILLs its processes: its peers hear nothing.
    pub async fn crash(&self, machine: &str) -> Result<(), String> {
        if machine == self.topology.monitor {
            return self.crash_monitor();
        }
        self.alive_machine(machine)?;
        let ip = self.ip(machine).ok_or("no address")?;
        self.table.silence(ip).map_err(|e| e.to_string())?;
        self.cloud
            .local
            .signal(machine, None, Signal::SIGKILL)
            .map_err(|e| e.to_string())?;
        self.crashed.borrow_mut().insert(machine.to_string());
        Ok(())
    }

    fn alive_monitor(&self) -> Result<(), String> {
        match self.crashed.borrow().contains(&self.topology.monitor) {
            true => Err(format!(
                "{} crashed: its processes cannot be commanded",
                self.topology.monitor
            )),
            false => Ok(()),
        }
    }

    /// monit is no machine of the local cloud: its one process, the controller, runs in
    /// this process from monit's address. Its crash silences that address and ends the
    /// controller, as the lab's does; its saved state stays, like the lab's monit disk.
    fn crash_monitor(&self) -> Result<(), String> {
        let monit = self.topology.monitor.clone();
        if self.crashed.borrow().contains(&monit) {
            return Err(format!("{monit} crashed already"));
        }
        self.table
            .silence(self.monit.ip())
            .map_err(|e| e.to_string())?;
        if let Some(h) = self.controller.borrow_mut().take() {
            h.abort();
        }
        self.crashed.borrow_mut().insert(monit);
        Ok(())
    }

    /// Kills (SIGKILL) or stops (SIGTERM) a process; returns once it is gone.
    pub async fn end_process(
        &self,
        machine: &str,
        process: &str,
        signal: Signal,
        within: Duration,
    ) -> Result<(), String> {
        if process == "controller" && machine == self.topology.monitor {
            self.alive_monitor()?;
            return match self.controller.borrow_mut().take() {
                Some(h) => {
                    h.abort();
                    Ok(())
                }
                None => Err("the controller was not running".into()),
            };
        }
        self.alive_machine(machine)?;
        let port = self.port_of(process)?;
        if !self.cloud.local.alive(machine, port) {
            return Err(format!("{process} on {machine} was not running"));
        }
        self.cloud.local.signal(machine, Some(port), signal)?;
        let until = Instant::now() + within;
        while self.cloud.local.alive(machine, port) {
            if Instant::now() > until {
                return Err(format!(
                    "{process} on {machine} did not exit within {within:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    }

    /// Starts a killed or stopped process again; returns once it listens.
    pub async fn restart_process(&self, machine: &str, process: &str) -> Result<(), String> {
        if process == "controller" && machine == self.topology.monitor {
            self.alive_monitor()?;
            if self.controller.borrow().is_some() {
                return Err("the controller was already running".into());
            }
            self.start_controller(self.now());
            return Ok(());
        }
        self.alive_machine(machine)?;
        let port = self.port_of(process)?;
        if !self
            .cloud
            .local
            .restart(machine, port)
            .map_err(|e| e.to_string())?
        {
            return Err(format!("{process} on {machine} was already running"));
        }
        let ip = self.ip(machine).ok_or("no address")?;
        for _ in 0..500 {
            if tokio::net::TcpStream::connect((ip, port)).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err(format!(
            "{process} on {machine} does not listen 5 s after its restart"
        ))
    }

    /// SIGSTOP (or SIGCONT) a process; the app's workload is frozen by a flag.
    pub fn freeze(&self, machine: &str, process: &str, stop: bool) -> Result<(), String> {
        if process == "workload" && machine == self.topology.app {
            self.workload_paused.set(stop);
            return Ok(());
        }
        self.alive_machine(machine)?;
        let port = self.port_of(process)?;
        let signal = if stop {
            Signal::SIGSTOP
        } else {
            Signal::SIGCONT
        };
        let hit = self.cloud.local.signal(machine, Some(port), signal)?;
        if hit.is_empty() {
            return Err(format!("{process} on {machine} was not running"));
        }
        Ok(())
    }

    /// Starts the controller at scenario time `at`: [`CONTROLLER_START`] for its first
    /// start, as the lab's; now for a restart.
    fn start_controller(&self, at: Duration) {
        let n = self.controller_starts.get();
        self.controller_starts.set(n + 1);
        let epoch = derive_seed(self.seed, &["monit", "controller epoch", &n.to_string()]);
        let (config, deployment) = (self.config.clone(), self.deployment.clone());
        let (connector, cloud, store) = (
            FromAddress(self.monit.ip()),
            self.cloud.clone(),
            self.store.clone(),
        );
        let (trace, start) = (self.trace.clone(), self.start);
        let handle = tokio::task::spawn_local(async move {
            // The shell's clock starts when it is made: made late, its cycles would keep
            // the phase of the moment it was asked for.
            tokio::time::sleep_until((start + at).into()).await;
            let shell = Shell::new(config, deployment, epoch, connector, cloud, store);
            match shell {
                Ok(shell) => {
                    let recorder = Rc::new(move |e| {
                        trace.set_now(start.elapsed());
                        record("controller", e)
                    });
                    shell.with_recorder(recorder).run().await
                }
                Err(e) => {
                    trace.set_now(start.elapsed());
                    record(
                        "monit",
                        Event::ControllerCannotStart {
                            error: e.to_string(),
                        },
                    )
                }
            }
        });
        *self.controller.borrow_mut() = Some(handle);
    }

    /// The machines alive now, as the redundancy check needs them.
    fn live(&self) -> Vec<Live> {
        let crashed = self.crashed.borrow();
        self.cloud
            .local
            .records()
            .into_iter()
            .filter(|r| !r.terminated && !crashed.contains(&r.name))
            .map(|r| {
                let kind = if r.name == self.topology.app {
                    LiveKind::App
                } else {
                    match r.role {
                        MachineRole::Redis => LiveKind::Redis,
                        MachineRole::Haproxy => LiveKind::Proxy,
                    }
                };
                Live {
                    name: r.name.clone(),
                    ip: IpAddr::V4(r.ip),
                    kind,
                }
            })
            .collect()
    }

    /// The checker's network: from 127.0.0.1, a host no fault touches.
    fn checker(&self) -> RealNet {
        RealNet {
            start: self.start,
            source: Ipv4Addr::LOCALHOST,
            paused: Rc::default(),
        }
    }

    /// Ends the machines the control plane terminated: silent first, as in the lab.
    fn drive_cloud(&self, nemesis: &mut RealNemesis) {
        let events = self.cloud.state.borrow_mut().due(self.now());
        for e in events {
            match e {
                CloudEvent::FaultTookEffect { fault_index, at } => {
                    nemesis.cloud_took_effect(self, fault_index, at)
                }
                CloudEvent::Terminate { name, .. } => {
                    if let Some(ip) = ip_of_record(&self.cloud.local, &name) {
                        if !self.crashed.borrow().contains(&name) {
                            let _ = self.table.silence(ip);
                        }
                    }
                    let _ = self.cloud.local.end(&name);
                    if let Some(lease) =
                        ip_of_record(&self.cloud.local, &name).and_then(Address::lease_exact)
                    {
                        self.held.borrow_mut().push(lease);
                    }
                    self.log(format!("{name} terminated by the controller"));
                }
                CloudEvent::Boot { name, .. } => self.log(format!("{name} booted")),
            }
        }
    }
}

/// Time zero: [`CHECKS_START`] before the haproxies' first checks, give or take whole
/// check cycles, the first such instant not in the past. The lab's proxies first check at
/// `CHECKS_START` and a cycle is the longest period a server's checks can have
/// (`ProxyChecks::cycle`), so the real checks come at the lab's phase whatever the
/// servers' health: whether a client's retry meets a proxy already marked DOWN, or a
/// promoted replica's next check comes at once or an interval later, turns on it.
fn in_check_phase(proxies_started: Instant, policy: Policy) -> Instant {
    let cycle = crate::haproxy::presets::ProxyChecks::of(policy).cycle();
    let needed = proxies_started.elapsed() + CHECKS_START;
    let cycles = needed.as_millis().div_ceil(cycle.as_millis().max(1)) as u32;
    proxies_started + cycle * cycles - CHECKS_START
}

/// Builds the seed deployment from real processes and waits until it is ready.
async fn build(scenario: &Scenario, seed_value: u64, trace: &Trace) -> Result<World, RealError> {
    let start_err = |e: &dyn std::fmt::Display| RealError::Start(e.to_string());
    let topology = scenario.topology.lab();
    let policy = scenario.failover.policy;
    let dir = tempfile::tempdir().map_err(|e| start_err(&e))?;
    let bins = Binaries::default();
    let local = LocalCloud::open(
        &dir.path().join("cloud"),
        Duration::ZERO,
        Ports::of(&topology),
        bins.clone(),
    )
    .map_err(|e| start_err(&e))?;
    let table = Table::create("failover_real").map_err(|e| start_err(&e))?;
    let monit = Address::lease().map_err(|e| start_err(&e))?;
    let mut ips: BTreeMap<String, Ipv4Addr> = BTreeMap::new();
    let now = Duration::ZERO;
    let mut master = None;
    for name in &topology.redis_machines {
        let sw = images::redis(&topology, &bins, master);
        let r = local
            .launch_named(&seed::token(name), name, MachineRole::Redis, sw, now)
            .map_err(|e| start_err(&e))?;
        master = master.or(Some(r.ip));
        ips.insert(name.clone(), r.ip);
    }
    // Servers first, as the lab starts them: a proxy started before its servers listen
    // would begin with failed checks.
    for ip in ips.values() {
        for port in topology.redis_port_list() {
            wait_listening(*ip, port).await.map_err(RealError::Start)?;
        }
    }
    for name in &topology.proxies {
        let sw = images::proxy(&topology, policy, name, &ips, &bins);
        let r = local
            .launch_named(&seed::token(name), name, MachineRole::Haproxy, sw, now)
            .map_err(|e| start_err(&e))?;
        ips.insert(name.clone(), r.ip);
    }
    let app = topology.app.clone();
    let sw = images::app(&topology, policy, &ips, &bins);
    let r = local
        .launch_named(&seed::token(&app), &app, MachineRole::Haproxy, sw, now)
        .map_err(|e| start_err(&e))?;
    let proxies_started = first_answer(r.ip, topology.api_port)
        .await
        .map_err(RealError::Start)?;
    ips.insert(app.clone(), r.ip);
    ips.insert(topology.monitor.clone(), monit.ip());
    let ready = seed::wait_ready(&local, &topology, Duration::from_secs(60)).await;
    let zero = in_check_phase(proxies_started, policy);
    tokio::time::sleep_until(zero.into()).await;
    for name in &topology.redis_machines {
        for port in topology.redis_port_list() {
            save_now(ips[name], port).await.map_err(RealError::Start)?;
        }
    }
    let state = Rc::new(RefCell::new(CloudState::new(seed_value)));
    for name in topology.machines() {
        let role = topology.role_of(&name);
        state.borrow_mut().register(
            &name,
            role,
            &ips.get(&name).map(|i| i.to_string()).unwrap_or_default(),
        );
    }
    let deployment = initial_deployment(&topology, |n| {
        IpAddr::V4(ips.get(n).copied().unwrap_or(Ipv4Addr::LOCALHOST))
    });
    let topology = Rc::new(topology);
    let world = World {
        start: zero,
        seed: seed_value,
        cloud: RealCloud {
            state,
            local,
            start: zero,
            topology: topology.clone(),
            policy,
            bins,
        },
        topology,
        table,
        monit,
        crashed: RefCell::default(),
        held: RefCell::default(),
        controller: RefCell::default(),
        controller_starts: Cell::new(0),
        store: MemoryStore::default(),
        config: controller_config(scenario),
        deployment,
        workload_paused: Rc::default(),
        trace: trace.clone(),
        _dir: dir,
    };
    ready.map_err(RealError::Start)?;
    Ok(world)
}

/// Runs `scenario` with `seed` in the real world: the same history, trace, checkers and
/// result as `run::run`, on wall-clock time.
pub fn run(scenario: &Scenario, seed: u64) -> Result<RunResult, RealError> {
    preflight::check(scenario)?;
    let stop = Arc::new(AtomicBool::new(false));
    let ids: Vec<_> = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM]
        .into_iter()
        .filter_map(|s| signal_hook::flag::register(s, stop.clone()).ok())
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RealError::Start(e.to_string()))?;
    let trace = Trace::default();
    let _recording = Recording::start(&trace);
    let local = tokio::task::LocalSet::new();
    let out = local.block_on(&rt, run_in(scenario, seed, &trace, &stop));
    for id in ids {
        signal_hook::low_level::unregister(id);
    }
    out
}

async fn run_in(
    scenario: &Scenario,
    seed: u64,
    trace: &Trace,
    stop: &AtomicBool,
) -> Result<RunResult, RealError> {
    let duration = scenario.duration.to_std();
    let world = build(scenario, seed, trace).await?;
    world.log(format!(
        "seed deployment ready: {}; running {} s",
        world
            .live()
            .iter()
            .map(|l| format!("{} {}", l.name, l.ip))
            .collect::<Vec<_>>()
            .join(", "),
        duration.as_secs()
    ));
    world.start_controller(CONTROLLER_START);
    let history = History::default();
    let app_ip = world.ip(&world.topology.app).unwrap_or(Ipv4Addr::LOCALHOST);
    let net = RealNet {
        start: world.start,
        source: app_ip,
        paused: world.workload_paused.clone(),
    };
    let workload = tokio::task::spawn_local(run_clients(
        workload_config(scenario),
        IpAddr::V4(app_ip),
        history.clone(),
        seed,
        net,
    ));
    let mut nemesis = RealNemesis::new(&scenario.faults);
    // The redundancy watch: (time, redundant) at each change, from the first fault on.
    let changes: Rc<RefCell<Vec<(Duration, bool)>>> = Rc::default();
    let live: Rc<RefCell<Vec<Live>>> = Rc::default();
    let mut watch = None;
    let mut next_progress = Duration::from_secs(15);
    while world.now() < duration {
        if stop.load(Ordering::Relaxed) {
            workload.abort();
            return Err(RealError::Interrupted);
        }
        nemesis.act(&world).await;
        world.drive_cloud(&mut nemesis);
        *live.borrow_mut() = world.live();
        if watch.is_none() && nemesis.any_took_effect() {
            let (net, topology) = (world.checker(), world.topology.clone());
            let (live, changes) = (live.clone(), changes.clone());
            watch = Some(tokio::task::spawn_local(async move {
                loop {
                    let machines = live.borrow().clone();
                    let ok = redundancy::check_with(&net, &machines, &topology).await.ok;
                    let now = net.start.elapsed();
                    {
                        let mut changes = changes.borrow_mut();
                        if changes.last().map(|(_, was)| *was) != Some(ok) {
                            changes.push((now, ok));
                        }
                    }
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }));
        }
        if world.now() >= next_progress {
            let ops = history.events().len();
            let done = nemesis
                .records
                .iter()
                .filter(|r| r.took_effect_ms.is_some())
                .count();
            world.log(format!(
                "{:.0} of {} s, {ops} history entries, {done} of {} faults took effect",
                world.now().as_secs_f64(),
                duration.as_secs(),
                nemesis.records.len()
            ));
            next_progress += Duration::from_secs(15);
        }
        // Awake every 50 ms for the cloud and Ctrl-C, and on time for the next fault:
        // a fault applied late moves it against the lab's checks and polls.
        let tick = world.now() + Duration::from_millis(50);
        let wake = nemesis.next_due().map_or(tick, |due| due.min(tick));
        tokio::time::sleep_until((world.start + wake).into()).await;
    }
    let ended = world.now();
    if let Some(w) = watch {
        w.abort();
    }
    let changes = changes.borrow().clone();
    // In-flight operations finish (within their timeout), then the final check.
    let _ = tokio::time::timeout(Duration::from_secs(5), workload).await;
    let (redundancy, final_state) = final_check(&world, &history).await;
    let redundant_at_ms = redundancy
        .ok
        .then(|| match changes.last() {
            Some((at, true)) => Some(at.as_millis() as u64),
            Some((_, false)) => Some(ended.as_millis() as u64),
            None => Some(0),
        })
        .flatten();
    let faults = nemesis.records.clone();
    let fault_problems = problems(&faults);
    let summary = Summary {
        seed,
        duration_ms: ended.as_millis() as u64,
        faults,
        fault_problems,
        redundancy,
        redundant_at_ms,
    };
    world.log("run over; tearing down".into());
    drop(world);
    let history = history.events();
    let trace = trace.events();
    Ok(RunResult::judged(
        scenario,
        seed,
        history,
        trace,
        final_state,
        summary,
    ))
}

fn problems(records: &[crate::nemesis::FaultRecord]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.took_effect_ms.is_none())
        .map(|r| {
            let why = r.problem.clone().unwrap_or_else(|| match r.kind.as_str() {
                "launch-fails" | "slow-boot" => "no instance was launched after it".to_string(),
                _ => "it never took effect".to_string(),
            });
            format!(
                "fault {} ({}) scheduled at {} never took effect: {why}",
                r.index,
                r.kind,
                scenario::SimDuration::from_millis(r.at_ms)
            )
        })
        .collect()
}

async fn final_check(world: &World, history: &History) -> (Redundancy, BTreeMap<u16, ReadBack>) {
    let live = world.live();
    let net = world.checker();
    let r = redundancy::check_with(&net, &live, &world.topology).await;
    let mut state = BTreeMap::new();
    for redis_port in world.topology.redis_port_list() {
        let app_port = world.topology.app_port(redis_port);
        let keys = written_keys(history, app_port);
        let master = r
            .masters
            .get(&redis_port)
            .and_then(|m| live.iter().find(|l| &l.name == m));
        if let Some(m) = master {
            let rb = read_back_with(
                &net,
                m.ip,
                redis_port,
                app_port,
                &keys,
                Duration::from_secs(2),
            )
            .await;
            state.insert(app_port, rb);
        }
    }
    (r, state)
}

/// Starts redis's save timer at time zero, as the lab's servers start theirs: real
/// servers started seconds earlier, while the deployment came up, and Debian's `save 60
/// 10000` counts from a server's start or last save, so they would snapshot that much
/// sooner and every write after the snapshot would count against a different window.
async fn save_now(ip: Ipv4Addr, port: u16) -> Result<(), String> {
    let why = |e: &dyn std::fmt::Display| format!("SAVE on {ip}:{port} at time zero: {e}");
    let stream = tokio::net::TcpStream::connect((ip, port))
        .await
        .map_err(|e| why(&e))?;
    let mut conn = failover::resp::RespConnection::new(stream);
    let reply = tokio::time::timeout(Duration::from_secs(5), conn.command(&["SAVE"]))
        .await
        .map_err(|_| why(&"no reply within 5 s"))?
        .map_err(|e| why(&e))?;
    match failover::resp::render(&reply).as_str() {
        "OK" => Ok(()),
        other => Err(why(&other)),
    }
}

/// When haproxy's runtime API first answers a command: haproxy schedules its first checks
/// (`start_checks`) just before its polling loop starts, and the API answers only from the
/// loop, so this is the checks' start to a millisecond. Its spawn is tens of ms earlier
/// (exec, reading the configuration), which put the real checks that much behind the lab's.
async fn first_answer(ip: Ipv4Addr, port: u16) -> Result<Instant, String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(stream) = tokio::net::TcpStream::connect((ip, port)).await {
            let asked = failover::runtime_api::runtime_command(stream, "show info");
            if let Ok(Ok(reply)) = tokio::time::timeout(Duration::from_secs(1), asked).await {
                if reply.contains("Name: HAProxy") {
                    return Ok(Instant::now());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Err(format!(
        "the runtime API on {ip}:{port} did not answer `show info` within 5 s of haproxy's start"
    ))
}

async fn wait_listening(ip: Ipv4Addr, port: u16) -> Result<(), String> {
    for _ in 0..500 {
        if tokio::net::TcpStream::connect((ip, port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(format!(
        "nothing listens on {ip}:{port} 5 s after its start"
    ))
}

/// A machine's address, terminated or not.
fn ip_of_record(local: &LocalCloud, name: &str) -> Option<Ipv4Addr> {
    local.machine(name).map(|r| r.ip)
}
