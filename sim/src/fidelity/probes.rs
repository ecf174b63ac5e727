//! The behaviour probes. Each is written once, over any [`Lab`], and records what it saw.
//!
//! Times are recorded relative to the probe's own reference point (a kill, a REPLICAOF),
//! never to the lab's start, so that start-up costs of real processes do not count.

use std::time::Duration;

use failover::resp::{render, Reply, RespConnection};

use failover::admin::stat;
use failover::config::Policy;
use failover::layout::Topology;
use failover::runtime_api::runtime_command;

use super::{Endpoint, Lab, Probe, ProbeFn, Setup, Transcript};
use crate::haproxy::presets;

mod partition_heal;
mod restarts;

pub(crate) const R1: Endpoint = ("redis1", 9001);
pub(crate) const R2: Endpoint = ("redis2", 9001);

macro_rules! probe {
    ($name:literal, $setup:expr, $f:expr) => {
        probe!($name, $setup, $f, needs_root: false)
    };
    ($name:literal, $setup:expr, $f:expr, needs_root: $root:expr) => {
        Probe {
            name: $name,
            setup: $setup,
            run: ProbeFn {
                sim: |lab| Box::pin($f(lab)),
                real: |lab| Box::pin($f(lab)),
            },
            needs_root: $root,
        }
    };
}

/// Every probe, in the order the fidelity test runs them.
pub fn all() -> Vec<Probe> {
    let mut probes = vec![
        probe!("redis-commands-and-errors", one_redis, commands_and_errors),
        probe!(
            "redis-master-and-replica-info",
            two_redis,
            master_and_replica_info
        ),
        probe!(
            "redis-replica-after-master-dies",
            two_redis,
            replica_after_master_dies
        ),
        probe!("redis-promote-then-write", two_redis, promote_then_write),
        probe!(
            "redis-min-replicas-wait-client-kill",
            two_redis,
            min_replicas_wait_client_kill
        ),
        probe!(
            "haproxy-dead-server-and-no-server",
            proxy_setup,
            dead_server_and_no_server
        ),
        probe!(
            "haproxy-demoted-master-fails-by-timeout",
            proxy_setup,
            demoted_master_fails_by_timeout
        ),
        probe!(
            "haproxy-runtime-api-replies",
            proxy_setup,
            runtime_api_replies
        ),
        probe!(
            "haproxy-ready-after-maint-pitfall",
            proxy_setup,
            ready_after_maint_pitfall
        ),
        probe!(
            "lab-silent-machine-and-restart",
            one_redis,
            silent_machine_and_restart,
            needs_root: true
        ),
        probe!(
            "redis-restart-after-kill-and-term",
            one_redis,
            (restarts::restart_after_kill_and_term)
        ),
        probe!(
            "redis-master-stopped-and-restarted",
            two_redis,
            (restarts::master_stopped_and_restarted)
        ),
        probe!(
            "redis-master-killed-after-save",
            two_redis,
            (restarts::master_killed_after_save)
        ),
        probe!(
            "redis-frozen-by-sigstop",
            one_redis,
            (restarts::frozen_redis)
        ),
        probe!(
            "tcp-replica-catches-up-after-a-partition-heals",
            two_redis,
            (partition_heal::replica_catches_up_after_heal),
            needs_root: true
        ),
    ];
    probes.extend(super::session_probes::all());
    probes
}

fn one_redis() -> Setup {
    Setup {
        redis: vec![R1],
        ..Setup::default()
    }
}

fn two_redis() -> Setup {
    Setup {
        redis: vec![R1, R2],
        ..Setup::default()
    }
}

pub(crate) const H1: Endpoint = ("haproxy1", 8001);

/// haproxy1 of a one-port lab: port 8001 only (redis1:9001 active, redis2:9001 backup).
pub(crate) fn proxy_setup() -> Setup {
    let one_port = Topology::with_redis_ports(1).expect("one port is in range");
    let config = presets::haproxy_node(&one_port, "haproxy1", Policy::Safe);
    Setup {
        redis: vec![R1, R2],
        haproxy: vec![("haproxy1", config)],
    }
}

