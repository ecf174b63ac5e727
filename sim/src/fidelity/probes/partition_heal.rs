//! TCP after a partition heals: a replica cut off from its master for 30 s keeps its link
//! (under `repl-timeout` 60 s) and catches up when the master's retransmission gets
//! through, about 24 s after the heal, not at the heal.

use std::time::Duration;

use super::{cmd, info, replicate, R1, R2};
use crate::fidelity::{Lab, Transcript};

const PARTITION: Duration = Duration::from_secs(30);
/// One write every this often during the partition, as a steady application would.
const WRITE_EVERY: Duration = Duration::from_millis(100);

fn field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| {
            l.trim_end()
                .strip_prefix(&format!("{name}:"))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "missing".into())
}

pub async fn replica_catches_up_after_heal<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    replicate(lab, &mut t).await;
    lab.sleep(Duration::from_millis(1500)).await;
    lab.cut("redis1", "redis2").await;
    let cut = lab.elapsed();
    let mut written = 0u32;
    let mut failures = 0u32;
    while lab.elapsed() - cut < PARTITION {
        written += 1;
        let key = format!("k{written}");
        if cmd(lab, R1, &["SET", &key, "v"]).await.is_err() {
            failures += 1;
        }
        lab.sleep(WRITE_EVERY).await;
    }
    t.note(format!(
        "writes to the master during the cut: {failures} failed"
    ));
    let during = info(lab, R2).await;
    t.note(format!(
        "replica at the end of the cut: link {}",
        field(&during, "master_link_status")
    ));
    lab.heal("redis1", "redis2").await;
    let healed = lab.elapsed();
    let last = format!("k{written}");
    let mut caught_up = None;
    while lab.elapsed() - healed < Duration::from_secs(60) {
        if matches!(
            cmd(lab, R2, &["GET", &last]).await,
            Ok(failover::resp::Reply::BulkString(_))
        ) {
            caught_up = Some(lab.elapsed() - healed);
            break;
        }
        lab.sleep(Duration::from_millis(100)).await;
    }
    match caught_up {
        Some(at) => t.event("the replica has the last write, after the heal", at),
        None => t.note("the replica never caught up within 60 s of the heal"),
    }
    let after = info(lab, R2).await;
    t.note(format!(
        "replica after catching up: link {}, link down since {}",
        field(&after, "master_link_status"),
        field(&after, "master_link_down_since_seconds")
    ));
    let (m, r) = (
        cmd(lab, R1, &["DBSIZE"]).await,
        cmd(lab, R2, &["DBSIZE"]).await,
    );
    t.note(format!(
        "master and replica hold the same number of keys: {}",
        matches!((&m, &r), (Ok(a), Ok(b)) if a == b)
    ));
    t
}
