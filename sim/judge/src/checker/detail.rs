//! The few facts the checkers take from trace events, each a match on an event's variant,
//! in one place so that a new kind of event that means the same (a real-world crash, say)
//! is taught to every checker at once.

use crate::trace::{Event, ServerStatus, TraceEvent};

/// The redis port of an event about one redis server.
pub fn port(event: &TraceEvent) -> Option<u16> {
    match &event.event {
        Event::RedisReady { port }
        | Event::WriteAccepted { port }
        | Event::Promoted { port }
        | Event::ReplicaOf { port, .. }
        | Event::SyncFinished { port, .. }
        | Event::LinkDown { port, .. }
        | Event::PartialResyncAccepted { port }
        | Event::FullSyncSent { port, .. }
        | Event::ReplicaLost { port, .. }
        | Event::SnapshotSaved { port, .. }
        | Event::SnapshotLoaded { port, .. } => Some(*port),
        _ => None,
    }
}

/// The machine a crash or a cloud termination took away, if `event` is one.
pub fn machine_gone(event: &TraceEvent) -> Option<String> {
    match &event.event {
        Event::FaultTookEffect {
            kind,
            machine: Some(machine),
            ..
        } if kind == "crash" => Some(machine.clone()),
        // The terminate call already ends the machine's part: its instance is on its way out.
        Event::InstanceTerminating { name, .. } | Event::InstanceTerminated { name, .. } => {
            Some(name.clone())
        }
        _ => None,
    }
}

/// The redis server a kill or stop fault ended (its process `redis-<port>`), if `event` is
/// one: an ended server no longer accepts writes.
pub fn server_killed(event: &TraceEvent) -> Option<(String, u16)> {
    match &event.event {
        Event::FaultTookEffect {
            kind,
            machine: Some(machine),
            process: Some(process),
            ..
        } if kind == "kill" || kind == "stop" => {
            let port = scenario::redis_port_of_process(process)?;
            Some((machine.clone(), port))
        }
        _ => None,
    }
}

/// A redis server started accepting writes as master.
pub fn is_write_accepted(event: &TraceEvent) -> bool {
    matches!(event.event, Event::WriteAccepted { .. })
}

/// A redis server was promoted (`REPLICAOF NO ONE`).
pub fn is_promotion(event: &TraceEvent) -> bool {
    matches!(event.event, Event::Promoted { .. })
}

/// The master a redis server became a replica of (`REPLICAOF host port`), if `event` says so.
pub fn replica_of(event: &TraceEvent) -> Option<&str> {
    match &event.event {
        Event::ReplicaOf { master, .. } => Some(master),
        _ => None,
    }
}

/// An haproxy server went UP or DOWN: (backend/server, up). Maintenance is neither.
pub fn haproxy_server_state(event: &TraceEvent) -> Option<(String, bool)> {
    match &event.event {
        Event::ServerState {
            backend,
            server,
            status,
            ..
        } => {
            let up = match status {
                ServerStatus::Up => true,
                ServerStatus::Down => false,
                ServerStatus::Maint => return None,
            };
            Some((format!("{backend}/{server}"), up))
        }
        _ => None,
    }
}

/// The machine the controller declared failed, if `event` is that decision.
pub fn machine_failed(event: &TraceEvent) -> Option<&str> {
    match &event.event {
        Event::MachineFailed { machine, .. } => Some(machine),
        _ => None,
    }
}
