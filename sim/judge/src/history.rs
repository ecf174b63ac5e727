//! The history of every operation the workload made, Jepsen style: one `invoke` event when a
//! client starts an operation and one completion (`ok`, `fail` or `unknown`) sharing its
//! operation index.
//!
//! The lab is single-threaded (turmoil runs every host on one thread), so the shared handle
//! is an `Rc<RefCell<..>>`: clients, the nemesis and the checkers all hold clones of it.

use std::cell::{Cell, Ref, RefCell};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

/// Where an event stands in an operation's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The client is about to send the request.
    Invoke,
    /// The server acknowledged it.
    Ok,
    /// Certainly not applied: the server rejected it (an error reply such as READONLY or
    /// NOREPLICAS), or the request could never be sent.
    Fail,
    /// May or may not have been applied: the request was sent, then the reply never came
    /// (timeout, connection closed or reset).
    Unknown,
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// `SET key value` with a value never written before.
    Write,
    /// `GET key`.
    Read,
    /// `INCR counter:<port>`.
    Incr,
    /// `RPUSH list:<port> value` with a value never pushed before.
    Rpush,
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Simulated time in milliseconds since the start of the run.
    pub at_ms: u64,
    pub client: u32,
    /// Unique per run; an invoke and its completion share it.
    pub op: u64,
    pub phase: Phase,
    pub f: OpKind,
    /// The local haproxy port the operation went through.
    pub port: u16,
    pub key: String,
    /// The value written (invoke of write/rpush), the value read (ok of read, absent when the
    /// key did not exist) or the counter (ok of incr).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// For fail/unknown: the server's error reply or what happened ("timeout",
    /// "connection closed", "connection refused", "connect timeout", ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A shared, append-only history.
#[derive(Clone, Default)]
pub struct History {
    events: Rc<RefCell<Vec<Entry>>>,
    // Op indices are handed out here rather than by each client so that they stay unique
    // across clients, workloads and restarts of the workload process sharing one history.
    next_op: Rc<Cell<u64>>,
}

impl History {
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh operation index, unique within this history.
    pub fn next_op(&self) -> u64 {
        let op = self.next_op.get();
        self.next_op.set(op + 1);
        op
    }

    pub fn record(&self, event: Entry) {
        self.events.borrow_mut().push(event);
    }

    /// A copy of every event so far, in the order they were recorded.
    pub fn events(&self) -> Vec<Entry> {
        self.events.borrow().clone()
    }

    /// A borrow of the events, for checkers that only read (do not record while holding it).
    pub fn borrow(&self) -> Ref<'_, Vec<Entry>> {
        self.events.borrow()
    }

    pub fn len(&self) -> usize {
        self.events.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.borrow().is_empty()
    }

    /// One JSON object per line, fields in declaration order, so identical histories give
    /// byte-identical text.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for event in self.events.borrow().iter() {
            // Serializing plain strings and numbers cannot fail.
            out.push_str(&serde_json::to_string(event).unwrap_or_default());
            out.push('\n');
        }
        out
    }

    /// Reads back what [`History::to_jsonl`] wrote.
    pub fn from_jsonl(text: &str) -> Result<Self, serde_json::Error> {
        let history = Self::default();
        let mut max_op = None;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let event: Entry = serde_json::from_str(line)?;
            max_op = max_op.max(Some(event.op));
            history.record(event);
        }
        history.next_op.set(max_op.map_or(0, |op| op + 1));
        Ok(history)
    }
}
