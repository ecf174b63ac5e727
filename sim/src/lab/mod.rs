//! The seed lab in turmoil: six machines, their processes, and the handles the nemesis and
//! the runner need.
//!
//! ```text
//! app (workload → local haproxy :7001/:7002) → haproxy1 | haproxy2 (:8001/:8002)
//!     → redis1 | redis2 (:9001/:9002; redis2's servers start as replicas of redis1's)
//! monit (the failover controller, `failover::shell::Shell`, with the simulated EC2)
//! ```

pub mod boot;
pub mod cloud_driver;
pub mod network;

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use crate::cloud::SimCloud;
use crate::haproxy::{presets, run_haproxy};
use crate::machine::{derive_seed, factory, start_machine, MachineControl, MachineSpec};
use crate::net::TurmoilConnector;
use crate::redis::{run_redis, RedisConfig};
use crate::trace::{record, Event};
use crate::workload::{run_workload, WorkloadConfig};
use failover::config::{ControllerConfig, Deployment};
use failover::layout::{Layout, MachineInfo, MachineRole};
use failover::shell::Shell;
use failover::store::MemoryStore;
use judge::history::History;

use network::{Network, Reason};

/// The seed's machines, in the order they are created (which fixes their addresses).
pub const MACHINES: [&str; 6] = scenario::SEED_MACHINES;
pub const REDIS_PORTS: [u16; 2] = [9001, 9002];

/// What shapes the lab, beyond the seed lab's fixed layout.
#[derive(Clone, Debug)]
pub struct LabOptions {
    pub seed: u64,
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

/// The deployment the controller starts from: the seed lab, addressed by IP.
pub fn seed_deployment(ip: impl Fn(&str) -> IpAddr) -> Deployment {
    let machine = |name: &str, role| MachineInfo {
        name: name.to_string(),
        addr: ip(name).to_string(),
        role,
        instance_id: Some(format!("i-{name}")),
    };
    Deployment {
        layout: Layout::seed(&ip("app").to_string()),
        machines: vec![
            machine("redis1", MachineRole::Redis),
            machine("redis2", MachineRole::Redis),
            machine("haproxy1", MachineRole::Haproxy),
            machine("haproxy2", MachineRole::Haproxy),
        ],
        masters: REDIS_PORTS
            .iter()
            .map(|p| (*p, "redis1".to_string()))
            .collect(),
        app_slots: ["haproxy1", "haproxy2"]
            .iter()
            .map(|h| (h.to_string(), h.to_string()))
            .collect(),
    }
}

/// The processes of a seed machine.
pub fn machine_spec(
    name: &str,
    seed: u64,
    workload: &WorkloadConfig,
    history: &History,
    monit: Option<&MonitSetup>,
) -> MachineSpec {
    let mut processes = Vec::new();
    match name {
        "redis1" | "redis2" => {
            for port in REDIS_PORTS {
                let config = if name == "redis2" {
                    RedisConfig::debian(port).replica_of("redis1", port)
                } else {
                    RedisConfig::debian(port)
                };
                processes.push((
                    format!("redis-{port}"),
                    factory(move |ctx| run_redis(config.clone(), ctx)),
                ));
            }
        }
        "haproxy1" | "haproxy2" => {
            let config = presets::haproxy_node(name);
            processes.push((
                "haproxy".to_string(),
                factory(move |ctx| run_haproxy(config.clone(), ctx)),
            ));
        }
        "app" => {
            let config = presets::app_local();
            processes.push((
                "haproxy".to_string(),
                factory(move |ctx| run_haproxy(config.clone(), ctx)),
            ));
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
        "monit" => {
            if let Some(setup) = monit.cloned() {
                processes.push((
                    "controller".to_string(),
                    factory(move |_ctx| {
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
                    }),
                ));
            }
        }
        _ => {}
    }
    MachineSpec {
        name: name.to_string(),
        seed,
        processes,
    }
}

/// Builds the seed lab, ready to step.
pub fn build<'a>(options: &LabOptions) -> Lab<'a> {
    let sim = turmoil::Builder::new()
        .epoch(UNIX_EPOCH)
        .rng_seed(options.seed)
        .tick_duration(options.tick)
        .min_message_latency(options.latency)
        .max_message_latency(options.latency)
        .simulation_duration(options.sim_duration)
        .build();
    // Addresses in creation order, so they do not depend on who asks first.
    let ips: BTreeMap<&str, IpAddr> = MACHINES.iter().map(|m| (*m, sim.lookup(*m))).collect();
    let cloud = SimCloud::new(options.seed);
    let monit = options.controller.clone().map(|config| MonitSetup {
        config,
        deployment: seed_deployment(|n| ips[n]),
        cloud: cloud.clone(),
        store: MemoryStore::default(),
        seed: options.seed,
        starts: Rc::new(Cell::new(0)),
    });
    let mut lab = Lab {
        sim,
        machines: BTreeMap::new(),
        dead: BTreeSet::new(),
        network: Network::new(
            options.latency,
            crate::machine::derive_seed(options.seed, &["network"]),
        ),
        cloud,
        history: History::default(),
    };
    for name in MACHINES {
        let spec = machine_spec(
            name,
            options.seed,
            &options.workload,
            &lab.history,
            monit.as_ref(),
        );
        lab.add_machine(spec);
        lab.cloud.register_seed_machine(name, ips[name]);
    }
    lab
}
