//! RDB persistence as Debian's redis.conf sets it up: snapshots by the `save` rules
//! (`save 3600 1 300 100 60 10000`: after an hour if anything changed, five minutes if 100
//! keys did, a minute if 10,000 did), no AOF, a final snapshot on SIGTERM, the snapshot
//! loaded at start. The snapshot lives on the machine's [`crate::disk::Disk`], so it
//! survives the process, not the machine.
//!
//! A snapshot carries the replication id and offset it was taken at, as redis 7.0's RDB
//! does (`repl-id`, `repl-offset`): a restarted replica continues from them (PSYNC with its
//! old master's id), a restarted master keeps them as its second id so that a replica that
//! is exactly there resyncs partially, and one that is further (writes after the snapshot)
//! is refused and fully resynced to the snapshot.
//!
//! The file is the model's own format: a header line with the replication id and offset,
//! then the data as the RESP commands of a full-sync payload.

use std::time::Duration;

use tokio::time::{sleep, timeout, Instant};

use super::keyspace::Keyspace;
use super::protocol::{encode_args, CommandReader, Incoming};
use super::replication::apply;
use super::state::{Server, Shared};
use crate::machine::ProcessCtx;
use crate::trace::{record, Event};

const MAGIC: &str = "REDIS-MODEL-RDB";

/// The model's clock in whole seconds, as redis's `server.unixtime` (turmoil's epoch is the
/// Unix epoch, so this is also what LASTSAVE answers).
pub fn unixtime() -> u64 {
    turmoil::sim_elapsed().unwrap_or_default().as_secs()
}

/// How many keys a write changed, as redis counts `dirty` for the save rules.
pub fn changes(args: &[Vec<u8>]) -> u64 {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    match name.as_str() {
        "rpush" => args.len().saturating_sub(2) as u64,
        "del" => args.len().saturating_sub(1) as u64,
        "set" | "incr" | "flushall" => 1,
        _ => 0,
    }
}

/// The replication id and offset a snapshot records: a master's own once it has a
/// backlog, a replica's master's once it has synced; none before (redis's
/// `rdbPopulateSaveInfo`).
fn replication_info(s: &Server) -> Option<(String, u64)> {
    s.backlog
        .as_ref()
        .map(|_| (s.replid.clone(), s.master_repl_offset))
}

fn encode(s: &Server) -> Vec<u8> {
    let header = match replication_info(s) {
        Some((id, offset)) => format!("{MAGIC} {id} {offset}\n"),
        None => format!("{MAGIC} - -\n"),
    };
    let mut bytes = header.into_bytes();
    for command in s.data.to_commands() {
        bytes.extend(encode_args(&command));
    }
    bytes
}

/// What a snapshot file holds; `None` if it is not one (the model wrote it, so this is a
/// bug, reported by the caller).
fn decode(bytes: &[u8]) -> Option<(Keyspace, Option<(String, u64)>)> {
    let nl = bytes.iter().position(|b| *b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..nl]).ok()?;
    let repl = match header.split(' ').collect::<Vec<_>>().as_slice() {
        [MAGIC, "-", "-"] => None,
        [MAGIC, id, offset] => Some((id.to_string(), offset.parse().ok()?)),
        _ => return None,
    };
    let mut data = Keyspace::default();
    let mut reader = CommandReader::with_buffered(bytes[nl + 1..].to_vec());
    while let Some(incoming) = reader.parse().ok()? {
        match incoming {
            Incoming::Command(cmd, _) => apply(&mut data, &cmd),
            _ => return None,
        }
    }
    Some((data, repl))
}

/// Saves a snapshot now (SAVE, BGSAVE, a save rule, shutdown): the fork's copy of the data
/// is what the disk gets, and the count of changes starts again.
pub fn save(s: &mut Server) {
    s.disk.replace(&s.config.rdb_path(), encode(s));
    s.dirty = 0;
    s.lastsave = unixtime();
    record(
        &s.machine,
        Event::SnapshotSaved {
            port: s.config.port,
            keys: s.data.len(),
        },
    );
}

/// A replica stores the snapshot of a full sync on its disk, as redis does with
/// `repl-diskless-load disabled` (the default): the save rules' count is not reset.
pub fn store_synced(s: &Server) {
    s.disk.replace(&s.config.rdb_path(), encode(s));
}

/// Loads the machine's last snapshot into a server that is starting.
pub fn load(s: &mut Server) {
    let Some(bytes) = s.disk.read(&s.config.rdb_path()) else {
        return;
    };
    let Some((data, repl)) = decode(&bytes) else {
        tracing::error!(machine = %s.machine, port = s.config.port, "unreadable snapshot ignored");
        return;
    };
    s.data = data;
    if let Some((id, offset)) = repl {
        s.master_repl_offset = offset;
        if s.is_replica() {
            // A cached master from our own snapshot: PSYNC continues from it.
            s.replid = id;
        } else {
            s.replid2 = id;
            s.second_repl_offset = offset as i64 + 1;
        }
        s.backlog = None;
        s.ensure_backlog();
    }
    record(
        &s.machine,
        Event::SnapshotLoaded {
            port: s.config.port,
            keys: s.data.len(),
        },
    );
}

/// redis's serverCron (hz 10): a snapshot when a `save` rule is due.
pub async fn cron(server: Shared, ctx: ProcessCtx) {
    loop {
        sleep(Duration::from_millis(100)).await;
        ctx.running().await;
        let mut s = server.borrow_mut();
        let since = unixtime().saturating_sub(s.lastsave);
        let due = s
            .config
            .save
            .iter()
            .any(|(seconds, changes)| s.dirty >= *changes && since > *seconds);
        if due {
            save(&mut s);
        }
    }
}

/// SIGTERM: wait (up to `shutdown-timeout`) for the online replicas to have everything,
/// then save the final snapshot if any `save` rule is set. The caller then exits.
pub async fn shutdown(server: &Shared) {
    let in_sync = |s: &Server| {
        s.replicas
            .values()
            .filter(|r| r.state == "online")
            .all(|r| r.ack_offset == s.master_repl_offset)
    };
    let (limit, mut acks) = {
        let mut s = server.borrow_mut();
        if !in_sync(&s) {
            s.append_stream(&encode_args(&[
                b"REPLCONF".to_vec(),
                b"GETACK".to_vec(),
                b"*".to_vec(),
            ]));
        }
        (s.config.shutdown_timeout, s.ack_tx.subscribe())
    };
    let deadline = Instant::now() + limit;
    while !in_sync(&server.borrow()) {
        let left = deadline.saturating_duration_since(Instant::now());
        if timeout(left, acks.changed()).await.is_err() {
            break;
        }
    }
    let mut s = server.borrow_mut();
    if !s.config.save.is_empty() {
        save(&mut s);
    }
}