// ---------------------------------------------------------------- helpers

/// One runtime-API command on a fresh connection.
pub async fn api<L: Lab>(lab: &L, command: &str) -> String {
    match lab.connect(("haproxy1", Topology::seed().api_port)).await {
        Ok(s) => runtime_command(s, command)
            .await
            .unwrap_or_else(|e| format!("error: {e}")),
        Err(e) => format!("error: {e}"),
    }
}

/// A server's `status` and `check_status` from `show stat`.
pub async fn server_status<L: Lab>(lab: &L, server: &str) -> (String, String) {
    let Some(rows) = stat::parse_stat_csv(&api(lab, "show stat").await) else {
        return ("no stats".into(), String::new());
    };
    match stat::find(&rows, "redis_9001", server) {
        // "* " marks a check under way: when we sample is timing, not behaviour.
        Some(row) => (
            stat::col(row, "status").to_string(),
            stat::col(row, "check_status")
                .trim_start_matches("* ")
                .to_string(),
        ),
        None => ("no such server".into(), String::new()),
    }
}

/// Polls `show stat` every 100 ms until the server's status starts with `word`.
pub(crate) async fn wait_status<L: Lab>(
    lab: &L,
    server: &str,
    word: &str,
    limit: Duration,
) -> Option<Duration> {
    let start = lab.elapsed();
    while lab.elapsed() - start < limit {
        let (status, _) = server_status(lab, server).await;
        if status.split_whitespace().next() == Some(word) {
            return Some(lab.elapsed() - start);
        }
        lab.sleep(Duration::from_millis(100)).await;
    }
    None
}

async fn record_status<L: Lab>(lab: &L, t: &mut Transcript, label: &str) {
    for server in ["redis1", "redis2"] {
        let (status, check) = server_status(lab, server).await;
        t.note(format!("{label}: {server} status={status} check={check}"));
    }
}

/// Replicates redis1 to redis2 and waits until haproxy routes to redis1 only.
pub(crate) async fn stable_proxy<L: Lab>(lab: &L, t: &mut Transcript) {
    replicate(lab, t).await;
    match wait_status(lab, "redis2", "DOWN", Duration::from_secs(10)).await {
        Some(_) => t.note("the replica redis2 is DOWN (role check)"),
        None => t.note("the replica redis2 never went DOWN"),
    }
    lab.sleep(Duration::from_secs(1)).await;
    record_status(lab, t, "stable").await;
}

/// What a client sees through the proxy: a reply, or how the connection ended.
async fn through_proxy<L: Lab>(lab: &L, args: &[&str]) -> String {
    use tokio::io::AsyncReadExt;
    let mut stream = match lab.connect(H1).await {
        Ok(s) => s,
        Err(e) => {
            return format!(
                "connect failed: {}",
                super::transcript::error_kind(&format!("{:?} {e}", e.kind()))
            )
        }
    };
    let bytes = failover::resp::encode_command(args);
    use tokio::io::AsyncWriteExt;
    if stream.write_all(&bytes).await.is_err() {
        return "write failed".into();
    }
    let mut buf = vec![0u8; 512];
    match tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await {
        Ok(Ok(0)) => "accepted, then closed with 0 bytes".into(),
        Ok(Ok(n)) => format!("reply {:?}", String::from_utf8_lossy(&buf[..n])),
        Ok(Err(e)) => format!(
            "read failed: {}",
            super::transcript::error_kind(&format!("{:?} {e}", e.kind()))
        ),
        Err(_) => "no reply in 3 s".into(),
    }
}

/// Runs one command on a fresh connection.
pub async fn cmd<L: Lab>(lab: &L, ep: Endpoint, args: &[&str]) -> Result<Reply, String> {
    let stream = lab
        .connect(ep)
        .await
        .map_err(|e| format!("{:?} {e}", e.kind()))?;
    let mut conn = RespConnection::new(stream);
    conn.command(args).await.map_err(|e| e.to_string())
}

