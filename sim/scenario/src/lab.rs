//! The names a scenario may use at parse time: the seed lab's machines and their processes.
//!
//! Replacement machines that the simulated cloud launches during a run get names that do not
//! exist when the file is read, so a scenario's faults can only name these.

/// The seed lab's machines, in the order error messages list them.
pub const SEED_MACHINES: [&str; 6] = ["redis1", "redis2", "haproxy1", "haproxy2", "app", "monit"];

/// The processes of a seed machine that faults can kill, restart or pause (as named in
/// `lab::machine_spec`); empty for an unknown name.
pub fn processes_of(machine: &str) -> &'static [&'static str] {
    match machine {
        "redis1" | "redis2" => &["redis-9001", "redis-9002"],
        "haproxy1" | "haproxy2" => &["haproxy"],
        "app" => &["haproxy", "workload"],
        "monit" => &["controller"],
        _ => &[],
    }
}

/// The app's local haproxy frontends, the only ports the workload's clients can use.
pub const WORKLOAD_PORTS: [u16; 2] = [7001, 7002];

/// Whether `name` is a seed machine.
pub fn is_seed_machine(name: &str) -> bool {
    SEED_MACHINES.contains(&name)
}
