//! Seeds at scale: one or more scenarios over many seeds, in parallel, each seed in its
//! own child process. Layout:
//!
//! - [`seeds`]: the `--seeds` syntax (`1..=1000`, `1..10`, `7`, comma lists);
//! - [`shard`]: `--shard K/N`, the round-robin split of the seeds over CI machines;
//! - [`child`]: one seed in a child process (the hidden `sweep-seed`), with a timeout;
//! - [`pool`]: the worker threads;
//! - [`outcome`] and [`figures`]: what a seed produced, and the figures kept per seed;
//! - [`stats`]: min / median / p99 / max per scenario, from the per-seed figures;
//! - [`file`]: `sweep.json` (schema in `SCHEMA.md`), and [`junit`]: `junit.xml`;
//! - [`merge`]: shards joined back into one sweep;
//! - [`text`]: the printed summary; [`progress`]: the progress bar;
//! - [`determinism`]: `run --check-determinism`, a seed run twice and compared;
//! - [`bench`] and [`rss`]: `bench-sweep`, seeds per minute, speedup and memory.

pub mod bench;
pub mod child;
pub mod determinism;
pub mod figures;
pub mod file;
pub mod junit;
pub mod merge;
pub mod outcome;
pub mod pool;
pub mod progress;
pub mod rss;
pub mod seeds;
pub mod shard;
pub mod stats;
pub mod text;

use std::path::PathBuf;
use std::time::Duration;

pub use file::SweepFile;
pub use outcome::SeedOutcome;
pub use shard::Shard;

use pool::Task;

/// What a sweep runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Scenario files, as given (they appear so in the reproduce commands).
    pub scenarios: Vec<String>,
    /// `--seeds`, unparsed: it is written to sweep.json as declared.
    pub seeds: String,
    pub shard: Option<Shard>,
    pub jobs: usize,
    /// Wall-clock limit per seed.
    pub timeout: Duration,
    /// The binary whose hidden `sweep-seed` runs each seed (normally this one).
    pub exe: PathBuf,
}

/// The (scenario, seed) pairs this sweep (or shard) runs, scenario by scenario.
pub fn tasks(opts: &Options) -> Result<Vec<Task>, String> {
    let all = seeds::parse(&opts.seeds).map_err(|e| e.to_string())?;
    let mine = match opts.shard {
        Some(s) => s.select(&all),
        None => all,
    };
    let mut scenarios = opts.scenarios.clone();
    scenarios.sort();
    scenarios.dedup();
    Ok(scenarios
        .iter()
        .flat_map(|s| {
            mine.iter().map(|seed| Task {
                scenario: s.clone(),
                seed: *seed,
            })
        })
        .collect())
}

/// Checks every scenario file loads, so a typo is one clear error, not N failed seeds.
pub fn check_scenarios(scenarios: &[String]) -> Result<(), String> {
    if scenarios.is_empty() {
        return Err("give at least one scenario file".into());
    }
    for s in scenarios {
        scenario::load(std::path::Path::new(s)).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs the sweep; `on_done` sees every outcome as it completes.
pub fn sweep(opts: &Options, on_done: impl FnMut(&SeedOutcome)) -> Result<SweepFile, String> {
    if opts.timeout.is_zero() {
        return Err("--timeout must be above 0 seconds".into());
    }
    check_scenarios(&opts.scenarios)?;
    let tasks = tasks(opts)?;
    let results = pool::run_all(
        &tasks,
        opts.jobs,
        |t| child::run_seed(&opts.exe, &t.scenario, t.seed, opts.timeout),
        on_done,
    );
    let normalized = normalize(&opts.seeds);
    Ok(SweepFile::new(
        normalized,
        opts.shard,
        opts.scenarios.clone(),
        opts.timeout.as_secs_f64(),
        results,
        Vec::new(),
    ))
}

/// `--seeds` without the spaces people type, so shards of one sweep declare the same range.
fn normalize(spec: &str) -> String {
    spec.split(',')
        .map(|p| p.trim().replace(' ', ""))
        .collect::<Vec<_>>()
        .join(",")
}
