//! The names a scenario may use at parse time: the lab's machines and their processes, as
//! derived from the lab's [`Topology`].
//!
//! Replacement machines that the simulated cloud launches during a run get names that do not
//! exist when the file is read, so a scenario's faults can only name the topology's.

use failover_core::layout::{MachineRole, Topology};

/// The process that serves redis port `port` on a redis machine.
pub fn redis_process(port: u16) -> String {
    format!("{REDIS_PROCESS_PREFIX}{port}")
}

/// The redis port a process named by [`redis_process`] serves; `None` for any other name.
pub fn redis_port_of_process(process: &str) -> Option<u16> {
    process.strip_prefix(REDIS_PROCESS_PREFIX)?.parse().ok()
}

const REDIS_PROCESS_PREFIX: &str = "redis-";

/// The processes of a machine of `topology` that faults can kill, stop, restart or pause (the
/// names the lab's machines run them under); empty for an unknown name.
pub fn processes_of(topology: &Topology, machine: &str) -> Vec<String> {
    match topology.role_of(machine) {
        Some(MachineRole::Redis) => topology
            .redis_port_list()
            .into_iter()
            .map(redis_process)
            .collect(),
        Some(MachineRole::Haproxy) => vec!["haproxy".into()],
        None if machine == topology.app => vec!["haproxy".into(), "workload".into()],
        None if machine == topology.monitor => vec!["controller".into()],
        None => Vec::new(),
    }
}
