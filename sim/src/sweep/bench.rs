//! `failover-sim bench-sweep`: what a sweep costs. Seeds per minute of one scenario with 1
//! and with 2 jobs (the same seeds), the speedup, and whether memory stays flat over a long
//! sweep: the sweep process's resident memory plus its children's, sampled at two points.
//! Wall-clock time is read here only to measure, never to decide a run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{rss, Options, SeedOutcome, Stop};

#[derive(Debug, Clone, Serialize)]
pub struct BenchSweep {
    pub scenario: String,
    /// Seeds of the throughput part (the same for 1 and 2 jobs).
    pub seeds: u64,
    pub seeds_per_min_1_job: f64,
    pub seeds_per_min_2_jobs: f64,
    /// 2-job throughput over 1-job throughput.
    pub speedup: f64,
    pub memory: Memory,
}

#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    /// Seeds of the long sweep (2 jobs).
    pub seeds: u64,
    pub early: Sample,
    pub last: Sample,
    /// The largest total seen at any completion.
    pub peak_total_kb: u64,
    /// `last.total_kb` is at most 10% above `early.total_kb`.
    pub within_10_percent: bool,
}

/// Memory when the `seed`-th seed completed.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Sample {
    pub seed: u64,
    /// The sweep process itself.
    pub sweep_rss_kb: u64,
    /// Its children alive at that moment (a seed in flight, at whatever stage).
    pub live_children_rss_kb: u64,
    /// Each worker's last finished child at its peak (VmHWM), added up: unlike the live
    /// children, this does not depend on where in its run a child was sampled.
    pub child_peaks_kb: u64,
    /// `sweep_rss_kb + child_peaks_kb`: what the comparison uses.
    pub total_kb: u64,
}

/// The seed at which the early memory sample is taken (200, or half of a shorter sweep).
pub fn early_point(long_seeds: u64) -> u64 {
    200.min(long_seeds / 2).max(1)
}

pub fn bench(
    exe: PathBuf,
    scenario: &str,
    seeds: u64,
    long_seeds: u64,
    mut progress: impl FnMut(&str),
) -> Result<BenchSweep, String> {
    if seeds == 0 || long_seeds < 2 {
        return Err("--seeds must be at least 1 and --long-seeds at least 2".into());
    }
    let opts = |n: u64, jobs: usize| Options {
        scenarios: vec![scenario.to_string()],
        seeds: format!("1..={n}"),
        shard: None,
        jobs,
        timeout: Duration::from_secs(600),
        exe: exe.clone(),
        stop: Stop::default(),
    };
    let mut per_min = Vec::new();
    for jobs in [1, 2] {
        progress(&format!("{seeds} seeds with {jobs} job(s)"));
        let t = Instant::now();
        super::sweep(&opts(seeds, jobs), |_| {})?;
        per_min.push(seeds as f64 * 60.0 / t.elapsed().as_secs_f64());
    }
    progress(&format!("memory: {long_seeds} seeds with 2 jobs"));
    let early_at = early_point(long_seeds);
    let (mut done, mut early, mut last, mut peak) = (0u64, Sample::default(), Sample::default(), 0);
    // Each worker's most recent child peak; with 2 jobs the last two outcomes.
    let mut recent: Vec<u64> = Vec::new();
    super::sweep(&opts(long_seeds, 2), |o: &SeedOutcome| {
        done += 1;
        recent.push(o.peak_rss_kb.unwrap_or(0));
        if recent.len() > 2 {
            recent.remove(0);
        }
        let s = sample(done, recent.iter().sum());
        peak = peak.max(s.sweep_rss_kb + s.live_children_rss_kb.max(s.child_peaks_kb));
        if done == early_at {
            early = s;
        }
        if done == long_seeds {
            last = s;
        }
        if done % 100 == 0 {
            progress(&format!("memory: {done}/{long_seeds} seeds"));
        }
    })?;
    Ok(BenchSweep {
        scenario: scenario.to_string(),
        seeds,
        seeds_per_min_1_job: per_min[0],
        seeds_per_min_2_jobs: per_min[1],
        speedup: per_min[1] / per_min[0],
        memory: Memory {
            seeds: long_seeds,
            early,
            last,
            peak_total_kb: peak,
            within_10_percent: (last.total_kb as f64) <= early.total_kb as f64 * 1.10,
        },
    })
}

fn sample(seed: u64, child_peaks_kb: u64) -> Sample {
    let sweep_rss_kb = rss::self_rss_kb().unwrap_or(0);
    Sample {
        seed,
        sweep_rss_kb,
        live_children_rss_kb: rss::children_rss_kb(),
        child_peaks_kb,
        total_kb: sweep_rss_kb + child_peaks_kb,
    }
}
