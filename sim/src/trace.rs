//! The trace of a run: every fault and every state change, with the simulated time it
//! happened, one JSON object per line.
//!
//! Models announce state changes with `tracing` events whose target is [`TARGET`]
//! (`tracing::info!(target: "lab", machine = .., ...)`); [`TraceLayer`] records those into
//! the run's [`Trace`], tagged with the machine named in the event.
//! The same events also reach the ordinary log when `RUST_LOG` asks for them.

use std::fmt::Write as _;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The tracing target of events that belong in the trace.
pub const TARGET: &str = "lab";
/// The failover controller's events (`failover::shell::TARGET`) belong in it too.
pub const CONTROLLER_TARGET: &str = failover::shell::TARGET;

pub use judge::trace::{Trace, TraceEvent};

/// Records [`TARGET`] events into a [`Trace`].
pub struct TraceLayer {
    trace: Trace,
}

impl TraceLayer {
    pub fn new(trace: Trace) -> Self {
        Self { trace }
    }
}

impl<S> Layer<S> for TraceLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let target = event.metadata().target();
        if target != TARGET && target != CONTROLLER_TARGET {
            return;
        }
        let mut v = Fields::default();
        event.record(&mut v);
        // Models name their machine in a field (turmoil's per-host spans would cost a span
        // per host per tick to follow).
        let source = ["source", "machine", "proxy"]
            .iter()
            .find_map(|k| v.take(k))
            .unwrap_or_else(|| "lab".to_string());
        let at_ms = turmoil::sim_elapsed()
            .map(|d| d.as_millis() as u64)
            .unwrap_or_else(|| self.trace.now_ms());
        // The simulated time is the event's own; a model's `at` field would repeat it.
        v.take("at");
        self.trace.record(TraceEvent {
            at_ms,
            source,
            what: v.take("message").unwrap_or_default(),
            detail: v.render(),
        });
    }
}

#[derive(Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn take(&mut self, name: &str) -> Option<String> {
        let i = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.remove(i).1)
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.0 {
            if !out.is_empty() {
                out.push(' ');
            }
            let _ = write!(out, "{k}={v}");
        }
        out
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_string(), value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .push((field.name().to_string(), format!("{value:?}")));
    }
}
