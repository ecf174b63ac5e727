//! Swarm exploration with shrinking: `failover-sim explore`.
//!
//! Each seed draws its own fault mix, settings and schedule ([`generate`]), the lab runs
//! it ([`crate::run`]), and the run is judged ([`verdict`]): passed, a generator bug (a
//! fault never took effect), or a finding (an expectation failed). A finding is shrunk
//! ([`shrink`], [`simplify`]) to the smallest, simplest schedule that fails the same
//! expectation at the same seed, written as a scenario file and run again from that file
//! ([`finding`]).
//!
//! Layout:
//! - [`draw`]: the seed's ChaCha stream of choices.
//! - [`generate`]: swarm generation of valid-by-construction schedules.
//! - [`verdict`]: what a run means to the explorer.
//! - [`shrink`]: ddmin over faults, then per-fault simplification; generic over the oracle.
//! - [`simplify`]: simpler versions of one fault.
//! - [`finding`]: naming, describing, writing and re-running a found scenario.
//! - [`seed`]: one seed's whole pipeline.
//! - [`options`]: the command line's options and the default expectations.
//! - [`summary`]: counts, findings, and their text form.

pub mod draw;
pub mod finding;
pub mod generate;
pub mod options;
pub mod seed;
pub mod shrink;
pub mod simplify;
pub mod summary;
pub mod verdict;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

pub use generate::{generate, GenOptions};
pub use options::{default_base, default_expect, ExploreOptions};
pub use seed::{explore_seed, Finding, SeedReport};
pub use shrink::{shrink, Shrunk};
pub use summary::Summary;
pub use verdict::{judge, Verdict};

/// Explores every seed of `options.seeds` on `options.jobs` threads. `progress` sees each
/// seed's report in seed order (whatever order the threads finish in), so the output is
/// the same for any number of jobs.
pub fn explore(options: &ExploreOptions, mut progress: impl FnMut(&SeedReport)) -> Summary {
    let (first, last) = (*options.seeds.start(), *options.seeds.end());
    if first > last {
        return Summary::of(Vec::new());
    }
    let total = last - first + 1;
    let jobs = options.jobs.clamp(1, total.min(64) as usize);
    let next = AtomicU64::new(first);
    let (tx, rx) = mpsc::channel::<SeedReport>();
    let mut reports = Vec::new();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                // Each lab run is single-threaded and self-contained (turmoil's state and
                // the trace subscriber are per thread), so seeds run side by side.
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed > last || tx.send(explore_seed(seed, options)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut want = first;
        for report in rx {
            pending.insert(report.seed, report);
            while let Some(report) = pending.remove(&want) {
                progress(&report);
                reports.push(report);
                want = want.saturating_add(1);
            }
        }
    });
    Summary::of(reports)
}
