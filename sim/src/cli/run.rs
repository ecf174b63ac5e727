//! `failover-sim run`: one scenario, one seed; files, a summary, the reproduce line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{error, output::check_out_dir};
use crate::run::{history_jsonl, run, trace_jsonl, RunResult};
use judge::report::{ReportInput, World};
use scenario::error::printable;
use scenario::Status;

/// `--world`: which world runs the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WorldArg {
    Sim,
    Real,
}

impl WorldArg {
    pub fn world(self) -> World {
        match self {
            WorldArg::Sim => World::Sim,
            WorldArg::Real => World::Real,
        }
    }
}

/// Runs `scenario` at `seed` in `world`; the real world's errors (not root, a binary
/// missing, a fault it cannot make, Ctrl-C) are returned as they are.
pub fn run_in(
    scenario: &scenario::Scenario,
    seed: u64,
    world: WorldArg,
) -> Result<RunResult, crate::real::RealError> {
    match world {
        WorldArg::Sim => Ok(run(scenario, seed)),
        WorldArg::Real => crate::real::run(scenario, seed),
    }
}

pub fn run_scenario(
    path: &Path,
    seed: Option<u64>,
    out: Option<PathBuf>,
    json: bool,
    check_determinism: bool,
    world: WorldArg,
) -> ExitCode {
    let scenario = match scenario::load(path) {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    let seed = seed.unwrap_or(scenario.seed);
    if check_determinism && world == WorldArg::Real {
        return error("--check-determinism is for the lab: the real world is not deterministic");
    }
    if check_determinism {
        return crate::sweep::determinism::check_and_print(&scenario, path, seed, json);
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    let out =
        out.unwrap_or_else(|| PathBuf::from(format!("target/failover-sim/{stem}-seed-{seed}")));
    if let Err(e) = check_out_dir("--out", &out) {
        return error(e);
    }
    let reproduce = crate::reproduce::run_command(path.as_os_str(), Some(seed));
    let result = match run_in(&scenario, seed, world) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let report = ReportInput {
        scenario: &stem,
        description: &scenario.description,
        status: &scenario.status,
        seed,
        world: world.world(),
        analysis: &result.analysis,
        faults: &result.summary.faults,
        expectations: &result.expectations,
    };
    let written = std::fs::create_dir_all(&out).and_then(|_| {
        std::fs::write(out.join("history.jsonl"), history_jsonl(&result.history))?;
        std::fs::write(out.join("trace.jsonl"), trace_jsonl(&result.trace))?;
        std::fs::write(
            out.join("summary.json"),
            serde_json::to_string_pretty(&result.summary).expect("summary serializes") + "\n",
        )?;
        judge::report::write_all(&out, &report)
    });
    if let Err(e) = written {
        eprintln!(
            "error: cannot write the run's files to {}: {e}",
            printable(&out.display().to_string())
        );
        return ExitCode::FAILURE;
    }
    let failures = result.failures();
    if json {
        let mut v: serde_json::Value =
            serde_json::from_str(&judge::report::json::json(&report)).expect("the report is JSON");
        v["reproduce"] = reproduce.clone().into();
        v["out"] = out.display().to_string().into();
        v["failures"] = failures.clone().into();
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        print_run(&scenario, path, &result, &out, &reproduce, world);
    }
    for f in &failures {
        eprintln!("error: {}", printable(f));
    }
    // The exit code stays the run's own (an unmet expectation fails, whatever the status);
    // the note is for the person reading, who should not mistake a known weakness for news
    // or miss that one has stopped failing.
    if let Status::KnownWeakness { reason } = &scenario.status {
        if !result.passed() {
            eprintln!("note: {} is a known weakness: {reason}", path.display());
        } else if seed == scenario.seed {
            eprintln!(
                "note: {} is marked known-weakness ({reason}) but passed at its pinned seed; \
                 if the weakness is fixed, mark it status = \"must-pass\"",
                path.display()
            );
        }
    }
    if result.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn secs(ms: u64) -> String {
    format!("{:.3} s", ms as f64 / 1000.0)
}

fn print_run(
    scenario: &scenario::Scenario,
    path: &Path,
    result: &RunResult,
    out: &Path,
    reproduce: &str,
    world: WorldArg,
) {
    let s = &result.summary;
    let a = &result.analysis;
    println!("scenario  {}", printable(&path.display().to_string()));
    if !scenario.description.is_empty() {
        println!("          {}", printable(&scenario.description));
    }
    match &scenario.status {
        Status::MustPass => println!("status    must-pass"),
        Status::KnownWeakness { reason } => {
            println!("status    known-weakness: {}", printable(reason))
        }
    }
    println!("seed      {}", s.seed);
    match world {
        WorldArg::Sim => println!("simulated {}", secs(s.duration_ms)),
        WorldArg::Real => println!("real      {} of wall-clock time", secs(s.duration_ms)),
    }
    let r = &a.requests.total;
    println!(
        "requests  {} invoked: {} ok, {} failed, {} unknown, {} incomplete; {} waited over {} ms",
        r.invoked,
        r.ok,
        r.failed,
        r.unknown,
        r.incomplete,
        r.waited,
        a.requests.waited_threshold_ms
    );
    println!(
        "data      {} acknowledged writes lost ({} unverified), {} failed writes appeared, {} stale reads of {} checked",
        a.lost_writes.total, a.lost_writes.unverified, a.appeared_although_failed.total, a.stale_reads.total, a.stale_reads.checked
    );
    println!(
        "outage    longest unavailability {}, total {}; split brain {}",
        secs(a.unavailability.longest_ms),
        secs(a.unavailability.total_ms),
        secs(a.split_brain.total_ms)
    );
    for f in &a.faults {
        let at = |ms: Option<u64>| ms.map(secs).unwrap_or_else(|| "-".into());
        println!(
            "fault {}   {} took effect at {}: detected after {}, first write after {}, redundant after {}",
            f.index,
            f.kind,
            at(f.took_effect_ms),
            at(f.detection_ms),
            at(f.first_ok_write_ms),
            at(f.redundancy_ms)
        );
    }
    match (s.redundancy.ok, s.redundant_at_ms) {
        (true, Some(t)) => println!(
            "redundant at {} and since (one master and one synced replica per port behind every proxy; the app served by both proxies)",
            secs(t)
        ),
        _ => println!("NOT fully redundant at the end: {}", s.redundancy.problems.join("; ")),
    }
    for e in &result.expectations {
        println!(
            "expect    {} {}",
            if e.passed { "ok  " } else { "FAIL" },
            e.message
        );
    }
    println!(
        "wrote     {}/{{history.jsonl,trace.jsonl,summary.json,report.json,report.md,timeline.svg,report.html}}",
        printable(&out.display().to_string())
    );
    println!("reproduce {reproduce}");
}
