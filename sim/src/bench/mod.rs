//! `failover-sim bench`: what the lab costs, measured against a bare turmoil baseline in
//! the same run, and what more redis ports per machine cost, against the 2-port lab of the
//! same run. Wall-clock time is read here and only here: it measures the simulator, it
//! never feeds it.

pub mod baseline;

use std::time::{Duration, Instant};

use failover::layout::Topology;
use serde::Serialize;

use crate::run::run;
use scenario::Scenario;

/// Redis ports per machine the bench measures; the first is the seed's, which the others
/// are compared with.
pub const PORTS: [u16; 3] = [2, 4, 10];

#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    pub simulated_minutes: f64,
    pub repeats: u32,
    /// Median wall seconds per simulated minute.
    pub baseline_s_per_min: f64,
    /// The seed lab (2 ports per machine).
    pub lab_s_per_min: f64,
    /// lab / baseline.
    pub ratio: f64,
    pub baseline_samples: Vec<f64>,
    pub lab_samples: Vec<f64>,
    /// The lab at each of [`PORTS`], the first being the seed lab above.
    pub per_ports: Vec<PortsCost>,
}

/// The lab's cost with `redis_ports` redis servers per redis machine.
#[derive(Debug, Clone, Serialize)]
pub struct PortsCost {
    pub redis_ports: u16,
    /// Clients of the workload: one per port, and never fewer than the seed's 4, at the
    /// same 100 requests/s in all; so every port carries traffic and replicates.
    pub clients: u32,
    /// Median wall seconds per simulated minute.
    pub s_per_min: f64,
    /// This lab / the 2-port lab of the same run.
    pub ratio_to_2_ports: f64,
    pub samples: Vec<f64>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The benchmark's lab: no faults, 100 requests/s from the start, `redis_ports` per
/// machine with one client per port (at least 4).
pub fn scenario(minutes: f64, redis_ports: u16) -> Scenario {
    let duration = Duration::from_secs_f64(minutes * 60.0).as_millis();
    let clients = u32::from(redis_ports).max(4);
    let text = format!(
        "description = \"benchmark: the lab with {redis_ports} redis ports per machine, no faults, \
         100 requests/s\"\nstatus = \"must-pass\"\nduration = \"{duration}ms\"\nseed = 1\n[topology]\nredis_ports = \
         {redis_ports}\n[workload]\nclients = {clients}\nstart = \"0s\"\nstop = \"{duration}ms\"\n"
    );
    scenario::parse(&text, "bench").expect("the bench scenario is valid")
}

/// The baseline and the lab at each of [`PORTS`] without faults at 100 requests/s,
/// alternated `repeats` times so that a change in the machine's load hits all alike.
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
    let scenarios: Vec<Scenario> = PORTS.iter().map(|n| scenario(minutes, *n)).collect();
    let mut base = Vec::new();
    let mut labs: Vec<Vec<f64>> = vec![Vec::new(); PORTS.len()];
    for i in 0..repeats {
        progress(&format!("repeat {}/{repeats}: baseline", i + 1));
        let t = Instant::now();
        baseline::run(
            &Topology::seed(),
            duration,
            Duration::from_millis(1),
            Duration::from_millis(1),
            1,
        );
        base.push(t.elapsed().as_secs_f64() / minutes);
        for (s, samples) in scenarios.iter().zip(&mut labs) {
            progress(&format!(
                "repeat {}/{repeats}: lab, {} redis ports per machine",
                i + 1,
                s.topology.redis_ports
            ));
            let t = Instant::now();
            let r = run(s, 1);
            samples.push(t.elapsed().as_secs_f64() / minutes);
            assert!(r.analysis.requests.total.ok > 0, "the lab's workload ran");
        }
    }
    let b = median(&mut base.clone());
    let medians: Vec<f64> = labs.iter().map(|l| median(&mut l.clone())).collect();
    let per_ports = scenarios
        .iter()
        .zip(&labs)
        .zip(&medians)
        .map(|((s, samples), m)| PortsCost {
            redis_ports: s.topology.redis_ports,
            clients: s.workload.clients,
            s_per_min: *m,
            ratio_to_2_ports: m / medians[0],
            samples: samples.clone(),
        })
        .collect();
    Ok(BenchResult {
        simulated_minutes: minutes,
        repeats,
        baseline_s_per_min: b,
        lab_s_per_min: medians[0],
        ratio: medians[0] / b,
        baseline_samples: base,
        lab_samples: labs[0].clone(),
        per_ports,
    })
}
