//! Operations: the history's invoke and completion events paired by operation index, which
//! is the shape every checker wants (when it started, how it ended, what it wrote or read).

use std::collections::BTreeMap;

use crate::history::{Entry, OpKind, Phase};

/// How an operation ended, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Fail,
    Unknown,
    /// Invoked, never completed (the run ended first).
    Incomplete,
}

/// One operation: its invoke and (when there was one) its completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub op: u64,
    pub client: u32,
    pub f: OpKind,
    pub port: u16,
    pub key: String,
    /// The value the invoke carried (written or pushed); `None` for reads and increments.
    pub value: Option<String>,
    pub invoked_ms: u64,
    pub outcome: Outcome,
    pub completed_ms: Option<u64>,
    /// The completion's value: what a read returned, the counter an increment returned.
    pub result: Option<String>,
    pub error: Option<String>,
}

impl Operation {
    /// Writes, increments and pushes change the data; reads do not.
    pub fn is_update(&self) -> bool {
        self.f != OpKind::Read
    }

    /// How long it took, for completed operations.
    pub fn latency_ms(&self) -> Option<u64> {
        self.completed_ms.map(|c| c.saturating_sub(self.invoked_ms))
    }
}

/// Pairs invokes with completions, in invoke order. A completion whose invoke is missing is
/// ignored (there is nothing to say what it was), and only the first completion of an
/// operation counts, so odd histories give an answer rather than a panic.
pub fn operations(history: &[Entry]) -> Vec<Operation> {
    let mut ops: Vec<Operation> = Vec::new();
    // op index → position in `ops`; a BTreeMap so nothing depends on hashing.
    let mut by_op: BTreeMap<u64, usize> = BTreeMap::new();
    for e in history {
        match e.phase {
            Phase::Invoke => {
                if by_op.contains_key(&e.op) {
                    continue;
                }
                by_op.insert(e.op, ops.len());
                ops.push(Operation {
                    op: e.op,
                    client: e.client,
                    f: e.f,
                    port: e.port,
                    key: e.key.clone(),
                    value: e.value.clone(),
                    invoked_ms: e.at_ms,
                    outcome: Outcome::Incomplete,
                    completed_ms: None,
                    result: None,
                    error: None,
                });
            }
            Phase::Ok | Phase::Fail | Phase::Unknown => {
                let Some(&i) = by_op.get(&e.op) else { continue };
                let o = &mut ops[i];
                if o.outcome != Outcome::Incomplete {
                    continue;
                }
                o.outcome = match e.phase {
                    Phase::Ok => Outcome::Ok,
                    Phase::Fail => Outcome::Fail,
                    _ => Outcome::Unknown,
                };
                o.completed_ms = Some(e.at_ms);
                o.result = e.value.clone();
                o.error = e.error.clone();
            }
        }
    }
    ops
}

/// Completed operations sorted by completion time (ties in invoke order), the order in
/// which a client saw the service answer.
pub fn by_completion(ops: &[Operation]) -> Vec<&Operation> {
    let mut done: Vec<&Operation> = ops.iter().filter(|o| o.completed_ms.is_some()).collect();
    // A stable sort keeps invoke order among equal completion times.
    done.sort_by_key(|o| o.completed_ms);
    done
}
