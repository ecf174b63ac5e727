//! Stopping a sweep part way (Ctrl-C, SIGTERM from CI): no new seed starts, every running
//! child is killed by its PID and reaped, and the sweep still writes sweep.json and
//! junit.xml of the seeds that finished, marked incomplete. Children run in process
//! groups of their own, so a terminal's Ctrl-C reaches only the sweep, which decides
//! what happens to them (a child killed by the terminal would pass for a failed seed).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Shared by the sweep's threads; holds the number of the signal that asked to stop, or 0.
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicUsize>);

impl Stop {
    /// A stop that SIGINT and SIGTERM request (instead of ending the process at once).
    pub fn on_signals() -> std::io::Result<Stop> {
        let stop = Stop::default();
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // The handler only stores the number: all a signal handler may safely do.
            signal_hook::flag::register_usize(signal, Arc::clone(&stop.0), signal as usize)?;
        }
        Ok(stop)
    }

    /// Asks the sweep to stop, as `signal` would.
    pub fn request(&self, signal: i32) {
        self.0.store(signal.max(1) as usize, Ordering::SeqCst);
    }

    /// The signal that asked to stop, if one did.
    pub fn requested(&self) -> Option<i32> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            n => Some(n as i32),
        }
    }
}

/// "SIGINT", "SIGTERM", or the number.
pub fn signal_name(signal: i32) -> String {
    match signal {
        signal_hook::consts::SIGINT => "SIGINT".into(),
        signal_hook::consts::SIGTERM => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}
