//! Reading trace events: the `key=value` fields of a detail and the few event names the
//! checkers rely on, in one place so a renamed event breaks one function, not five.

use crate::trace::TraceEvent;

/// The value of `key` in a `key=value key=value` detail. Values may hold spaces (error
/// texts), so only the first word is returned: enough for ports and machine names.
pub fn field<'a>(detail: &'a str, key: &str) -> Option<&'a str> {
    detail.split(' ').find_map(|token| {
        let (k, v) = token.split_once('=')?;
        (k == key).then_some(v)
    })
}

/// The `port=` field as a number.
pub fn port(event: &TraceEvent) -> Option<u16> {
    field(&event.detail, "port")?.parse().ok()
}

/// The machine a nemesis crash or a cloud termination took away, if `event` is one.
pub fn machine_gone(event: &TraceEvent) -> Option<String> {
    if event.source == "nemesis"
        && event.what == "fault took effect"
        && field(&event.detail, "kind") == Some("crash")
    {
        // The crash names its machine in `detail=` (older traces) or `machine=`.
        return field(&event.detail, "machine")
            .or_else(|| field(&event.detail, "detail"))
            .map(str::to_string);
    }
    if event.source == "ec2" && event.what.to_ascii_lowercase().contains("terminat") {
        // `instance=` is the instance id (i-...), `name=` the machine.
        return field(&event.detail, "machine")
            .or_else(|| field(&event.detail, "name"))
            .map(str::to_string);
    }
    None
}

/// The redis server a nemesis kill stopped (`kind=kill process=redis-<port>`), if `event`
/// is one: a killed server no longer accepts writes.
pub fn server_killed(event: &TraceEvent) -> Option<(String, u16)> {
    if event.source != "nemesis"
        || event.what != "fault took effect"
        || field(&event.detail, "kind") != Some("kill")
    {
        return None;
    }
    let machine = field(&event.detail, "machine")?;
    let port = field(&event.detail, "process")?
        .strip_prefix("redis-")?
        .parse()
        .ok()?;
    Some((machine.to_string(), port))
}

/// A redis server started accepting writes as master.
pub fn is_write_accepted(event: &TraceEvent) -> bool {
    event.what == "write accepted as master"
}

/// A redis server was promoted (`REPLICAOF NO ONE`).
pub fn is_promotion(event: &TraceEvent) -> bool {
    event.what.starts_with("MASTER MODE enabled")
}

/// A redis server became a replica (`REPLICAOF host port`).
pub fn is_replicaof(event: &TraceEvent) -> bool {
    event.what == "REPLICAOF"
}

/// An haproxy server changed state: (backend/server, up).
pub fn haproxy_server_state(event: &TraceEvent) -> Option<(&str, bool)> {
    let rest = event.what.strip_prefix("Server ")?;
    let (server, state) = rest.split_once(" is ")?;
    if state.starts_with("UP") {
        Some((server, true))
    } else if state.starts_with("DOWN") {
        Some((server, false))
    } else {
        None
    }
}
