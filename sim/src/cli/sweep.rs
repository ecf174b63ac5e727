//! `failover-sim sweep` (many seeds in parallel, a summary, sweep.json and junit.xml),
//! its hidden per-seed child `sweep-seed`, and `bench-sweep`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::{error, output::check_out_dir};
use crate::sweep::{self, progress::Progress, Options, Shard, Stop};

pub struct SweepArgs {
    pub scenarios: Vec<PathBuf>,
    pub seeds: String,
    pub jobs: Option<usize>,
    pub shard: Option<String>,
    pub out: PathBuf,
    pub timeout_s: f64,
    pub json: bool,
}

/// Exit codes: 0 every seed passed, 1 some seed failed, 2 bad input, 128 + the signal
/// (130 for Ctrl-C, 143 for SIGTERM) when stopped early, after writing the seeds that
/// finished.
pub fn run_sweep(a: SweepArgs) -> ExitCode {
    let opts = match options(&a) {
        Ok(o) => o,
        Err(e) => return error(e),
    };
    let total = match sweep::tasks(&opts) {
        Ok(t) => t.len() as u64,
        Err(e) => return error(e),
    };
    let started = Instant::now();
    let mut progress = Progress::new(total);
    let result = sweep::sweep(&opts, |o| progress.done(o));
    progress.finish();
    let file = match result {
        Ok(f) => f,
        Err(e) => return error(e),
    };
    eprintln!(
        "{} runs on {} jobs in {:.1} s",
        file.totals.runs,
        opts.jobs,
        started.elapsed().as_secs_f64()
    );
    let code = finish(&file, &a.out, a.json);
    match opts.stop.requested() {
        Some(signal) => {
            eprintln!(
                "stopped by {}: {} runs finished and are written, {} did not run",
                sweep::stop::signal_name(signal),
                file.totals.runs,
                file.missing.len()
            );
            ExitCode::from((128 + signal.clamp(1, 127)) as u8)
        }
        None => code,
    }
}

/// Writes the files, prints the summary; shared with `merge`.
pub fn finish(file: &sweep::SweepFile, out: &Path, json: bool) -> ExitCode {
    if let Err(e) = file.write(out) {
        return error(e);
    }
    if json {
        print!("{}", file.to_json());
    } else {
        print!("{}", sweep::text::summary(file));
        println!(
            "\nwrote {} and {}",
            out.join("sweep.json").display(),
            out.join("junit.xml").display()
        );
    }
    if file.totals.failed > 0 || !file.missing.is_empty() || file.incomplete {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The sweep `a` asks for, checked; shared with `policies`, which sweeps its variant files.
pub(super) fn options(a: &SweepArgs) -> Result<Options, String> {
    let shard = a.shard.as_deref().map(Shard::parse).transpose()?;
    let jobs = match a.jobs {
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    sweep::seeds::parse(&a.seeds).map_err(|e| e.to_string())?;
    let mut scenarios = Vec::new();
    for p in &a.scenarios {
        // sweep.json, junit.xml and the children's arguments carry paths as UTF-8 text; a
        // lossy copy would name another file (or none) in every one of them.
        let Some(text) = p.to_str() else {
            return Err(format!(
                "scenario path {} is not valid UTF-8; a sweep records scenario paths as \
                 UTF-8 text, so rename the file (`failover-sim run` takes any path)",
                crate::reproduce::quote(p.as_os_str())
            ));
        };
        scenarios.push(text.to_string());
    }
    check_out_dir("--out", &a.out)?;
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to run seeds in: {e}"))?;
    let stop = Stop::on_signals().map_err(|e| format!("cannot handle Ctrl-C and SIGTERM: {e}"))?;
    Ok(Options {
        scenarios,
        seeds: a.seeds.clone(),
        shard,
        jobs,
        timeout: Duration::from_secs_f64(a.timeout_s),
        exe,
        stop,
    })
}

/// The hidden child of a sweep: one seed, one JSON line.
pub fn sweep_seed(scenario: &Path, seed: u64, exit_with_parent: bool) -> ExitCode {
    sweep::child::serve(scenario, seed, exit_with_parent)
}

pub fn bench_sweep(scenario: &Path, seeds: u64, long_seeds: u64, json: bool) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return error(format!("cannot find this program to run seeds in: {e}")),
    };
    let Some(scenario) = scenario.to_str() else {
        return error(format!(
            "--scenario {}: not valid UTF-8",
            crate::reproduce::quote(scenario.as_os_str())
        ));
    };
    let r = match sweep::bench::bench(exe, scenario, seeds, long_seeds, |p| eprintln!("{p}")) {
        Ok(r) => r,
        Err(e) => return error(e),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&r).expect("json"));
        return ExitCode::SUCCESS;
    }
    let mb = |kb: u64| format!("{:.1} MB", kb as f64 / 1024.0);
    println!("scenario {}", r.scenario);
    println!(
        "1 job:   {:.1} seeds/min ({} seeds)",
        r.seeds_per_min_1_job, r.seeds
    );
    println!(
        "2 jobs:  {:.1} seeds/min ({} seeds)",
        r.seeds_per_min_2_jobs, r.seeds
    );
    println!("speedup: {:.2}x", r.speedup);
    let m = &r.memory;
    for (name, s) in [("early", m.early), ("last", m.last)] {
        println!(
            "memory at seed {:>5} ({name}): sweep {}, children peaks {}, total {} (live children {})",
            s.seed,
            mb(s.sweep_rss_kb),
            mb(s.child_peaks_kb),
            mb(s.total_kb),
            mb(s.live_children_rss_kb)
        );
    }
    println!(
        "memory over {} seeds: peak {}, {} 10% of the early sample",
        m.seeds,
        mb(m.peak_total_kb),
        if m.within_10_percent {
            "within"
        } else {
            "NOT within"
        }
    );
    ExitCode::SUCCESS
}
