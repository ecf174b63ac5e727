//! Stale reads: a read invoked after its key's write was acknowledged that returned nothing
//! or another value. The workload only reads keys it wrote and got ok for, and each key is
//! written once, so after the acknowledgement there is exactly one right answer.
//!
//! Reads of keys whose write was not acknowledged before the read began are not judged
//! (any answer is allowed then), nor are reads that failed or timed out (no answer).

use std::collections::BTreeMap;

use serde::Serialize;

use super::operations::{Operation, Outcome};
use crate::history::OpKind;

/// How many are listed one by one; the total counts them all.
pub const LIST_CAP: usize = 20;

/// One stale read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleRead {
    /// The read's operation index.
    pub op: u64,
    pub client: u32,
    pub port: u16,
    pub key: String,
    /// The value the acknowledged write stored.
    pub expected: Option<String>,
    /// What the read returned (`null`: the key did not exist).
    pub got: Option<String>,
    /// When the write was acknowledged.
    pub write_acked_ms: u64,
    /// When the read was invoked and when it returned.
    pub read_invoked_ms: u64,
    pub read_completed_ms: u64,
}

/// The stale reads of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StaleReads {
    /// Ok reads that began after their key's write was acknowledged (the ones judged).
    pub checked: u64,
    pub total: u64,
    /// The first ones in read order, at most [`LIST_CAP`].
    pub listed: Vec<StaleRead>,
}

pub fn check(ops: &[Operation]) -> StaleReads {
    // key → its acknowledged write; keys are unique per write.
    let writes: BTreeMap<&str, &Operation> = ops
        .iter()
        .filter(|o| o.f == OpKind::Write && o.outcome == Outcome::Ok)
        .map(|o| (o.key.as_str(), o))
        .collect();
    let mut r = StaleReads::default();
    let mut stale = Vec::new();
    for read in ops
        .iter()
        .filter(|o| o.f == OpKind::Read && o.outcome == Outcome::Ok)
    {
        let Some(write) = writes.get(read.key.as_str()) else {
            continue;
        };
        let Some(acked) = write.completed_ms else {
            continue;
        };
        if read.invoked_ms < acked {
            continue;
        }
        r.checked += 1;
        if read.result != write.value {
            stale.push(StaleRead {
                op: read.op,
                client: read.client,
                port: read.port,
                key: read.key.clone(),
                expected: write.value.clone(),
                got: read.result.clone(),
                write_acked_ms: acked,
                read_invoked_ms: read.invoked_ms,
                read_completed_ms: read.completed_ms.unwrap_or(read.invoked_ms),
            });
        }
    }
    stale.sort_by_key(|s| (s.read_invoked_ms, s.op));
    r.total = stale.len() as u64;
    stale.truncate(LIST_CAP);
    r.listed = stale;
    r
}
