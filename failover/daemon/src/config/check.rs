//! The rules a parsed configuration must follow: names, addresses, endpoints, and a
//! bound on every number, each stated in the error so the fix is in the message.

use std::ops::RangeInclusive;

use failover::layout::Topology;
use scenario::{FieldPath, SimDuration};

use super::error::Problem;
use super::file::{CloudFile, ConfigFile, MachineFile, ProviderKind};

/// Redis machines and proxies a deployment may list (the seed has two of each).
pub const REDIS_MACHINES: RangeInclusive<usize> = 2..=8;
pub const PROXIES: RangeInclusive<usize> = 1..=8;
/// Failed polls in a row, and haproxy's fall / rise.
pub const COUNTS: RangeInclusive<u32> = 1..=100;
/// Every duration of detection and recovery.
pub const DETECTION: RangeInclusive<u64> = 100..=3_600_000;
/// How long a new machine may take to answer, and a cloud command to finish.
pub const LONG_WAIT: RangeInclusive<u64> = 1_000..=86_400_000;
pub const GRACE: RangeInclusive<u64> = 0..=600_000;
pub const BOOT_DELAY: RangeInclusive<u64> = 0..=600_000;
/// A name in a haproxy server line and a file name: short, plain characters.
const NAME_MAX: usize = 64;
/// A DNS name's limit.
const ADDR_MAX: usize = 253;
const COMMAND_ARGS: RangeInclusive<usize> = 1..=64;
const ARG_MAX: usize = 4096;

type Check = Result<(), Problem>;

fn root() -> FieldPath {
    FieldPath::root()
}

fn duration(path: FieldPath, d: SimDuration, range: RangeInclusive<u64>) -> Check {
    if range.contains(&d.as_millis()) {
        return Ok(());
    }
    Err(Problem::new(
        path,
        format!(
            "{d} is out of range: write a duration from {} to {}",
            SimDuration::from_millis(*range.start()),
            SimDuration::from_millis(*range.end())
        ),
    ))
}

fn count(path: FieldPath, n: u32, range: RangeInclusive<u32>) -> Check {
    if range.contains(&n) {
        return Ok(());
    }
    Err(Problem::new(
        path,
        format!(
            "{n} is out of range: write {} to {}",
            range.start(),
            range.end()
        ),
    ))
}

/// Whether `name` can name a machine: it becomes a haproxy server name (one word of a
/// runtime-API command) and part of file names.
pub fn is_machine_name(name: &str) -> bool {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    !name.is_empty() && name.len() <= NAME_MAX && name.chars().all(plain)
}

/// Whether `addr` can be an address: an IP address or a DNS name.
pub fn is_address(addr: &str) -> bool {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':');
    !addr.is_empty() && addr.len() <= ADDR_MAX && addr.chars().all(plain)
}

/// A machine name (see [`is_machine_name`]).
pub fn name(path: FieldPath, name: &str) -> Check {
    if !is_machine_name(name) {
        return Err(Problem::new(
            path,
            format!("{name:?} is not a machine name: write 1 to {NAME_MAX} letters, digits, '-', '_' or '.'"),
        ));
    }
    Ok(())
}

/// An address: an IP address or a DNS name.
pub fn addr(path: FieldPath, addr: &str) -> Check {
    if !is_address(addr) {
        return Err(Problem::new(
            path,
            format!("{addr:?} is not an address: write an IP address or a DNS name (at most {ADDR_MAX} characters)"),
        ));
    }
    Ok(())
}

/// A runtime API: `host:port` or an absolute unix socket path.
pub fn endpoint(path: FieldPath, text: &str) -> Check {
    let help = "write host:port (TCP, port 1 to 65535) or an absolute path (a unix socket)";
    if text.starts_with('/') {
        // sun_path holds 108 bytes with the NUL.
        if text.len() > 107 {
            return Err(Problem::new(
                path,
                format!("a unix socket path is at most 107 bytes; {help}"),
            ));
        }
        return Ok(());
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(Problem::new(path, format!("{text:?} has no port; {help}")));
    };
    addr(
        path.clone(),
        host.trim_start_matches('[').trim_end_matches(']'),
    )?;
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(Problem::new(
            path,
            format!("{port:?} is not a port; {help}"),
        )),
    }
}

fn machines(
    list: &[MachineFile],
    key: &str,
    range: RangeInclusive<usize>,
    seen: &mut Vec<String>,
) -> Check {
    let path = root().key(key);
    if !range.contains(&list.len()) {
        return Err(Problem::new(
            path,
            format!(
                "{} listed; list {} to {} `[[{key}]]` machines",
                list.len(),
                range.start(),
                range.end()
            ),
        ));
    }
    for (i, m) in list.iter().enumerate() {
        let at = path.index(i);
        name(at.key("name"), &m.name)?;
        if seen.contains(&m.name) {
            return Err(Problem::new(
                at.key("name"),
                format!(
                    "{:?} is listed twice; every machine needs its own name",
                    m.name
                ),
            ));
        }
        seen.push(m.name.clone());
        addr(at.key("addr"), &m.addr)?;
        if let Some(id) = &m.instance_id {
            name(at.key("instance_id"), id)?;
        }
        if let Some(api) = &m.runtime_api {
            if key == "redis" {
                return Err(Problem::new(
                    at.key("runtime_api"),
                    "a redis machine has no runtime API; only [[haproxy]] and [app] take one",
                ));
            }
            endpoint(at.key("runtime_api"), api)?;
        }
    }
    Ok(())
}

