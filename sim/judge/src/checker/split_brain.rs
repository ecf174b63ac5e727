//! Split brain: per redis port (9001, 9002, ...), the time during which two different
//! servers were masters that had accepted writes, so clients of each wrote data the other
//! never saw.
//!
//! A server counts as an accepting master from its "write accepted as master" trace event
//! (the first write it accepted since becoming master) until it becomes a replica
//! ("REPLICAOF"), its process is killed, its machine crashes or is terminated, or the run
//! ends. Being promoted alone does not count: a master nobody writes to diverges from no
//! one.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::detail;
use crate::trace::TraceEvent;

/// One interval with two or more accepting masters on a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SplitBrainInterval {
    /// The redis port (9001 to 9000 + redis_ports).
    pub port: u16,
    pub start_ms: u64,
    pub end_ms: u64,
    pub duration_ms: u64,
    /// The machines whose servers were accepting writes during it, sorted.
    pub masters: Vec<String>,
}

/// Split brain over a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SplitBrain {
    /// All intervals added up (over every port).
    pub total_ms: u64,
    pub longest_ms: u64,
    /// Per redis port, that port's intervals added up.
    pub per_port: BTreeMap<u16, u64>,
    /// Every interval, by port then start.
    pub intervals: Vec<SplitBrainInterval>,
}

/// One server's accepting-master interval: (port, machine, start, end).
type Span = (u16, String, u64, u64);

/// When each server was an accepting master.
fn spans(trace: &[TraceEvent], end_ms: u64) -> Vec<Span> {
    let mut events: Vec<&TraceEvent> = trace.iter().collect();
    events.sort_by_key(|e| e.at_ms);
    // (port, machine) → since when it accepts writes.
    let mut since: BTreeMap<(u16, String), u64> = BTreeMap::new();
    let mut out = Vec::new();
    let mut close = |since: &mut BTreeMap<(u16, String), u64>, key: &(u16, String), at: u64| {
        if let Some(start) = since.remove(key) {
            out.push((key.0, key.1.clone(), start, at.max(start)));
        }
    };
    for e in events {
        if let Some(machine) = detail::machine_gone(e) {
            let keys: Vec<(u16, String)> =
                since.keys().filter(|k| k.1 == machine).cloned().collect();
            for k in keys {
                close(&mut since, &k, e.at_ms);
            }
        } else if let Some(k) = detail::server_killed(e) {
            close(&mut since, &(k.1, k.0), e.at_ms);
        } else if let Some(port) = detail::port(e) {
            let k = (port, e.source.clone());
            if detail::is_write_accepted(e) {
                since.entry(k).or_insert(e.at_ms);
            } else if detail::replica_of(e).is_some() {
                close(&mut since, &k, e.at_ms);
            }
        }
    }
    let rest: Vec<(u16, String)> = since.keys().cloned().collect();
    for k in rest {
        close(&mut since, &k, end_ms);
    }
    out
}

pub fn check(trace: &[TraceEvent], end_ms: u64) -> SplitBrain {
    let mut per_port_spans: BTreeMap<u16, Vec<Span>> = BTreeMap::new();
    for s in spans(trace, end_ms) {
        per_port_spans.entry(s.0).or_default().push(s);
    }
    let mut r = SplitBrain::default();
    for (port, spans) in per_port_spans {
        // Boundaries sorted by time, ends before starts at the same instant so that one
        // master handing over to another in the same millisecond is no overlap.
        let mut points: Vec<(u64, bool, &str)> = Vec::new();
        for (_, machine, start, end) in &spans {
            if end > start {
                points.push((*start, true, machine));
                points.push((*end, false, machine));
            }
        }
        points.sort_by_key(|p| (p.0, p.1));
        let mut active: BTreeMap<&str, u32> = BTreeMap::new();
        let mut current: Option<(u64, BTreeSet<String>)> = None;
        let mut total = 0;
        for (at, is_start, machine) in points {
            if is_start {
                *active.entry(machine).or_default() += 1;
            } else if let Some(n) = active.get_mut(machine) {
                *n -= 1;
                if *n == 0 {
                    active.remove(machine);
                }
            }
            if active.len() >= 2 {
                let c = current.get_or_insert_with(|| (at, BTreeSet::new()));
                c.1.extend(active.keys().map(|m| m.to_string()));
            } else if let Some((start, masters)) = current.take() {
                if at > start {
                    total += at - start;
                    r.intervals.push(SplitBrainInterval {
                        port,
                        start_ms: start,
                        end_ms: at,
                        duration_ms: at - start,
                        masters: masters.into_iter().collect(),
                    });
                }
            }
        }
        r.per_port.insert(port, total);
        r.total_ms += total;
    }
    r.longest_ms = r.intervals.iter().map(|i| i.duration_ms).max().unwrap_or(0);
    r
}
