//! Seeds at scale: one or more scenarios over many seeds, in parallel, each seed in its
//! own child process. Layout:
//!
//! - [`seeds`]: the `--seeds` syntax (`1..=1000`, `1..10`, `7`, comma lists);
//! - [`shard`]: `--shard K/N`, the round-robin split of the seeds over CI machines;
//! - [`child`]: one seed in a child process (the hidden `sweep-seed`), with a timeout;
//! - [`pool`]: the worker threads; [`stop`]: Ctrl-C and SIGTERM, the children killed;
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
pub mod stop;
pub mod text;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use file::Missing;
pub use file::SweepFile;
pub use outcome::SeedOutcome;
pub use shard::Shard;
pub use stop::Stop;

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
    /// Set to stop early: running seeds are killed, the rest never start.
    pub stop: Stop,
}

/// The (scenario, seed) pairs this sweep (or shard) runs, scenario by scenario.
pub fn tasks(opts: &Options) -> Result<Vec<Task>, String> {
    let all = seeds::parse(&opts.seeds).map_err(|e| e.to_string())?;
    let mine = match opts.shard {
        Some(s) => s.select(&all),
        None => all,
    };
    let mut scenarios: Vec<String> = opts.scenarios.iter().map(|s| scenario_name(s)).collect();
    scenarios.sort();
    scenarios.dedup();
    let runs = (scenarios.len() as u64).saturating_mul(mine.len() as u64);
    if runs > seeds::MAX_RUNS {
        return Err(format!(
            "{} scenarios times {} seeds is {runs} runs, more than the {} one sweep may hold; \
             split it into several sweeps",
            scenarios.len(),
            mine.len(),
            seeds::MAX_RUNS
        ));
    }
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
        |t| child::run_seed(&opts.exe, &t.scenario, t.seed, opts.timeout, &opts.stop),
        on_done,
        &opts.stop,
    );
    let normalized = normalize(&opts.seeds);
    let stopped = opts.stop.requested().is_some() && results.len() < tasks.len();
    let missing = if stopped {
        let done: BTreeSet<(&str, u64)> = results
            .iter()
            .map(|r| (r.scenario.as_str(), r.seed))
            .collect();
        tasks
            .iter()
            .filter(|t| !done.contains(&(t.scenario.as_str(), t.seed)))
            .map(|t| Missing {
                scenario: t.scenario.clone(),
                seed: t.seed,
            })
            .collect()
    } else {
        Vec::new()
    };
    let scenarios = opts.scenarios.iter().map(|s| scenario_name(s)).collect();
    let mut file = SweepFile::new(
        normalized,
        opts.shard,
        scenarios,
        opts.timeout.as_secs_f64(),
        results,
        missing,
    );
    file.incomplete = stopped;
    Ok(file)
}

/// A scenario path as sweeps record it: `./a.toml`, `a.toml` and `.//a.toml` are one
/// scenario, so they are one name (`a.toml`). Only `.` components and repeated or
/// trailing separators go; `..` stays, since following it depends on symlinks, and
/// nothing becomes absolute, so shards checked out in different places still agree.
pub fn scenario_name(path: &str) -> String {
    use std::path::{Component, Path};
    let mut out = PathBuf::new();
    for c in Path::new(path).components() {
        if c != Component::CurDir {
            out.push(c.as_os_str());
        }
    }
    if out.as_os_str().is_empty() {
        return ".".into();
    }
    // The input was a `&str`, so every component is UTF-8.
    out.to_string_lossy().into_owned()
}

/// `--seeds` without the spaces people type, so shards of one sweep declare the same range.
fn normalize(spec: &str) -> String {
    spec.split(',')
        .map(|p| p.trim().replace(' ', ""))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::scenario_name;

    #[test]
    fn one_scenario_spelled_several_ways_is_one_name() {
        for spelled in ["a.toml", "./a.toml", ".//a.toml", "././a.toml"] {
            assert_eq!(scenario_name(spelled), "a.toml", "{spelled}");
        }
        assert_eq!(scenario_name("dir//sub/./a.toml"), "dir/sub/a.toml");
        assert_eq!(scenario_name("/abs/./a.toml"), "/abs/a.toml");
        assert_eq!(scenario_name("../a.toml"), "../a.toml");
        assert_eq!(scenario_name("dir/"), "dir");
        assert_eq!(scenario_name("./"), ".");
    }
}
