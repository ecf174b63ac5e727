//! Writes that appeared although they failed: the client was told "certainly not applied"
//! (an error reply, or never sent), yet the value is in the final state. A client that
//! retries such a write would apply it twice.
//!
//! Only `SET` and `RPUSH` can be checked (their values are unique); an increment leaves no
//! trace of which operation made it. Unknown outcomes may legitimately be either way and
//! are not counted.

use std::collections::BTreeMap;

use serde::Serialize;

use super::operations::{Operation, Outcome};
use crate::history::OpKind;
use crate::read_back::ReadBack;

/// How many are listed one by one; the total counts them all.
pub const LIST_CAP: usize = 20;

/// One failed write found in the final state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppearedWrite {
    pub op: u64,
    pub client: u32,
    /// `write` or `rpush`.
    pub f: OpKind,
    pub port: u16,
    pub key: String,
    pub value: Option<String>,
    /// When the client was told it failed.
    pub failed_ms: u64,
    /// The error the client got.
    pub error: Option<String>,
}

/// Failed writes present at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Appeared {
    pub total: u64,
    /// The first ones in failure order, at most [`LIST_CAP`].
    pub listed: Vec<AppearedWrite>,
}

pub fn check(ops: &[Operation], final_state: &BTreeMap<u16, ReadBack>) -> Appeared {
    let mut found = Vec::new();
    for o in ops.iter().filter(|o| o.outcome == Outcome::Fail) {
        let Some(value) = o.value.as_deref() else {
            continue;
        };
        let Some(rb) = final_state.get(&o.port) else {
            continue;
        };
        let present = match o.f {
            OpKind::Write => matches!(rb.keys.get(&o.key), Some(Ok(Some(v))) if v == value),
            OpKind::Rpush => rb.list.as_ref().is_ok_and(|l| l.iter().any(|v| v == value)),
            OpKind::Read | OpKind::Incr => false,
        };
        if present {
            found.push(AppearedWrite {
                op: o.op,
                client: o.client,
                f: o.f,
                port: o.port,
                key: o.key.clone(),
                value: Some(value.to_string()),
                failed_ms: o.completed_ms.unwrap_or(o.invoked_ms),
                error: o.error.clone(),
            });
        }
    }
    found.sort_by_key(|a| (a.failed_ms, a.op));
    let total = found.len() as u64;
    found.truncate(LIST_CAP);
    Appeared {
        total,
        listed: found,
    }
}