async fn info<L: Lab>(lab: &L, ep: Endpoint) -> String {
    match cmd(lab, ep, &["INFO", "replication"]).await {
        Ok(r) => render(&r),
        Err(e) => format!("error: {e}"),
    }
}

async fn replicaof<L: Lab>(lab: &L, replica: Endpoint, master: Endpoint) -> Result<Reply, String> {
    let (host, port) = lab.address_of(master);
    cmd(lab, replica, &["REPLICAOF", &host, &port.to_string()]).await
}

/// Polls INFO replication every 100 ms until `pred` holds; the time it took, or None.
async fn wait_info<L: Lab>(
    lab: &L,
    ep: Endpoint,
    limit: Duration,
    pred: impl Fn(&str) -> bool,
) -> Option<Duration> {
    let start = lab.elapsed();
    while lab.elapsed() - start < limit {
        if pred(&info(lab, ep).await) {
            return Some(lab.elapsed() - start);
        }
        lab.sleep(Duration::from_millis(100)).await;
    }
    None
}

fn link_up(info: &str) -> bool {
    info.contains("master_link_status:up")
}

/// Makes R2 a replica of R1 (holding key `a`) and waits for the link; records timings.
pub(crate) async fn replicate<L: Lab>(lab: &L, t: &mut Transcript) {
    t.result("redis1 SET a 1", &cmd(lab, R1, &["SET", "a", "1"]).await);
    let start = lab.elapsed();
    t.result("redis2 REPLICAOF redis1", &replicaof(lab, R2, R1).await);
    match wait_info(lab, R2, Duration::from_secs(20), link_up).await {
        Some(_) => t.event("redis2 link up after REPLICAOF", lab.elapsed() - start),
        None => t.note("redis2 link never came up"),
    }
}

// ---------------------------------------------------------------- probes

async fn commands_and_errors<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    let script: &[&[&str]] = &[
        &["PING"],
        &["PING", "hello"],
        &["ECHO", "hi"],
        &["SET", "k", "v"],
        &["GET", "k"],
        &["GET", "missing"],
        &["GET"],
        &["INCR", "n"],
        &["INCR", "n"],
        &["INCR", "k"],
        &["RPUSH", "l", "a", "b", "c"],
        &["LRANGE", "l", "0", "-1"],
        &["LRANGE", "l", "-2", "10"],
        &["INCR", "l"],
        &["GET", "l"],
        &["DBSIZE"],
        &["DEL", "k", "l", "nope"],
        &["DBSIZE"],
        &["SET", "k", "v", "NX"],
        &["SET", "k", "w", "NX"],
        &["FOO", "bar", "baz"],
        &["REPLICAOF", "no"],
        &["REPLICAOF", "127.0.0.1", "abc"],
        &["REPLICAOF", "NO", "ONE"],
        &["CONFIG", "GET", "min-replicas-*"],
        &["CONFIG", "SET", "min-replicas-to-write", "x"],
        &["CONFIG", "SET", "min-replicas-max-lag", "5"],
        &["CONFIG", "GET", "min-replicas-max-lag"],
        &["WAIT", "0", "0"],
        &["WAIT", "1", "100"],
        &["ROLE"],
        &["CLIENT", "KILL", "TYPE", "normal"],
        &["QUIT"],
    ];
    for args in script {
        let label = args.join(" ");
        let mut reply = cmd(lab, R1, args).await;
        if args.starts_with(&["CONFIG", "GET"]) {
            // Real redis answers in its dict's order, which is random per process.
            reply = reply.map(sort_config_pairs);
        }
        t.result(&label, &reply);
    }
    t.info(lab, "redis1 alone", &info(lab, R1).await);
    // Inline commands, as haproxy's tcp-check sends them.
    match lab.connect(R1).await {
        Ok(mut s) => {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let _ = s.write_all(b"PING\r\nQUIT\r\n").await;
            let mut buf = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut buf)).await;
            t.note(format!(
                "inline PING, QUIT -> {:?}",
                String::from_utf8_lossy(&buf)
            ));
        }
        Err(e) => t.note(format!("inline connect failed: {e}")),
    }
    t
}

