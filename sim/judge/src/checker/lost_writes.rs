//! Lost writes: operations the server acknowledged whose effect is missing from the final
//! state. This is the failure that matters most (Jepsen's Sentinel result): a client was
//! told its data was safe and it was not.
//!
//! - `SET` (write) ok: lost when the final read of its key finds nothing or another value
//!   (keys are unique per write, so nothing legitimately overwrites them).
//! - `RPUSH` ok: lost when its value (unique per push) is not in the final list.
//! - `INCR` ok: increments cannot be told apart, so the count is a lower bound: the larger
//!   of (acknowledged increments − final counter) and (acknowledged increments that returned
//!   a value above the final counter: a counter only grows along one lineage, so such an
//!   increment cannot be in the final one).
//!
//! A key, counter or list the final read-back could not read (or did not ask for) makes
//! its writes *unverified*, counted apart rather than guessed either way.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::operations::{Operation, Outcome};
use crate::history::OpKind;
use crate::read_back::ReadBack;

/// How many lost writes are listed one by one; the totals count them all.
pub const LIST_CAP: usize = 20;

/// One acknowledged write missing from the final state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LostWrite {
    pub op: u64,
    pub client: u32,
    /// `write`, `rpush` or `incr`.
    pub f: OpKind,
    pub port: u16,
    pub key: String,
    /// The value written or pushed, or the counter value the increment returned.
    pub value: Option<String>,
    /// When the server acknowledged it.
    pub acked_ms: u64,
    /// What the final state holds instead, in words.
    pub found: String,
}

/// The lost writes of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LostWrites {
    /// All lost writes: `writes + rpushes + increments`.
    pub total: u64,
    /// Acknowledged `SET`s whose key is missing or holds another value.
    pub writes: u64,
    /// Acknowledged `RPUSH` values missing from the final list.
    pub rpushes: u64,
    /// Acknowledged `INCR`s the final counter does not account for (a lower bound).
    pub increments: u64,
    /// Acknowledged writes whose final state could not be read, so neither lost nor kept.
    pub unverified: u64,
    /// The first lost writes in acknowledgement order, at most [`LIST_CAP`].
    pub listed: Vec<LostWrite>,
}

pub fn check(ops: &[Operation], final_state: &BTreeMap<u16, ReadBack>) -> LostWrites {
    let mut r = LostWrites::default();
    let mut lost: Vec<LostWrite> = Vec::new();
    let acked: Vec<&Operation> = ops
        .iter()
        .filter(|o| o.outcome == Outcome::Ok && o.is_update())
        .collect();

    // Lists are looked up by value many times, so turn each into a set once.
    let lists: BTreeMap<u16, BTreeSet<&str>> = final_state
        .iter()
        .filter_map(|(port, rb)| {
            let list = rb.list.as_ref().ok()?;
            Some((*port, list.iter().map(String::as_str).collect()))
        })
        .collect();

    for o in acked.iter().filter(|o| o.f != OpKind::Incr) {
        let found = match o.f {
            OpKind::Write => final_state
                .get(&o.port)
                .and_then(|rb| rb.keys.get(&o.key))
                .map(|v| match v {
                    Ok(Some(v)) if Some(v) == o.value.as_ref() => Ok(None),
                    Ok(Some(v)) => Ok(Some(format!("another value: {v}"))),
                    Ok(None) => Ok(Some("key missing".to_string())),
                    Err(e) => Err(e.clone()),
                }),
            _ => lists.get(&o.port).map(|set| {
                let present = o.value.as_deref().is_some_and(|v| set.contains(v));
                Ok((!present).then(|| "value missing from the list".to_string()))
            }),
        };
        match found {
            None | Some(Err(_)) => r.unverified += 1,
            Some(Ok(None)) => {}
            Some(Ok(Some(found))) => {
                if o.f == OpKind::Write {
                    r.writes += 1;
                } else {
                    r.rpushes += 1;
                }
                lost.push(lost_write(o, o.value.clone(), found));
            }
        }
    }

    // Increments, per port.
    let mut incr_ports: BTreeMap<u16, Vec<&Operation>> = BTreeMap::new();
    for o in acked.iter().filter(|o| o.f == OpKind::Incr) {
        incr_ports.entry(o.port).or_default().push(o);
    }
    for (port, incrs) in incr_ports {
        let final_counter = match final_state.get(&port).map(|rb| &rb.counter) {
            Some(Ok(v)) => v.unwrap_or(0),
            None | Some(Err(_)) => {
                r.unverified += incrs.len() as u64;
                continue;
            }
        };
        let above: Vec<&&Operation> = incrs
            .iter()
            .filter(|o| {
                o.result
                    .as_deref()
                    .and_then(|v| v.parse::<i64>().ok())
                    .is_some_and(|v| v > final_counter)
            })
            .collect();
        let by_count = (incrs.len() as i64).saturating_sub(final_counter.max(0));
        r.increments += (by_count.max(0) as u64).max(above.len() as u64);
        for o in above {
            lost.push(lost_write(
                o,
                o.result.clone(),
                format!("final counter is {final_counter}"),
            ));
        }
    }

    r.total = r.writes + r.rpushes + r.increments;
    lost.sort_by_key(|l| (l.acked_ms, l.op));
    lost.truncate(LIST_CAP);
    r.listed = lost;
    r
}

fn lost_write(o: &Operation, value: Option<String>, found: String) -> LostWrite {
    LostWrite {
        op: o.op,
        client: o.client,
        f: o.f,
        port: o.port,
        key: o.key.clone(),
        value,
        acked_ms: o.completed_ms.unwrap_or(o.invoked_ms),
        found,
    }
}
