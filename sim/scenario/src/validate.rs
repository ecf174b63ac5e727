//! Checks a parsed scenario against the lab: names exist, times fall inside the run, rates
//! and counts are in range. Each check names the field it is about, so the error can point
//! at the line in the file.
//!
//! Checks run in file order and stop at the first problem, so the same file always gives
//! the same error.

use std::collections::BTreeSet;

use failover_core::layout::Topology as LabTopology;

use crate::duration::SimDuration;
use crate::error::Problem;
use crate::fault::{Fault, FaultAction};
use crate::lab::processes_of;
use crate::location::FieldPath;
use crate::schema::{Scenario, Status, Workload};

type Check = Result<(), Problem>;

/// The bounds on what a file may ask for, so that any accepted scenario runs in bounded
/// time and memory. They are stated in the errors and in `schema.rs`.
pub const MAX_DURATION: SimDuration = SimDuration::from_secs(3600);
pub const MAX_TICK: SimDuration = SimDuration::from_millis(10);
pub const MAX_LATENCY: SimDuration = SimDuration::from_secs(10);
pub const MAX_CLIENTS: u32 = 1000;
pub const MAX_RATE: u32 = 10_000;
pub const MAX_CLIENT_TIMEOUT: SimDuration = SimDuration::from_secs(60);
pub const MIN_INTERVAL: SimDuration = SimDuration::from_millis(10);
pub const MAX_INTERVAL: SimDuration = SimDuration::from_secs(600);
pub const MAX_FAIL_COUNT: u32 = 100;
/// Launches a cloud fault may affect: each is a queued entry, and a run launches a few.
pub const MAX_CLOUD_FAULT_COUNT: u32 = 100;

/// The first problem with `scenario`, if any.
pub(crate) fn validate(scenario: &Scenario) -> Check {
    let root = FieldPath::root();
    if let Status::KnownWeakness { reason } = &scenario.status {
        if reason.trim().is_empty() {
            return Err(Problem::new(
                root.key("reason"),
                "reason is empty; say what the weakness is",
            ));
        }
    }
    if scenario.duration == SimDuration::ZERO {
        return Err(Problem::new(
            root.key("duration"),
            "the run must last longer than 0s",
        ));
    }
    if scenario.duration > MAX_DURATION {
        return Err(Problem::new(
            root.key("duration"),
            format!(
                "duration {} is too long; valid: longer than 0s and at most {MAX_DURATION} \
                 (a simulated hour takes about a minute to run; sweep seeds for more)",
                scenario.duration
            ),
        ));
    }
    if scenario.seed > i64::MAX as u64 {
        // TOML integers are signed 64-bit, so a larger seed could not be written back.
        return Err(Problem::new(
            root.key("seed"),
            format!("seed {} is above the largest TOML integer", scenario.seed),
        ));
    }
    let lab = check_topology(scenario)?;
    check_workload(&scenario.workload, scenario.duration, &lab)?;
    check_failover(scenario)?;
    for (index, fault) in scenario.faults.iter().enumerate() {
        check_fault(
            fault,
            scenario.duration,
            &root.key("faults").index(index),
            &lab,
        )?;
    }
    Ok(())
}

/// The lab's topology, which the later checks name machines, processes and ports from.
fn check_topology(scenario: &Scenario) -> Result<LabTopology, Problem> {
    let here = FieldPath::root().key("topology");
    let tick = scenario.topology.tick;
    if tick < SimDuration::from_millis(1) || tick > MAX_TICK {
        return Err(Problem::new(
            here.key("tick"),
            format!(
                "tick {tick} is out of range; valid: 1ms (tokio timers are whole \
                 milliseconds) to {MAX_TICK} (a longer step outlasts the lab's own timers, \
                 haproxy's checks and the clients' timeouts, and every request fails)"
            ),
        ));
    }
    if scenario.topology.latency > MAX_LATENCY {
        return Err(Problem::new(
            here.key("latency"),
            format!(
                "latency {} is out of range; valid: 0ms to {MAX_LATENCY}",
                scenario.topology.latency
            ),
        ));
    }
    let n = scenario.topology.redis_ports;
    LabTopology::with_redis_ports(n).map_err(|_| {
        let (low, high) = LabTopology::REDIS_PORTS.into_inner();
        let base = LabTopology::seed().redis_base;
        Problem::new(
            here.key("redis_ports"),
            format!(
                "redis_ports = {n} is out of range; write {low} to {high} (redis servers per \
                 redis machine, on ports {} to {})",
                base + low,
                base + high
            ),
        )
    })
}

