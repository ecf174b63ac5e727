//! Recording the trace of a lab run: models, the nemesis, the cloud and the controller call
//! [`record`] with a typed [`Event`]; the run that is recording on this thread (see
//! [`Recording`]) stamps it with the simulated time and keeps it. The same call writes a
//! `tracing` line with target [`TARGET`], for people reading `RUST_LOG` output; nothing
//! reads those lines back.
//!
//! Why a thread-local rather than a handle in every model: turmoil runs one lab on one
//! thread, the models are many small tasks, and a sweep or explore runs several labs on
//! several threads. A thread-local scoped to the run is what `tracing`'s own default
//! subscriber does, and it keeps the models' signatures free of a trace handle.

use std::cell::RefCell;

pub use judge::trace::{Event, ServerStatus, Trace, TraceEvent};

/// The tracing target of the log lines that mirror recorded events.
pub const TARGET: &str = "lab";

thread_local! {
    static RECORDING: RefCell<Option<Trace>> = const { RefCell::new(None) };
}

/// While alive, [`record`] on this thread appends to `trace`; dropping it restores
/// whatever was recording before (runs can nest: a probe inside a test run).
pub struct Recording {
    previous: Option<Trace>,
}

impl Recording {
    pub fn start(trace: &Trace) -> Self {
        let previous = RECORDING.with(|r| r.borrow_mut().replace(trace.clone()));
        Recording { previous }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let previous = self.previous.take();
        RECORDING.with(|r| *r.borrow_mut() = previous);
    }
}

/// Records `event` as happening to `source` (a machine, "nemesis", "ec2", "controller",
/// "lab") now: the simulated time inside a step, else the runner's clock (events between
/// steps, such as the nemesis's).
pub fn record(source: &str, event: Event) {
    tracing::info!(target: TARGET, source, ?event);
    RECORDING.with(|r| {
        if let Some(trace) = &*r.borrow() {
            let at_ms = turmoil::sim_elapsed()
                .map(|d| d.as_millis() as u64)
                .unwrap_or_else(|| trace.now_ms());
            trace.record(TraceEvent {
                at_ms,
                source: source.to_string(),
                event,
            });
        }
    });
}