fn sort_config_pairs(reply: Reply) -> Reply {
    match reply {
        Reply::Array(items) => {
            let mut pairs: Vec<Vec<Reply>> = items.chunks(2).map(|c| c.to_vec()).collect();
            pairs.sort_by_key(|p| p.first().map(render));
            Reply::Array(pairs.concat())
        }
        other => other,
    }
}

async fn master_and_replica_info<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    t.result("redis1 SET a 1", &cmd(lab, R1, &["SET", "a", "1"]).await);
    let start = lab.elapsed();
    t.result("redis2 REPLICAOF redis1", &replicaof(lab, R2, R1).await);
    t.result(
        "redis2 REPLICAOF redis1 again",
        &replicaof(lab, R2, R1).await,
    );
    // Inside Debian's 5 s diskless-sync delay: the master waits to fork, the replica is
    // in the handshake (PSYNC sent, no reply yet).
    lab.sleep(Duration::from_secs(2)).await;
    t.info(lab, "master during sync delay", &info(lab, R1).await);
    t.info(lab, "replica during sync delay", &info(lab, R2).await);
    if let Ok(role) = cmd(lab, R2, &["ROLE"]).await {
        t.role(lab, "replica during sync delay", &role);
    }
    match wait_info(lab, R2, Duration::from_secs(20), link_up).await {
        Some(_) => t.event("redis2 link up after REPLICAOF", lab.elapsed() - start),
        None => t.note("redis2 link never came up"),
    }
    // Acks arrive once a second.
    lab.sleep(Duration::from_millis(1500)).await;
    t.info(lab, "master", &info(lab, R1).await);
    t.info(lab, "replica", &info(lab, R2).await);
    for (label, ep) in [("master", R1), ("replica", R2)] {
        if let Ok(role) = cmd(lab, ep, &["ROLE"]).await {
            t.role(lab, label, &role);
        }
    }
    t.result("replica GET a", &cmd(lab, R2, &["GET", "a"]).await);
    t.result("replica SET b 2", &cmd(lab, R2, &["SET", "b", "2"]).await);
    t.result("replica DBSIZE", &cmd(lab, R2, &["DBSIZE"]).await);
    t.result(
        "replica WAIT 1 10",
        &cmd(lab, R2, &["WAIT", "1", "10"]).await,
    );
    t.result("master SET c 3", &cmd(lab, R1, &["SET", "c", "3"]).await);
    lab.sleep(Duration::from_millis(200)).await;
    t.result("replica GET c", &cmd(lab, R2, &["GET", "c"]).await);
    t
}

async fn replica_after_master_dies<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    replicate(lab, &mut t).await;
    lab.sleep(Duration::from_millis(1500)).await;
    lab.kill(R1).await;
    let killed = lab.elapsed();
    match wait_info(lab, R2, Duration::from_secs(5), |i| !link_up(i)).await {
        Some(_) => t.event(
            "replica sees its link down after the master dies",
            lab.elapsed() - killed,
        ),
        None => t.note("replica never noticed the dead master"),
    }
    lab.sleep(Duration::from_millis(2500)).await;
    t.info(lab, "replica of a dead master", &info(lab, R2).await);
    if let Ok(role) = cmd(lab, R2, &["ROLE"]).await {
        t.role(lab, "replica of a dead master", &role);
    }
    t.result("stale read GET a", &cmd(lab, R2, &["GET", "a"]).await);
    t.result("write SET x 1", &cmd(lab, R2, &["SET", "x", "1"]).await);
    t.result("connect to the dead master", &cmd(lab, R1, &["PING"]).await);
    t
}

