//! Probes of a redis process's life on its machine: restarts after SIGKILL and SIGTERM
//! with Debian's persistence (what comes back, and how its replica resyncs), and a frozen
//! process (SIGSTOP) as its client sees it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{cmd, info, link_up, replicate, wait_info, R1, R2};
use crate::fidelity::{Lab, ProcessSignal, Transcript};

/// The INFO replication fields that tell a resync's kind and what it left: the ids
/// (a partial resync keeps the old one as the second id, a full one zeroes it) and offsets.
const RESYNC_FIELDS: [&str; 6] = [
    "role",
    "master_link_status",
    "master_replid",
    "master_replid2",
    "master_repl_offset",
    "second_repl_offset",
];

/// Only `fields` of an INFO reply, in the order given.
fn pick(info: &str, fields: &[&str]) -> String {
    fields
        .iter()
        .filter_map(|f| {
            info.lines()
                .find(|l| l.split_once(':').is_some_and(|(k, _)| k == *f))
        })
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}

async fn dbsize<L: Lab>(lab: &L, t: &mut Transcript, label: &str, ep: crate::fidelity::Endpoint) {
    t.result(label, &cmd(lab, ep, &["DBSIZE"]).await);
}

async fn set_keys<L: Lab>(lab: &L, t: &mut Transcript, prefix: &str, n: usize) {
    let mut replies = Vec::new();
    for i in 0..n {
        let key = format!("{prefix}{i}");
        replies.push(match cmd(lab, R1, &["SET", &key, "v"]).await {
            Ok(r) => failover::resp::render(&r),
            Err(e) => e,
        });
    }
    replies.dedup();
    t.note(format!(
        "SET {prefix}0..{prefix}{} -> {}",
        n - 1,
        replies.join(", ")
    ));
}

/// One redis, Debian's `save` rules: SIGKILL before any rule fired loses everything,
/// SIGTERM saves first, and SIGKILL after a SAVE brings back what the SAVE saved.
pub async fn restart_after_kill_and_term<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    set_keys(lab, &mut t, "k", 3).await;
    lab.signal(R1, ProcessSignal::Kill).await;
    lab.restart(R1).await;
    dbsize(lab, &mut t, "DBSIZE after SIGKILL and restart", R1).await;
    set_keys(lab, &mut t, "t", 5).await;
    lab.signal(R1, ProcessSignal::Term).await;
    lab.restart(R1).await;
    dbsize(lab, &mut t, "DBSIZE after SIGTERM and restart", R1).await;
    t.result("SAVE", &cmd(lab, R1, &["SAVE"]).await);
    set_keys(lab, &mut t, "after", 3).await;
    lab.signal(R1, ProcessSignal::Kill).await;
    lab.restart(R1).await;
    dbsize(
        lab,
        &mut t,
        "DBSIZE after SAVE, 3 SETs, SIGKILL and restart",
        R1,
    )
    .await;
    t.result("GET after0", &cmd(lab, R1, &["GET", "after0"]).await);
    t.result("GET t0", &cmd(lab, R1, &["GET", "t0"]).await);
    t
}

/// Ends the master with `signal`, restarts it, and records how its replica came back.
async fn master_back<L: Lab>(lab: &L, t: &mut Transcript, signal: ProcessSignal) {
    t.info(
        lab,
        "replica before",
        &pick(&info(lab, R2).await, &RESYNC_FIELDS),
    );
    lab.signal(R1, signal).await;
    lab.restart(R1).await;
    let restarted = lab.elapsed();
    t.info(
        lab,
        "master after the restart",
        &pick(&info(lab, R1).await, &RESYNC_FIELDS),
    );
    // The replica notices at once (EOF), retries about once a second; a full resync
    // waits for the 5 s diskless delay, a partial one does not.
    match wait_info(lab, R2, Duration::from_secs(20), link_up).await {
        Some(_) => t.event(
            "replica link up after the restart",
            lab.elapsed() - restarted,
        ),
        None => t.note("replica link never came up"),
    }
    lab.sleep(Duration::from_millis(1500)).await;
    t.info(
        lab,
        "replica after",
        &pick(&info(lab, R2).await, &RESYNC_FIELDS),
    );
    dbsize(lab, t, "master DBSIZE", R1).await;
    dbsize(lab, t, "replica DBSIZE", R2).await;
}

