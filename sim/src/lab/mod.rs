//! The seed lab in turmoil: six machines, their processes, and the handles the nemesis and
//! the runner need.
//!
//! ```text
//! app (workload → local haproxy :7001/:7002) → haproxy1 | haproxy2 (:8001/:8002)
//!     → redis1 | redis2 (:9001/:9002; redis2's servers start as replicas of redis1's)
//! monit (the failover controller, with the failover issue)
//! ```

pub mod network;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, UNIX_EPOCH};

use crate::haproxy::{presets, run_haproxy};
use crate::history::History;
use crate::machine::{factory, run_machine, MachineControl, MachineSpec};
use crate::redis::{run_redis, RedisConfig};
use crate::workload::{run_workload, WorkloadConfig};

use network::{Network, Reason};

/// The seed's machines, in the order they are created (which fixes their addresses).
pub const MACHINES: [&str; 6] = ["redis1", "redis2", "haproxy1", "haproxy2", "app", "monit"];
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
    pub history: History,
}

impl Lab<'_> {
    /// Starts a machine: a turmoil host whose software is the machine's supervisor.
    /// Call between steps.
    pub fn add_machine(&mut self, spec: MachineSpec) {
        let name = spec.name.clone();
        let control = MachineControl::default();
        let processes = spec.processes.iter().map(|(p, _)| p.clone()).collect();
        let c = control.clone();
        self.sim.host(name.as_str(), move || {
            let (spec, control) = (spec.clone(), c.clone());
            async move {
                run_machine(spec, control).await;
                Ok(())
            }
        });
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

/// The processes of a seed machine.
pub fn machine_spec(
    name: &str,
    seed: u64,
    workload: &WorkloadConfig,
    history: &History,
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
    let history = History::default();
    let mut lab = Lab {
        sim,
        machines: BTreeMap::new(),
        dead: BTreeSet::new(),
        network: Network::new(
            options.latency,
            crate::machine::derive_seed(options.seed, &["network"]),
        ),
        history,
    };
    for name in MACHINES {
        let spec = machine_spec(name, options.seed, &options.workload, &lab.history);
        lab.add_machine(spec);
    }
    lab
}
