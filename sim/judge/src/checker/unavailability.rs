//! Unavailability windows: when the service stopped answering. A window is a maximal
//! interval between two ok completions during which some operation failed or was unknown:
//! it starts at the last ok completion before the first failure (or at the first event of
//! the history when nothing had succeeded yet) and ends at the next ok completion. A window
//! still open at the end runs to the last event of the history.
//!
//! Measuring from the last success rather than the first failure counts the time a client
//! spent waiting for the timeout that produced the failure, which is what a user felt.

use std::collections::BTreeMap;

use serde::Serialize;

use super::operations::{by_completion, Operation, Outcome};

/// One window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start_ms: u64,
    pub end_ms: u64,
    pub duration_ms: u64,
    /// Operations that failed in it.
    pub failed: u64,
    /// Operations whose outcome is unknown in it.
    pub unknown: u64,
    /// Still open when the history ended (no ok completion after it).
    pub open: bool,
}

/// Windows of one set of operations, summed up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WindowSummary {
    pub count: u64,
    pub longest_ms: u64,
    pub total_ms: u64,
}

/// The unavailability of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Unavailability {
    /// Over all operations, whatever their port.
    pub longest_ms: u64,
    pub total_ms: u64,
    pub windows: Vec<Window>,
    /// The same computed over each local haproxy port's operations alone.
    pub per_port: BTreeMap<u16, WindowSummary>,
}

/// The windows of `ops`; `first_ms` and `last_ms` bound the history.
pub fn windows(ops: &[&Operation], first_ms: u64, last_ms: u64) -> Vec<Window> {
    let mut out = Vec::new();
    let mut last_ok: Option<u64> = None;
    // The window being built: (start, failed, unknown).
    let mut open: Option<(u64, u64, u64)> = None;
    let mut sorted: Vec<&Operation> = ops.to_vec();
    sorted.sort_by_key(|o| o.completed_ms);
    for o in sorted {
        let Some(at) = o.completed_ms else { continue };
        match o.outcome {
            Outcome::Ok => {
                if let Some((start, failed, unknown)) = open.take() {
                    out.push(window(start, at, failed, unknown, false));
                }
                last_ok = Some(at);
            }
            Outcome::Fail | Outcome::Unknown => {
                let w = open.get_or_insert((last_ok.unwrap_or(first_ms), 0, 0));
                if o.outcome == Outcome::Fail {
                    w.1 += 1;
                } else {
                    w.2 += 1;
                }
            }
            Outcome::Incomplete => {}
        }
    }
    if let Some((start, failed, unknown)) = open {
        out.push(window(start, last_ms.max(start), failed, unknown, true));
    }
    out
}

fn window(start_ms: u64, end_ms: u64, failed: u64, unknown: u64, open: bool) -> Window {
    Window {
        start_ms,
        end_ms,
        duration_ms: end_ms - start_ms,
        failed,
        unknown,
        open,
    }
}

fn summary(windows: &[Window]) -> WindowSummary {
    WindowSummary {
        count: windows.len() as u64,
        longest_ms: windows.iter().map(|w| w.duration_ms).max().unwrap_or(0),
        total_ms: windows.iter().map(|w| w.duration_ms).sum(),
    }
}

pub fn check(ops: &[Operation], first_ms: u64, last_ms: u64) -> Unavailability {
    let all: Vec<&Operation> = by_completion(ops);
    let overall = windows(&all, first_ms, last_ms);
    let mut ports: BTreeMap<u16, Vec<&Operation>> = BTreeMap::new();
    for o in &all {
        ports.entry(o.port).or_default().push(o);
    }
    let per_port = ports
        .into_iter()
        .map(|(port, ops)| (port, summary(&windows(&ops, first_ms, last_ms))))
        .collect();
    let s = summary(&overall);
    Unavailability {
        longest_ms: s.longest_ms,
        total_ms: s.total_ms,
        windows: overall,
        per_port,
    }
}
