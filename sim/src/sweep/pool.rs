//! The workers: `jobs` threads take (scenario, seed) tasks from one shared counter, each
//! waiting on its seed's child process; results come back to the calling thread in
//! completion order, which is why the sweep sorts them afterwards.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

use super::outcome::SeedOutcome;
use super::stop::Stop;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub scenario: String,
    pub seed: u64,
}

/// Runs every task with `run` on `jobs` threads; `on_done` sees each outcome as it
/// arrives, on the calling thread (progress, live failure lines, memory samples). Once
/// `stop` is requested no task starts; `run` gives `None` for one it abandoned, so the
/// result holds the tasks that finished.
pub fn run_all<F>(
    tasks: &[Task],
    jobs: usize,
    run: F,
    mut on_done: impl FnMut(&SeedOutcome),
    stop: &Stop,
) -> Vec<SeedOutcome>
where
    F: Fn(&Task) -> Option<SeedOutcome> + Sync,
{
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    let mut out = Vec::with_capacity(tasks.len());
    thread::scope(|s| {
        for _ in 0..jobs.clamp(1, tasks.len().max(1)) {
            let tx = tx.clone();
            let (next, run) = (&next, &run);
            s.spawn(move || loop {
                if stop.requested().is_some() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(task) = tasks.get(i) else { break };
                let Some(outcome) = run(task) else { break };
                if tx.send(outcome).is_err() {
                    break;
                }
            });
        }
        // Only the workers hold senders now, so the loop ends when the last one does.
        drop(tx);
        for outcome in rx {
            on_done(&outcome);
            out.push(outcome);
        }
    });
    out
}
