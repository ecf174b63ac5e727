//! The seed lab in turmoil: six machines, their processes, and the handles the nemesis and
//! the runner need. Machines, ports and proxy configurations come from one
//! [`Topology`]; the seed's is
//!
//! ```text
//! app (workload → local haproxy :7001/:7002) → haproxy1 | haproxy2 (:8001/:8002)
//!     → redis1 | redis2 (:9001/:9002; redis2's servers start as replicas of redis1's)
//! monit (the failover controller, `failover::shell::Shell`, with the simulated EC2)
//! ```
//!
//! and `redis_ports = N` makes it 7001.., 8001.., 9001..9000+N.

pub mod boot;
pub mod cloud_driver;
pub mod network;
pub mod retransmission;

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use crate::cloud::SimCloud;
use crate::haproxy::{presets, run_haproxy_checking_after, HaproxyConfig};
use crate::machine::{
    derive_seed, factory, first_start_after, start_machine, MachineControl, MachineSpec,
    ProcessFactory,
};
use crate::net::TurmoilConnector;
use crate::phase::{CHECKS_START, CONTROLLER_START};
use crate::redis::{run_redis, RedisConfig};
use crate::trace::{record, Event};
use crate::workload::{run_workload, WorkloadConfig};
use failover::config::{ControllerConfig, Deployment, Policy};
use failover::layout::{MachineRole, Topology};
use failover::shell::Shell;
use failover::store::MemoryStore;
use judge::history::History;

use network::{Network, Reason};

/// What shapes the lab.
#[derive(Clone, Debug)]
pub struct LabOptions {
    pub seed: u64,
    /// The machines, their redis ports and proxies.
    pub topology: Topology,
    /// The failover design: the proxies' checks follow it (the controller's settings are
    /// in `controller`).
    pub policy: Policy,
    pub tick: Duration,
    /// One-way latency between machines.
    pub latency: Duration,
    /// How long turmoil may run (the scenario's duration plus a margin).
    pub sim_duration: Duration,
    pub workload: WorkloadConfig,
    /// The failover controller monit runs; `None` runs the lab without one.
    pub controller: Option<ControllerConfig>,
}

/// One machine of the running lab.
#[derive(Clone)]
pub struct MachineHandle {
    pub control: MachineControl,
    pub ip: IpAddr,
    /// The processes the machine runs, by name.
    pub processes: Vec<String>,
}

pub struct Lab<'a> {
    pub sim: turmoil::Sim<'a>,
    /// What the machines run; replacements boot with the same ports.
    pub topology: Topology,
    /// The failover design the machines are configured for.
    pub policy: Policy,
    /// Every machine ever started, live or dead.
    pub machines: BTreeMap<String, MachineHandle>,
    /// Machines that crashed or were terminated.
    pub dead: BTreeSet<String>,
    /// Holds, delays and losses on the links between machines.
    pub network: Network,
    /// The simulated EC2 that launches and terminates machines.
    pub cloud: SimCloud,
    pub history: History,
}

impl Lab<'_> {
    /// Starts a machine: a turmoil host whose software is the machine's supervisor.
    /// Call between steps.
    pub fn add_machine(&mut self, spec: MachineSpec) {
        let name = spec.name.clone();
        let processes = spec.processes.iter().map(|(p, _)| p.clone()).collect();
        let control = start_machine(&mut self.sim, spec);
        let ip = self.sim.lookup(name.as_str());
        self.machines.insert(
            name,
            MachineHandle {
                control,
                ip,
                processes,
            },
        );
    }

    /// Kills a machine the way a machine dies: silence first (hold every link to it, for
    /// good), then crash, so that the sockets the crash drops say nothing anyone hears and
    /// its peers hang until their own timeouts. Returns false if it was not alive.
    pub fn kill_machine(&mut self, name: &str) -> bool {
        let Some(ip) = self.machines.get(name).map(|m| m.ip) else {
            return false;
        };
        if !self.dead.insert(name.to_string()) {
            return false;
        }
        let others: Vec<IpAddr> = self
            .machines
            .values()
            .map(|m| m.ip)
            .filter(|o| *o != ip)
            .collect();
        for other in others {
            self.network
                .hold(&self.sim, ip, other, Reason::Dead(name.to_string()));
        }
        self.sim.crash(name);
        true
    }

    pub fn is_alive(&self, name: &str) -> bool {
        self.machines.contains_key(name) && !self.dead.contains(name)
    }
}

/// What the monit machine's controller is started with.
#[derive(Clone)]
pub struct MonitSetup {
    pub config: ControllerConfig,
    pub deployment: Deployment,
    pub cloud: SimCloud,
    /// The monit machine's disk: survives a restart of the controller process.
    pub store: MemoryStore,
    /// The lab's seed, and how many times a controller has started in this lab: together
    /// they give each start its epoch (see `failover::controller::Controller::new`),
    /// distinct and reproducible, never from the OS or a wall clock.
    pub seed: u64,
    pub starts: Rc<Cell<u64>>,
}

impl MonitSetup {
    /// The epoch of the next controller start. Counted over the whole lab, not per
    /// process incarnation, so that even a rebuilt monit machine with an empty disk
    /// would not repeat an earlier state's epoch.
    pub fn next_epoch(&self) -> u64 {
        let n = self.starts.get();
        self.starts.set(n + 1);
        derive_seed(self.seed, &["monit", "controller epoch", &n.to_string()])
    }
}