fn check_workload(workload: &Workload, duration: SimDuration, lab: &LabTopology) -> Check {
    let here = FieldPath::root().key("workload");
    if workload.clients == 0 || workload.clients > MAX_CLIENTS {
        return Err(Problem::new(
            here.key("clients"),
            format!(
                "clients = {} is out of range; valid: 1 to {MAX_CLIENTS}",
                workload.clients
            ),
        ));
    }
    if workload.rate == 0 || workload.rate > MAX_RATE {
        return Err(Problem::new(
            here.key("rate"),
            format!(
                "rate = {} is out of range; valid: 1 to {MAX_RATE} operations per second",
                workload.rate
            ),
        ));
    }
    let app_ports = lab.app_ports();
    let valid_ports = || {
        app_ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if workload.ports.is_empty() {
        return Err(Problem::new(
            here.key("ports"),
            format!("need at least one port; valid ports: {}", valid_ports()),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, port) in workload.ports.iter().enumerate() {
        if !app_ports.contains(port) {
            return Err(Problem::new(
                here.key("ports").index(i),
                format!(
                    "unknown port {port}; the app's haproxy listens on {}",
                    valid_ports()
                ),
            ));
        }
        if !seen.insert(*port) {
            return Err(Problem::new(
                here.key("ports").index(i),
                format!("port {port} is listed twice"),
            ));
        }
    }
    if workload.timeout == SimDuration::ZERO || workload.timeout > MAX_CLIENT_TIMEOUT {
        return Err(Problem::new(
            here.key("timeout"),
            format!(
                "timeout {} is out of range; valid: longer than 0s and at most \
                 {MAX_CLIENT_TIMEOUT}",
                workload.timeout
            ),
        ));
    }
    if workload.start >= duration {
        return Err(Problem::new(
            here.key("start"),
            format!(
                "the clients start at {} but the run ends at {duration}",
                workload.start
            ),
        ));
    }
    match workload.stop {
        Some(stop) if stop <= workload.start || stop > duration => {
            return Err(Problem::new(
                here.key("stop"),
                format!(
                    "stop {stop} must be after start ({}) and not after the end of the run \
                     ({duration})",
                    workload.start
                ),
            ));
        }
        None if workload.stop_at(duration) <= workload.start => {
            return Err(Problem::new(
                here.key("start"),
                format!(
                    "the clients start at {} but stop 10s before the end of the run \
                     ({duration}); start earlier, set workload.stop, or lengthen the run",
                    workload.start
                ),
            ));
        }
        _ => {}
    }
    let mix = &workload.mix;
    if [mix.write, mix.read, mix.incr, mix.rpush] == [0; 4] {
        return Err(Problem::new(
            here.key("mix"),
            "every weight is 0; give at least one of write, read, incr, rpush a weight above 0",
        ));
    }
    Ok(())
}

fn check_failover(scenario: &Scenario) -> Check {
    let here = FieldPath::root().key("failover");
    let interval = scenario.failover.interval;
    if interval < MIN_INTERVAL || interval > MAX_INTERVAL {
        return Err(Problem::new(
            here.key("interval"),
            format!(
                "interval {interval} is out of range; valid: {MIN_INTERVAL} (a poll must \
                 fit inside a cycle with time to spare) to {MAX_INTERVAL}"
            ),
        ));
    }
    let fail_count = scenario.failover.fail_count;
    if fail_count == 0 || fail_count > MAX_FAIL_COUNT {
        return Err(Problem::new(
            here.key("fail_count"),
            format!("fail_count = {fail_count} is out of range; valid: 1 to {MAX_FAIL_COUNT}"),
        ));
    }
    Ok(())
}

fn check_fault(fault: &Fault, duration: SimDuration, here: &FieldPath, lab: &LabTopology) -> Check {
    if fault.at > duration {
        return Err(Problem::new(
            here.key("at"),
            format!(
                "fault at {} is after the end of the run (duration {duration})",
                fault.at
            ),
        ));
    }
    if fault.at == duration {
        return Err(Problem::new(
            here.key("at"),
            format!(
                "fault at {} is at the end of the run (duration {duration}), so it would never \
                 take effect",
                fault.at
            ),
        ));
    }
    match &fault.action {
        FaultAction::Crash { machine } => check_machine(machine, &here.key("machine"), lab),
        FaultAction::Kill { machine, process }
        | FaultAction::Stop { machine, process }
        | FaultAction::Restart { machine, process } => check_process(machine, process, here, lab),
        FaultAction::Pause {
            machine,
            process,
            duration: pause,
        } => {
            check_process(machine, process, here, lab)?;
            check_heal(fault.at, *pause, duration, &here.key("for"))
        }
        FaultAction::Partition { groups, heal_after } => {
            if groups.len() < 2 {
                return Err(Problem::new(
                    here.key("groups"),
                    format!(
                        "a partition needs two or more groups of machines, such as \
                         [[\"haproxy1\"], [\"redis1\"]]; this one has {}",
                        groups.len()
                    ),
                ));
            }
            check_groups(groups, &here.key("groups"), lab)?;
            check_heal(fault.at, *heal_after, duration, &here.key("heal_after"))
        }
        FaultAction::PartitionOneway {
            from,
            to,
            heal_after,
        } => {
            check_group(from, &here.key("from"), lab)?;
            check_group(to, &here.key("to"), lab)?;
            check_disjoint(&[from, to], &[here.key("from"), here.key("to")])?;
            check_heal(fault.at, *heal_after, duration, &here.key("heal_after"))
        }
        FaultAction::Latency {
            between,
            latency,
            heal_after,
        } => {
            check_groups(between, &here.key("between"), lab)?;
            if *latency == SimDuration::ZERO {
                return Err(Problem::new(
                    here.key("latency"),
                    "latency must be longer than 0s",
                ));
            }
            check_heal(fault.at, *heal_after, duration, &here.key("heal_after"))
        }
        FaultAction::Loss {
            between,
            rate,
            heal_after,
        } => {
            check_groups(between, &here.key("between"), lab)?;
            // Written so that NaN fails too.
            if !(*rate > 0.0 && *rate < 1.0) {
                return Err(Problem::new(
                    here.key("rate"),
                    format!(
                        "loss rate {rate} is out of range; write a fraction between 0 and 1 \
                         (exclusive), such as 0.1"
                    ),
                ));
            }
            check_heal(fault.at, *heal_after, duration, &here.key("heal_after"))
        }
        FaultAction::LaunchFails { count } => check_count(*count, &here.key("count")),
        FaultAction::SlowBoot { extra, count } => {
            if *extra == SimDuration::ZERO {
                return Err(Problem::new(
                    here.key("extra"),
                    "extra must be longer than 0s",
                ));
            }
            check_count(*count, &here.key("count"))
        }
    }
}

fn check_machine(machine: &str, here: &FieldPath, lab: &LabTopology) -> Check {
    let machines = lab.machines();
    if machines.iter().any(|m| m == machine) {
        Ok(())
    } else {
        Err(Problem::new(
            here.clone(),
            format!(
                "unknown machine '{machine}'; valid machines: {}",
                machines.join(", ")
            ),
        ))
    }
}

fn check_process(machine: &str, process: &str, fault: &FieldPath, lab: &LabTopology) -> Check {
    check_machine(machine, &fault.key("machine"), lab)?;
    let processes = processes_of(lab, machine);
    if processes.iter().any(|p| p == process) {
        return Ok(());
    }
    let valid = if processes.is_empty() {
        format!("{machine} runs no process that faults can target")
    } else {
        format!("processes on {machine}: {}", processes.join(", "))
    };
    Err(Problem::new(
        fault.key("process"),
        format!("unknown process '{process}' on {machine}; {valid}"),
    ))
}

/// Each group is a non-empty list of known machines, and no machine is in two groups.
fn check_groups(groups: &[Vec<String>], here: &FieldPath, lab: &LabTopology) -> Check {
    let paths: Vec<FieldPath> = (0..groups.len()).map(|i| here.index(i)).collect();
    for (group, path) in groups.iter().zip(&paths) {
        check_group(group, path, lab)?;
    }
    let refs: Vec<&Vec<String>> = groups.iter().collect();
    check_disjoint(&refs, &paths)
}

fn check_group(group: &[String], here: &FieldPath, lab: &LabTopology) -> Check {
    if group.is_empty() {
        return Err(Problem::new(
            here.clone(),
            "a group needs at least one machine",
        ));
    }
    for (i, machine) in group.iter().enumerate() {
        check_machine(machine, &here.index(i), lab)?;
    }
    Ok(())
}

fn check_disjoint(groups: &[&Vec<String>], paths: &[FieldPath]) -> Check {
    let mut seen = BTreeSet::new();
    for (group, path) in groups.iter().zip(paths) {
        for (i, machine) in group.iter().enumerate() {
            if !seen.insert(machine.as_str()) {
                return Err(Problem::new(
                    path.index(i),
                    format!("machine '{machine}' is in more than one group"),
                ));
            }
        }
    }
    Ok(())
}

fn check_heal(
    at: SimDuration,
    heal: Option<SimDuration>,
    duration: SimDuration,
    here: &FieldPath,
) -> Check {
    let Some(heal) = heal else { return Ok(()) };
    if heal == SimDuration::ZERO {
        return Err(Problem::new(
            here.clone(),
            "must be longer than 0s; leave it out to keep the fault until the end of the run",
        ));
    }
    match at.checked_add(heal) {
        Some(end) if end < duration => Ok(()),
        end => Err(Problem::new(
            here.clone(),
            format!(
                "the fault would be undone at {}, not before the end of the run \
                 (duration {duration}); leave it out to keep the fault until the end",
                end.map_or_else(|| "an overflowing time".to_string(), |e| e.to_string())
            ),
        )),
    }
}

fn check_count(count: u32, here: &FieldPath) -> Check {
    if count == 0 || count > MAX_CLOUD_FAULT_COUNT {
        Err(Problem::new(
            here.clone(),
            format!(
                "count = {count} is out of range; valid: 1 to {MAX_CLOUD_FAULT_COUNT} launches"
            ),
        ))
    } else {
        Ok(())
    }
}