async fn promote_then_write<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    replicate(lab, &mut t).await;
    lab.sleep(Duration::from_millis(1500)).await;
    t.result(
        "redis2 REPLICAOF NO ONE",
        &cmd(lab, R2, &["REPLICAOF", "NO", "ONE"]).await,
    );
    t.info(lab, "promoted", &info(lab, R2).await);
    t.result("promoted SET c 3", &cmd(lab, R2, &["SET", "c", "3"]).await);
    t.result("promoted GET a", &cmd(lab, R2, &["GET", "a"]).await);
    lab.sleep(Duration::from_millis(500)).await;
    t.info(lab, "old master after the promotion", &info(lab, R1).await);
    // The old master rejoins as a replica: PSYNC2 lets it continue from its own history.
    let start = lab.elapsed();
    t.result("redis1 REPLICAOF redis2", &replicaof(lab, R1, R2).await);
    match wait_info(lab, R1, Duration::from_secs(20), link_up).await {
        Some(d) => {
            t.event("demoted master link up", lab.elapsed() - start);
            t.note(format!(
                "demoted master resynced {}",
                if d < Duration::from_secs(3) {
                    "partially (no sync delay)"
                } else {
                    "fully (after the sync delay)"
                }
            ));
        }
        None => t.note("demoted master link never came up"),
    }
    lab.sleep(Duration::from_millis(1500)).await;
    t.info(lab, "demoted master", &info(lab, R1).await);
    t.info(lab, "new master", &info(lab, R2).await);
    t.result("demoted GET c", &cmd(lab, R1, &["GET", "c"]).await);
    t
}

/// The lab's own faults, checked before any probe leans on them: a silent machine says
/// nothing (no refusal, no reset) until it is heard again, and a killed redis restarts on
/// its disk, empty when no save rule fired yet.
async fn silent_machine_and_restart<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    t.result("SET a 1", &cmd(lab, R1, &["SET", "a", "1"]).await);
    lab.silence("redis1").await;
    let silent = tokio::time::timeout(Duration::from_secs(2), cmd(lab, R1, &["PING"])).await;
    match silent {
        Ok(reply) => t.result("PING a silent machine", &reply),
        Err(_) => t.note("PING a silent machine -> no answer within 2 s"),
    }
    lab.unsilence("redis1").await;
    t.result("PING once heard again", &cmd(lab, R1, &["PING"]).await);
    lab.kill(R1).await;
    t.result("PING a killed redis", &cmd(lab, R1, &["PING"]).await);
    lab.restart(R1).await;
    t.result("GET a after a restart", &cmd(lab, R1, &["GET", "a"]).await);
    t.result("DBSIZE after a restart", &cmd(lab, R1, &["DBSIZE"]).await);
    t
}

async fn min_replicas_wait_client_kill<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    t.result(
        "CONFIG SET min-replicas-to-write 1",
        &cmd(lab, R1, &["CONFIG", "SET", "min-replicas-to-write", "1"]).await,
    );
    t.result(
        "SET without replicas",
        &cmd(lab, R1, &["SET", "a", "1"]).await,
    );
    t.result("GET without replicas", &cmd(lab, R1, &["GET", "a"]).await);
    t.result(
        "CONFIG SET min-replicas-to-write 0",
        &cmd(lab, R1, &["CONFIG", "SET", "min-replicas-to-write", "0"]).await,
    );
    replicate(lab, &mut t).await;
    lab.sleep(Duration::from_millis(1500)).await;
    t.result(
        "CONFIG SET min-replicas-to-write 1",
        &cmd(lab, R1, &["CONFIG", "SET", "min-replicas-to-write", "1"]).await,
    );
    // WAIT counts the acks of this connection's writes.
    match lab.connect(R1).await {
        Ok(s) => {
            let mut conn = RespConnection::new(s);
            t.result(
                "SET with a replica",
                &conn.command(&["SET", "w", "1"]).await,
            );
            t.result("WAIT 1 1000", &conn.command(&["WAIT", "1", "1000"]).await);
            t.result("WAIT 2 300", &conn.command(&["WAIT", "2", "300"]).await);
        }
        Err(e) => t.note(format!("connect failed: {e}")),
    }
    // CLIENT KILL TYPE normal closes every other normal client, not the caller, not replicas.
    let other = lab.connect(R1).await;
    let killer = lab.connect(R1).await;
    if let (Ok(other), Ok(killer)) = (other, killer) {
        let mut other = RespConnection::new(other);
        let mut killer = RespConnection::new(killer);
        t.result("other PING", &other.command(&["PING"]).await);
        t.result(
            "CLIENT KILL TYPE normal",
            &killer.command(&["CLIENT", "KILL", "TYPE", "normal"]).await,
        );
        t.result("killer PING", &killer.command(&["PING"]).await);
        t.result("killed client PING", &other.command(&["PING"]).await);
    }
    lab.sleep(Duration::from_millis(1500)).await;
    t.info(lab, "master after CLIENT KILL", &info(lab, R1).await);
    t
}

