//! `failover-sim bench`: what the lab costs, measured against a bare turmoil baseline in
//! the same run. Wall-clock time is read here and only here: it measures the simulator, it
//! never feeds it.

pub mod baseline;

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::run::run;
use scenario::Scenario;

#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub simulated_minutes: f64,
    pub repeats: u32,
    /// Median wall seconds per simulated minute.
    pub baseline_s_per_min: f64,
    pub lab_s_per_min: f64,
    /// lab / baseline.
    pub ratio: f64,
    pub baseline_samples: Vec<f64>,
    pub lab_samples: Vec<f64>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The lab without faults at 100 requests/s, and the baseline, alternated `repeats` times.
/// `minutes` and `repeats` must be within [`crate::cli::bounds::BENCH_MINUTES`] and
/// [`crate::cli::bounds::BENCH_REPEATS`] (a median needs a sample; a duration must be a
/// finite, positive number).
pub fn lab_vs_baseline(
    minutes: f64,
    repeats: u32,
    mut progress: impl FnMut(&str),
) -> Result<BenchResult, String> {
    use crate::cli::bounds::{check_real, check_whole, BENCH_MINUTES, BENCH_REPEATS};
    check_real(minutes, BENCH_MINUTES, "simulated minutes")
        .map_err(|e| format!("--minutes: {e}"))?;
    check_whole(u64::from(repeats), BENCH_REPEATS).map_err(|e| format!("--repeats: {e}"))?;
    let duration = Duration::from_secs_f64(minutes * 60.0);
    let text = format!(
        "description = \"benchmark: the seed lab, no faults, 100 requests/s\"\nduration = \"{}ms\"\nseed = 1\n[workload]\nstart = \"0s\"\nstop = \"{}ms\"\n",
        duration.as_millis(),
        duration.as_millis()
    );
    let scenario: Scenario = scenario::parse(&text, "bench").expect("the bench scenario is valid");
    let (mut base, mut lab) = (Vec::new(), Vec::new());
    for i in 0..repeats {
        progress(&format!("repeat {}/{repeats}: baseline", i + 1));
        let t = Instant::now();
        baseline::run(
            duration,
            Duration::from_millis(1),
            Duration::from_millis(1),
            1,
        );
        base.push(t.elapsed().as_secs_f64() / minutes);
        progress(&format!("repeat {}/{repeats}: lab", i + 1));
        let t = Instant::now();
        let r = run(&scenario, 1);
        lab.push(t.elapsed().as_secs_f64() / minutes);
        assert!(r.analysis.requests.total.ok > 0, "the lab's workload ran");
    }
    let (b, l) = (median(&mut base.clone()), median(&mut lab.clone()));
    Ok(BenchResult {
        simulated_minutes: minutes,
        repeats,
        baseline_s_per_min: b,
        lab_s_per_min: l,
        ratio: l / b,
        baseline_samples: base,
        lab_samples: lab,
    })
}
