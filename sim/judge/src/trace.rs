//! The trace of a run: every typed [`Event`] (faults, state changes, the controller's
//! decisions) with the time it happened and who it happened to, one JSON object per line
//! in `trace.jsonl`. Checkers match on the events' variants, never on log text.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

pub use failover_core::event::{Event, ServerStatus};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceEvent {
    pub at_ms: u64,
    /// The machine the event happened on, or "nemesis", "ec2", "controller", "lab".
    pub source: String,
    #[serde(flatten)]
    pub event: Event,
}

/// The trace of one run, shared between the layer (inside the simulation) and the runner.
#[derive(Clone, Default)]
pub struct Trace {
    events: Arc<Mutex<Vec<TraceEvent>>>,
    /// The runner's clock, for events emitted between steps (the nemesis), where turmoil
    /// has no current host to ask.
    now_ms: Arc<AtomicU64>,
}

impl Trace {
    pub fn set_now(&self, at: std::time::Duration) {
        self.now_ms.store(at.as_millis() as u64, Ordering::Relaxed);
    }

    pub fn record(&self, event: TraceEvent) {
        self.events.lock().expect("trace lock").push(event);
    }

    /// The runner's clock as last set: the time of an event recorded between steps.
    pub fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::Relaxed)
    }

    pub fn events(&self) -> Vec<TraceEvent> {
        self.events.lock().expect("trace lock").clone()
    }
}