async fn dead_server_and_no_server<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    stable_proxy(lab, &mut t).await;
    t.note(format!(
        "SET through haproxy1: {}",
        through_proxy(lab, &["SET", "p", "1"]).await
    ));
    lab.kill(R1).await;
    let killed = lab.elapsed();
    match wait_status(lab, "redis1", "DOWN", Duration::from_secs(15)).await {
        Some(_) => t.event("dead master marked DOWN", lab.elapsed() - killed),
        None => t.note("dead master never marked DOWN"),
    }
    record_status(lab, &mut t, "master dead").await;
    // Neither server passes the check now: haproxy accepts, then closes.
    t.note(format!(
        "GET through haproxy1 with no server: {}",
        through_proxy(lab, &["GET", "p"]).await
    ));
    t.result(
        "redis2 REPLICAOF NO ONE",
        &cmd(lab, R2, &["REPLICAOF", "NO", "ONE"]).await,
    );
    let promoted = lab.elapsed();
    match wait_status(lab, "redis2", "UP", Duration::from_secs(15)).await {
        // `rise` good checks after a check cycle whose phase is anywhere in [0, 2 × inter].
        Some(_) => t.event_within(
            "promoted replica marked UP",
            lab.elapsed() - promoted,
            Duration::from_millis(2500),
        ),
        None => t.note("promoted replica never marked UP"),
    }
    t.note(format!(
        "GET through haproxy1 after the promotion: {}",
        through_proxy(lab, &["GET", "p"]).await
    ));
    t
}

async fn demoted_master_fails_by_timeout<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    stable_proxy(lab, &mut t).await;
    let session = lab.connect(H1).await;
    let Ok(session) = session else {
        t.note("could not open a session through haproxy1");
        return t;
    };
    let mut session = RespConnection::new(session);
    t.result("session PING", &session.command(&["PING"]).await);
    // The seed's switch: promote redis2, demote redis1 to its replica.
    t.result(
        "redis2 REPLICAOF NO ONE",
        &cmd(lab, R2, &["REPLICAOF", "NO", "ONE"]).await,
    );
    let demoted = lab.elapsed();
    t.result("redis1 REPLICAOF redis2", &replicaof(lab, R1, R2).await);
    // The established session goes on to the demoted server until checks mark it DOWN.
    let mut cut = None;
    while lab.elapsed() - demoted < Duration::from_secs(15) {
        match session.command(&["GET", "a"]).await {
            Ok(_) => lab.sleep(Duration::from_millis(100)).await,
            Err(e) => {
                cut = Some(e.to_string());
                break;
            }
        }
    }
    match cut {
        Some(e) => t.event(
            format!(
                "session on the demoted master cut: {}",
                super::transcript::error_kind(&e)
            ),
            lab.elapsed() - demoted,
        ),
        None => t.note("session on the demoted master never cut"),
    }
    record_status(lab, &mut t, "after the switch").await;
    match wait_status(lab, "redis2", "UP", Duration::from_secs(10)).await {
        Some(_) => t.note("the new master redis2 is UP"),
        None => t.note("the new master redis2 never came UP"),
    }
    t.note(format!(
        "SET through haproxy1 after the switch: {}",
        through_proxy(lab, &["SET", "q", "1"]).await
    ));
    t
}

/// Replaces the old address and port in `set server addr` replies, which differ by lab.
fn normalize_addr_reply(reply: &str) -> String {
    let Some(rest) = reply.strip_prefix("IP changed from '") else {
        return reply.to_string();
    };
    let Some((_, rest)) = rest.split_once('\'') else {
        return reply.to_string();
    };
    let Some(idx) = rest.find("port changed from '") else {
        return format!("IP changed from '<old>'{rest}");
    };
    let (head, tail) = rest.split_at(idx + "port changed from '".len());
    let tail = tail.split_once('\'').map(|(_, t)| t).unwrap_or(tail);
    format!("IP changed from '<old>'{head}<old>'{tail}")
}