/// Master SIGTERMed (it saves) and restarted: the replica resyncs partially, nothing lost.
pub async fn master_stopped_and_restarted<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    replicate(lab, &mut t).await;
    set_keys(lab, &mut t, "k", 10).await;
    lab.sleep(Duration::from_millis(1500)).await;
    master_back(lab, &mut t, ProcessSignal::Term).await;
    t.result("replica GET k9", &cmd(lab, R2, &["GET", "k9"]).await);
    t
}

/// Master SIGKILLed some writes after a SAVE, then restarted: it reloads the snapshot, the
/// replica's PSYNC (past the snapshot's offset) is refused, and the full resync flushes the
/// replica to the snapshot: the writes after the SAVE are gone from both.
pub async fn master_killed_after_save<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    replicate(lab, &mut t).await;
    set_keys(lab, &mut t, "k", 5).await;
    t.result("master SAVE", &cmd(lab, R1, &["SAVE"]).await);
    set_keys(lab, &mut t, "after", 5).await;
    lab.sleep(Duration::from_millis(1500)).await;
    dbsize(lab, &mut t, "replica DBSIZE before", R2).await;
    master_back(lab, &mut t, ProcessSignal::Kill).await;
    t.result(
        "replica GET after0",
        &cmd(lab, R2, &["GET", "after0"]).await,
    );
    t.result("replica GET k4", &cmd(lab, R2, &["GET", "k4"]).await);
    t
}

/// Reads what arrives on `stream` within `limit`.
async fn read_within<S: AsyncReadExt + Unpin>(stream: &mut S, limit: Duration) -> String {
    let mut buf = vec![0u8; 256];
    match tokio::time::timeout(limit, stream.read(&mut buf)).await {
        Ok(Ok(0)) => "closed".into(),
        Ok(Ok(n)) => format!("{:?}", String::from_utf8_lossy(&buf[..n])),
        Ok(Err(e)) => format!(
            "read failed: {}",
            super::super::transcript::error_kind(&e.to_string())
        ),
        Err(_) => format!("nothing in {} s", limit.as_secs()),
    }
}

/// A redis frozen by SIGSTOP, seen by its clients directly: connections are still accepted
/// (by the kernel), commands get no reply until SIGCONT, then every reply at once.
pub async fn frozen_redis<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    let ping = failover::resp::encode_command(&["PING"]);
    let Ok(mut old) = lab.connect(R1).await else {
        t.note("could not connect to redis1");
        return t;
    };
    let _ = old.write_all(&ping).await;
    t.note(format!(
        "PING before -> {}",
        read_within(&mut old, Duration::from_secs(1)).await
    ));
    lab.signal(R1, ProcessSignal::Stop).await;
    let _ = old.write_all(&ping).await;
    t.note(format!(
        "PING on an open connection while frozen -> {}",
        read_within(&mut old, Duration::from_secs(3)).await
    ));
    let new = tokio::time::timeout(Duration::from_secs(2), lab.connect(R1)).await;
    let mut new = match new {
        Ok(Ok(s)) => {
            t.note("connect while frozen -> accepted");
            Some(s)
        }
        Ok(Err(e)) => {
            t.note(format!(
                "connect while frozen -> {}",
                super::super::transcript::error_kind(&e.to_string())
            ));
            None
        }
        Err(_) => {
            t.note("connect while frozen -> no answer in 2 s");
            None
        }
    };
    if let Some(s) = new.as_mut() {
        let _ = s.write_all(&ping).await;
        t.note(format!(
            "PING on a new connection while frozen -> {}",
            read_within(s, Duration::from_secs(2)).await
        ));
    }
    lab.signal(R1, ProcessSignal::Cont).await;
    let thawed = lab.elapsed();
    let reply = read_within(&mut old, Duration::from_secs(3)).await;
    t.event(
        format!("the open connection's PING after SIGCONT -> {reply}"),
        lab.elapsed() - thawed,
    );
    if let Some(s) = new.as_mut() {
        t.note(format!(
            "the new connection's PING after SIGCONT -> {}",
            read_within(s, Duration::from_secs(3)).await
        ));
    }
    t.result("PING after SIGCONT", &cmd(lab, R1, &["PING"]).await);
    t
}
