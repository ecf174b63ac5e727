//! Request counts: how many operations were invoked and how each ended, overall and per
//! port, and how many succeeded only after waiting longer than a person would accept.

use std::collections::BTreeMap;

use serde::Serialize;

use super::operations::{Operation, Outcome};

/// How a set of operations ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    /// Operations invoked.
    pub invoked: u64,
    /// Acknowledged by the server.
    pub ok: u64,
    /// Certainly not applied (an error reply, or never sent).
    pub failed: u64,
    /// Sent, but no reply came: may or may not have been applied.
    pub unknown: u64,
    /// Invoked, never completed (the run ended first).
    pub incomplete: u64,
    /// Ok, but only after more than the waited threshold.
    pub waited: u64,
}

impl RequestCounts {
    fn add(&mut self, o: &Operation, waited_threshold_ms: u64) {
        self.invoked += 1;
        match o.outcome {
            Outcome::Ok => {
                self.ok += 1;
                if o.latency_ms().unwrap_or(0) > waited_threshold_ms {
                    self.waited += 1;
                }
            }
            Outcome::Fail => self.failed += 1,
            Outcome::Unknown => self.unknown += 1,
            Outcome::Incomplete => self.incomplete += 1,
        }
    }
}

/// Request counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Requests {
    /// Every operation of the run.
    pub total: RequestCounts,
    /// The same, per local haproxy port (7001 to 7000 + redis_ports).
    pub per_port: BTreeMap<u16, RequestCounts>,
    /// An ok operation that took longer than this (milliseconds) counts as waited.
    pub waited_threshold_ms: u64,
}

pub fn count(ops: &[Operation], waited_threshold_ms: u64) -> Requests {
    let mut r = Requests {
        waited_threshold_ms,
        ..Requests::default()
    };
    for o in ops {
        r.total.add(o, waited_threshold_ms);
        r.per_port
            .entry(o.port)
            .or_default()
            .add(o, waited_threshold_ms);
    }
    r
}
