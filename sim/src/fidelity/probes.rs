//! The behaviour probes. Each is written once, over any [`Lab`], and records what it saw.
//!
//! Times are recorded relative to the probe's own reference point (a kill, a REPLICAOF),
//! never to the lab's start, so that start-up costs of real processes do not count.

use std::time::Duration;

use failover::resp::{render, Reply, RespConnection};

use super::{Endpoint, Lab, Probe, ProbeFn, Setup, Transcript};

const R1: Endpoint = ("redis1", 9001);
const R2: Endpoint = ("redis2", 9001);

macro_rules! probe {
    ($name:literal, $setup:expr, $f:ident) => {
        Probe {
            name: $name,
            setup: $setup,
            run: ProbeFn {
                sim: |lab| Box::pin($f(lab)),
                real: |lab| Box::pin($f(lab)),
            },
        }
    };
}

/// Every probe, in the order the fidelity test runs them.
pub fn all() -> Vec<Probe> {
    vec![
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
    ]
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

// ---------------------------------------------------------------- helpers

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
async fn replicate<L: Lab>(lab: &L, t: &mut Transcript) {
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
        t.result(&label, &cmd(lab, R1, args).await);
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
