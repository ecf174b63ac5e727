//! `failover-sim`: the lab's command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sim::fidelity::{probes, real_lab, sim_lab};
use sim::report::ReportInput;
use sim::run::{history_jsonl, run, trace_jsonl};
use sim::scenario;

#[derive(Parser)]
#[command(
    name = "failover-sim",
    version,
    about = "A deterministic lab for redis + haproxy failover"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate reports/: every scenario in scenarios/ at its pinned seed, and the index.
    Reports {
        /// Compare instead of writing; exit non-zero when a report is stale.
        #[arg(long)]
        check: bool,
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
    },
    /// Measure the lab: wall time per simulated minute of the seed lab at 100 requests/s,
    /// against a bare turmoil model of the same hosts and traffic, in the same run.
    Bench {
        /// Simulated minutes per sample.
        #[arg(long, default_value_t = 2.0)]
        minutes: f64,
        /// Samples of each (the median is reported).
        #[arg(long, default_value_t = 5)]
        repeats: u32,
        #[arg(long)]
        json: bool,
    },
    /// Run a scenario in the lab: writes the history and the trace, prints a summary, the
    /// seed, and the command that reproduces the run.
    Run {
        /// The scenario file (TOML), e.g. scenarios/master-machine-crash.toml.
        scenario: PathBuf,
        /// The seed (default: the one pinned in the scenario file).
        #[arg(long)]
        seed: Option<u64>,
        /// Where to write history.jsonl, trace.jsonl and summary.json
        /// (default: target/failover-sim/<scenario>-seed-<seed>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the summary as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run behaviour probes against the models (and, with --real, against real
    /// redis-server and haproxy on loopback) and print what each saw.
    Probes {
        /// Probe names (all when none is given).
        names: Vec<String>,
        /// Also run each probe against the real binaries and compare.
        #[arg(long)]
        real: bool,
        /// The seed of the simulated side.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Reports {
            check,
            scenarios,
            reports,
        } => match sim::reports::regenerate(&scenarios, &reports, check, |p| eprintln!("{p}")) {
            Ok(stale) if stale.is_empty() => {
                println!("{}: every report is current", reports.display());
                ExitCode::SUCCESS
            }
            Ok(stale) if check => {
                println!("stale reports (run `failover-sim reports` to regenerate):");
                for s in stale {
                    println!("  {s}");
                }
                ExitCode::FAILURE
            }
            Ok(stale) => {
                println!("wrote {} files under {}", stale.len(), reports.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
        Command::Bench {
            minutes,
            repeats,
            json,
        } => {
            let r = sim::bench::lab_vs_baseline(minutes, repeats, |p| eprintln!("{p}"));
            if json {
                println!("{}", serde_json::to_string_pretty(&r).expect("json"));
            } else {
                println!(
                    "baseline (bare turmoil, same hosts and traffic): {:.3} s per simulated minute",
                    r.baseline_s_per_min
                );
                println!(
                    "lab (the seed lab, 100 requests/s):              {:.3} s per simulated minute",
                    r.lab_s_per_min
                );
                println!("ratio lab / baseline: {:.2} (target at most 1.25)", r.ratio);
            }
            ExitCode::SUCCESS
        }
        Command::Run {
            scenario,
            seed,
            out,
            json,
        } => run_scenario(&scenario, seed, out, json),
        Command::Probes {
            names,
            real,
            seed,
            json,
        } => run_probes(&names, real, seed, json),
    }
}

fn run_probes(names: &[String], real: bool, seed: u64, json: bool) -> ExitCode {
    let all = probes::all();
    for n in names {
        if !all.iter().any(|p| p.name == n) {
            let known: Vec<&str> = all.iter().map(|p| p.name).collect();
            eprintln!(
                "error: no probe named {n:?}; known probes: {}",
                known.join(", ")
            );
            return ExitCode::from(2);
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut failed = false;
    let mut results = Vec::new();
    for probe in all
        .iter()
        .filter(|p| names.is_empty() || names.iter().any(|n| n == p.name))
    {
        let model = sim_lab::run(probe, seed);
        let mut verdict = serde_json::json!({ "probe": probe.name, "model": model.render() });
        if real {
            match rt.block_on(real_lab::run(probe)) {
                Ok(real) => {
                    let cmp = model.compare(&real, std::time::Duration::from_millis(1500));
                    failed |= cmp.is_err();
                    verdict["real"] = real.render().into();
                    verdict["agree"] = cmp.is_ok().into();
                    verdict["differences"] = cmp.err().unwrap_or_default().into();
                }
                Err(e) => {
                    failed = true;
                    verdict["error"] = e.into();
                }
            }
        }
        if !json {
            println!(
                "=== {} (model, seed {seed})\n{}",
                probe.name,
                model.render()
            );
            if let Some(r) = verdict.get("real").and_then(|r| r.as_str()) {
                println!("=== {} (real)\n{r}", probe.name);
                match verdict["agree"].as_bool() {
                    Some(true) => println!("=== {}: model and real agree\n", probe.name),
                    _ => println!(
                        "=== {}: DIFFERENT\n{}",
                        probe.name,
                        verdict["differences"].as_str().unwrap_or_default()
                    ),
                }
            }
            if let Some(e) = verdict.get("error") {
                println!("=== {}: could not run the real side: {e}", probe.name);
            }
        }
        results.push(verdict);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&results).expect("json"));
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn run_scenario(path: &Path, seed: Option<u64>, out: Option<PathBuf>, json: bool) -> ExitCode {
    let scenario = match scenario::load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let seed = seed.unwrap_or(scenario.seed);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    let out =
        out.unwrap_or_else(|| PathBuf::from(format!("target/failover-sim/{stem}-seed-{seed}")));
    let reproduce = format!("failover-sim run {} --seed {seed}", path.display());
    let result = run(&scenario, seed);
    let report = ReportInput {
        scenario: &stem,
        description: &scenario.description,
        seed,
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
        sim::report::write_all(&out, &report)
    });
    if let Err(e) = written {
        eprintln!(
            "error: cannot write the run's files to {}: {e}",
            out.display()
        );
        return ExitCode::FAILURE;
    }
    let failures = result.failures();
    if json {
        let mut v: serde_json::Value =
            serde_json::from_str(&sim::report::json::json(&report)).expect("the report is JSON");
        v["reproduce"] = reproduce.clone().into();
        v["out"] = out.display().to_string().into();
        v["failures"] = failures.clone().into();
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        print_run(&scenario.description, path, &result, &out, &reproduce);
    }
    for f in &failures {
        eprintln!("error: {f}");
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn secs(ms: u64) -> String {
    format!("{:.3} s", ms as f64 / 1000.0)
}

fn print_run(
    description: &str,
    path: &Path,
    result: &sim::run::RunResult,
    out: &Path,
    reproduce: &str,
) {
    let s = &result.summary;
    let a = &result.analysis;
    println!("scenario  {}", path.display());
    if !description.is_empty() {
        println!("          {description}");
    }
    println!("seed      {}", s.seed);
    println!("simulated {}", secs(s.duration_ms));
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
        out.display()
    );
    println!("reproduce {reproduce}");
}
