//! Booting a launched machine: a new turmoil host running its role's image.
//!
//! The images are what a replacement starts with, not what the seed machines run:
//! - redis: a `redis-<port>` for every redis port of the lab's topology, all masters with
//!   an empty keyspace (the controller must make them replicas and wait for their full
//!   sync);
//! - haproxy: the seed proxy's frontends and backends with *no servers*, so the
//!   controller must add them through the runtime API before it can take traffic.

use failover::config::Policy;
use failover::layout::{MachineRole, Topology};

use crate::haproxy::{presets, run_haproxy};
use crate::lab::Lab;
use crate::machine::{factory, MachineSpec};
use crate::redis::{run_redis, RedisConfig};

/// The processes a freshly launched machine of `role` runs in `topology`, configured for
/// `policy`.
pub fn replacement_spec(
    topology: &Topology,
    policy: Policy,
    name: &str,
    role: MachineRole,
    seed: u64,
) -> MachineSpec {
    let mut processes = Vec::new();
    match role {
        MachineRole::Redis => {
            for port in topology.redis_port_list() {
                let config = RedisConfig::debian(port);
                processes.push((
                    scenario::redis_process(port),
                    factory(move |ctx| run_redis(config.clone(), ctx)),
                ));
            }
        }
        MachineRole::Haproxy => {
            let mut config = presets::haproxy_node(topology, name, policy);
            for backend in &mut config.backends {
                backend.servers.clear();
            }
            processes.push((
                "haproxy".to_string(),
                factory(move |ctx| run_haproxy(config.clone(), ctx)),
            ));
        }
    }
    MachineSpec {
        name: name.to_string(),
        seed,
        processes,
    }
}

/// Creates the host `name` running `role`'s image, so the nemesis can command its
/// processes like a seed machine's. Call between steps. A name already in the lab is left
/// alone (turmoil cannot run two hosts on one name).
pub fn add_machine(lab: &mut Lab, name: &str, role: MachineRole, seed: u64) {
    if lab.machines.contains_key(name) {
        // A second boot of one name is a bug in the cloud model, not a lab event.
        tracing::warn!(machine = name, "boot of a machine that exists ignored");
        return;
    }
    let spec = replacement_spec(&lab.topology, lab.policy, name, role, seed);
    lab.add_machine(spec);
}