/// The deployment the controller starts from: the topology's, addressed by IP, each
/// machine the cloud instance `i-<name>`.
pub fn initial_deployment(topology: &Topology, ip: impl Fn(&str) -> IpAddr) -> Deployment {
    topology.deployment(|m| ip(m).to_string(), |m| Some(format!("i-{m}")))
}

/// A seed machine's haproxy: its first start checks from [`CHECKS_START`], as the real
/// world's, started before time zero; a restart checks from its restart.
fn seed_haproxy(config: HaproxyConfig) -> (String, ProcessFactory) {
    let started = Rc::new(Cell::new(false));
    let process = factory(move |ctx| {
        let after = match started.replace(true) {
            false => CHECKS_START,
            true => Duration::ZERO,
        };
        run_haproxy_checking_after(config.clone(), after, ctx)
    });
    ("haproxy".to_string(), process)
}

/// The processes of a machine of `topology` at the start: the first redis machine's
/// servers are masters, the other redis machines' start as their replicas.
pub fn machine_spec(
    topology: &Topology,
    policy: Policy,
    name: &str,
    seed: u64,
    workload: &WorkloadConfig,
    history: &History,
    monit: Option<&MonitSetup>,
) -> MachineSpec {
    let mut processes = Vec::new();
    let first_redis = topology.redis_machines.first().map(String::as_str);
    match topology.role_of(name) {
        Some(MachineRole::Redis) => {
            for port in topology.redis_port_list() {
                let config = match first_redis {
                    Some(master) if master != name => {
                        RedisConfig::debian(port).replica_of(master, port)
                    }
                    _ => RedisConfig::debian(port),
                };
                processes.push((
                    scenario::redis_process(port),
                    factory(move |ctx| run_redis(config.clone(), ctx)),
                ));
            }
        }
        Some(MachineRole::Haproxy) => {
            processes.push(seed_haproxy(presets::haproxy_node(topology, name, policy)));
        }
        None if name == topology.app => {
            processes.push(seed_haproxy(presets::app_local(topology, policy)));
            let (workload, history) = (workload.clone(), history.clone());
            processes.push((
                "workload".to_string(),
                factory(move |ctx| {
                    run_workload(
                        workload.clone(),
                        IpAddr::V4(Ipv4Addr::LOCALHOST),
                        history.clone(),
                        ctx,
                    )
                }),
            ));
        }
        None if name == topology.monitor => {
            if let Some(setup) = monit.cloned() {
                let controller = factory(move |_ctx| {
                    let s = setup.clone();
                    let epoch = s.next_epoch();
                    async move {
                        match Shell::new(
                            s.config,
                            s.deployment,
                            epoch,
                            TurmoilConnector,
                            s.cloud,
                            s.store,
                        ) {
                            Ok(shell) => {
                                let recorder = Rc::new(|e| record("controller", e));
                                shell.with_recorder(recorder).run().await
                            }
                            Err(e) => record(
                                "monit",
                                Event::ControllerCannotStart {
                                    error: e.to_string(),
                                },
                            ),
                        }
                    }
                });
                processes.push((
                    "controller".to_string(),
                    first_start_after(CONTROLLER_START, controller),
                ));
            }
        }
        None => {}
    }
    MachineSpec {
        name: name.to_string(),
        seed,
        processes,
    }
}

/// Builds the lab, ready to step.
pub fn build<'a>(options: &LabOptions) -> Lab<'a> {
    let sim = turmoil::Builder::new()
        .epoch(UNIX_EPOCH)
        .rng_seed(options.seed)
        .tick_duration(options.tick)
        .min_message_latency(options.latency)
        .max_message_latency(options.latency)
        .simulation_duration(options.sim_duration)
        // Linux's somaxconn (4096) rather than turmoil's 64: every connect haproxy retries
        // behind a partition leaves a held SYN, and they all arrive at the heal; a full
        // backlog is a panic in turmoil where a kernel would drop the SYN.
        .tcp_capacity(4096)
        .build();
    let topology = &options.topology;
    let machines = topology.machines();
    // Addresses in creation order, so they do not depend on who asks first.
    let ips: BTreeMap<&str, IpAddr> = machines
        .iter()
        .map(|m| (m.as_str(), sim.lookup(m.as_str())))
        .collect();
    let cloud = SimCloud::new(options.seed);
    let monit = options.controller.clone().map(|config| MonitSetup {
        config,
        deployment: initial_deployment(topology, |n| ips[n]),
        cloud: cloud.clone(),
        store: MemoryStore::default(),
        seed: options.seed,
        starts: Rc::new(Cell::new(0)),
    });
    let mut lab = Lab {
        sim,
        topology: topology.clone(),
        policy: options.policy,
        machines: BTreeMap::new(),
        dead: BTreeSet::new(),
        network: Network::new(
            options.latency,
            crate::machine::derive_seed(options.seed, &["network"]),
        ),
        cloud,
        history: History::default(),
    };
    for name in &machines {
        let spec = machine_spec(
            topology,
            options.policy,
            name,
            options.seed,
            &options.workload,
            &lab.history,
            monit.as_ref(),
        );
        lab.add_machine(spec);
        lab.cloud.register_seed_machine(name, ips[name.as_str()]);
    }
    lab
}