fn command(path: FieldPath, args: &[String]) -> Check {
    if !COMMAND_ARGS.contains(&args.len()) {
        return Err(Problem::new(
            path,
            format!(
                "write the program and its arguments as an array of {} to {} strings",
                COMMAND_ARGS.start(),
                COMMAND_ARGS.end()
            ),
        ));
    }
    if args[0].is_empty() {
        return Err(Problem::new(
            path.index(0),
            "the program is empty; write its name or path",
        ));
    }
    for (i, a) in args.iter().enumerate() {
        if a.len() > ARG_MAX || a.contains('\0') {
            return Err(Problem::new(
                path.index(i),
                format!("an argument is at most {ARG_MAX} bytes, without NUL"),
            ));
        }
    }
    Ok(())
}

fn cloud(c: &CloudFile) -> Check {
    let path = root().key("cloud");
    let missing = |table: &str| {
        Problem::new(
            path.key("provider"),
            format!("provider {table:?} needs a [cloud.{table}] table"),
        )
    };
    match c.provider {
        ProviderKind::Command => {
            let cmd = c.command.as_ref().ok_or_else(|| missing("command"))?;
            let at = path.key("command");
            command(at.key("launch"), &cmd.launch)?;
            command(at.key("terminate"), &cmd.terminate)?;
            command(at.key("describe"), &cmd.describe)?;
            duration(at.key("timeout"), cmd.timeout, LONG_WAIT)?;
        }
        ProviderKind::Local => {
            let local = c.local.as_ref().ok_or_else(|| missing("local"))?;
            duration(
                path.key("local").key("boot_delay"),
                local.boot_delay,
                BOOT_DELAY,
            )?;
        }
        ProviderKind::Ec2 => {
            let ec2 = c.ec2.as_ref().ok_or_else(|| missing("ec2"))?;
            ec2.validate()
                .map_err(|e| Problem::new(ec2_field(path.key("ec2"), &e.field), e.problem))?;
        }
    }
    Ok(())
}

/// failover-ec2 names a field as `redis.security_group_ids[2]`: the same place as a path
/// under `[cloud.ec2]`, so the error points at its line.
fn ec2_field(mut path: FieldPath, field: &str) -> FieldPath {
    for part in field.split('.') {
        let (key, indices) = part.split_once('[').unwrap_or((part, ""));
        path = path.key(key);
        for index in indices.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                path = path.index(i);
            }
        }
    }
    path
}

/// Every rule; the first broken one is the error.
pub fn check(f: &ConfigFile) -> Result<Topology, Problem> {
    let t = &f.topology;
    let topo_path = root().key("topology");
    if !Topology::REDIS_PORTS.contains(&t.redis_ports) {
        return Err(Problem::new(
            topo_path.key("redis_ports"),
            format!(
                "{} is out of range: write {} to {}",
                t.redis_ports,
                Topology::REDIS_PORTS.start(),
                Topology::REDIS_PORTS.end()
            ),
        ));
    }
    name(topo_path.key("backend_prefix"), &t.backend_prefix)?;
    let mut seen = Vec::new();
    machines(&f.redis, "redis", REDIS_MACHINES, &mut seen)?;
    machines(&f.haproxy, "haproxy", PROXIES, &mut seen)?;
    addr(root().key("app").key("addr"), &f.app.addr)?;
    if let Some(api) = &f.app.runtime_api {
        endpoint(root().key("app").key("runtime_api"), api)?;
    }
    if let Some(listen) = &f.listen {
        endpoint(root().key("listen"), listen)?;
        if listen.starts_with('/') {
            return Err(Problem::new(
                root().key("listen"),
                "the HTTP API listens on TCP: write host:port",
            ));
        }
    }
    duration(root().key("shutdown_grace"), f.shutdown_grace, GRACE)?;
    let d = root().key("detection");
    duration(d.key("interval"), f.detection.interval, DETECTION)?;
    duration(d.key("poll_timeout"), f.detection.poll_timeout, DETECTION)?;
    count(d.key("fail_count"), f.detection.fail_count, COUNTS)?;
    let r = root().key("recovery");
    let rec = &f.recovery;
    duration(r.key("retry_min"), rec.retry_min, DETECTION)?;
    duration(r.key("retry_max"), rec.retry_max, DETECTION)?;
    if rec.retry_max < rec.retry_min {
        return Err(Problem::new(
            r.key("retry_max"),
            format!(
                "{} is below retry_min ({}); the backoff doubles from retry_min up to retry_max",
                rec.retry_max, rec.retry_min
            ),
        ));
    }
    duration(r.key("capacity_retry"), rec.capacity_retry, DETECTION)?;
    duration(r.key("reachable_timeout"), rec.reachable_timeout, LONG_WAIT)?;
    duration(r.key("check_inter"), rec.check_inter, DETECTION)?;
    count(r.key("check_fall"), rec.check_fall, COUNTS)?;
    count(r.key("check_rise"), rec.check_rise, COUNTS)?;
    cloud(&f.cloud)?;
    let topology = Topology {
        redis_machines: f.redis.iter().map(|m| m.name.clone()).collect(),
        redis_ports: t.redis_ports,
        proxies: f.haproxy.iter().map(|m| m.name.clone()).collect(),
        app: "app".into(),
        monitor: "failoverd".into(),
        redis_base: t.redis_base,
        proxy_base: t.proxy_base,
        app_base: t.app_base,
        api_port: t.api_port,
        backend_prefix: t.backend_prefix.clone(),
    };
    topology.check().map_err(|why| {
        Problem::new(topo_path, format!("{why}; change the bases or redis_ports"))
    })?;
    if f.redis
        .iter()
        .chain(&f.haproxy)
        .any(|m| m.name == "app" || m.name == "failoverd")
    {
        return Err(Problem::new(root(), "\"app\" and \"failoverd\" name the app's machine and this daemon; give the machines other names"));
    }
    Ok(topology)
}