/// `show servers state`: the header exactly, then each row's names and states (addresses,
/// ids and times differ by lab).
fn normalize_servers_state(reply: &str) -> String {
    reply
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            if l.starts_with('#') || f.len() < 7 {
                l.to_string()
            } else {
                format!(
                    "{} {} op={} admin={} .. ({} columns)",
                    f[1],
                    f[3],
                    f[5],
                    f[6],
                    f.len()
                )
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn runtime_api_replies<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    stable_proxy(lab, &mut t).await;
    let state = api(lab, "show servers state redis_9001").await;
    t.note(format!(
        "show servers state redis_9001 -> {:?}",
        normalize_servers_state(&state)
    ));
    let stat = api(lab, "show stat").await;
    t.note(format!(
        "show stat header -> {:?}",
        stat.lines().next().unwrap_or_default()
    ));
    let commands = [
        "show servers state nope",
        "set server redis_9001/redis2 state drain",
        "set server redis_9001/redis2 state ready",
        "set server redis_9001/redis2 state bogus",
        "set server redis_9001/nope state ready",
        "set server nope/redis1 state ready",
        "set server redis_9001/redis2 health down",
        "set server redis_9001/redis2 addr 127.0.0.2 port 19003",
        "set server redis_9001/redis2 addr x",
        "add server redis_9001/extra 127.0.0.2:19004",
        "add server redis_9001/extra 127.0.0.2:19004",
        "add server redis_9001/extra2 127.0.0.2:19005 bogus",
        "add server nope/extra 127.0.0.2:19004",
        "del server redis_9001/redis1",
        "del server redis_9001/extra",
        "del server redis_9001/nope",
        "disable health redis_9001/redis1",
        "enable health redis_9001/redis1",
        "disable server redis_9001/redis1",
        "enable server redis_9001/redis1",
        "set server redis_9001",
        "foo bar",
    ];
    for c in commands {
        let reply = api(lab, c).await;
        t.note(format!("{c} -> {:?}", normalize_addr_reply(&reply)));
    }
    t
}

async fn ready_after_maint_pitfall<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    stable_proxy(lab, &mut t).await;
    t.note(format!(
        "maint -> {:?}",
        api(lab, "set server redis_9001/redis2 state maint").await
    ));
    record_status(lab, &mut t, "in maint").await;
    // The pitfall: a checked server leaving maint with `ready` is UP at once.
    t.note(format!(
        "ready -> {:?}",
        api(lab, "set server redis_9001/redis2 state ready").await
    ));
    let ready = lab.elapsed();
    let (status, _) = server_status(lab, "redis2").await;
    t.note(format!(
        "right after ready: redis2 {}",
        status.split_whitespace().next().unwrap_or_default()
    ));
    match wait_status(lab, "redis2", "DOWN", Duration::from_secs(10)).await {
        Some(_) => t.event(
            "the replica is DOWN again after ready",
            lab.elapsed() - ready,
        ),
        None => t.note("the replica stayed UP after ready"),
    }
    // What works: maint, then drain, let the checks mark it DOWN, then ready.
    t.note(format!(
        "maint -> {:?}",
        api(lab, "set server redis_9001/redis2 state maint").await
    ));
    t.note(format!(
        "drain -> {:?}",
        api(lab, "set server redis_9001/redis2 state drain").await
    ));
    lab.sleep(Duration::from_secs(4)).await;
    record_status(lab, &mut t, "drained").await;
    t.note(format!(
        "ready -> {:?}",
        api(lab, "set server redis_9001/redis2 state ready").await
    ));
    record_status(lab, &mut t, "ready after drain").await;
    lab.sleep(Duration::from_secs(2)).await;
    record_status(lab, &mut t, "2 s later").await;
    t
}
