//! `failover-sim`: the lab's command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sim::fidelity::{probes, real_lab, sim_lab};
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
    let written = std::fs::create_dir_all(&out).and_then(|_| {
        std::fs::write(out.join("history.jsonl"), history_jsonl(&result.history))?;
        std::fs::write(out.join("trace.jsonl"), trace_jsonl(&result.trace))?;
        std::fs::write(
            out.join("summary.json"),
            serde_json::to_string_pretty(&result.summary).expect("summary serializes") + "\n",
        )
    });
    if let Err(e) = written {
        eprintln!(
            "error: cannot write the run's files to {}: {e}",
            out.display()
        );
        return ExitCode::FAILURE;
    }
    let s = &result.summary;
    if json {
        let mut v = serde_json::to_value(s).expect("summary serializes");
        v["scenario"] = path.display().to_string().into();
        v["reproduce"] = reproduce.clone().into();
        v["out"] = out.display().to_string().into();
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        println!("scenario  {}", path.display());
        if !scenario.description.is_empty() {
            println!("          {}", scenario.description);
        }
        println!("seed      {seed}");
        println!("simulated {:.1} s", s.duration_ms as f64 / 1000.0);
        let o = &s.operations;
        println!(
            "requests  {} invoked: {} ok, {} failed, {} unknown, {} incomplete",
            o.invoked, o.ok, o.fail, o.unknown, o.incomplete
        );
        for f in &s.faults {
            let effect = match f.took_effect_ms {
                Some(t) => format!("took effect at {:.3} s", t as f64 / 1000.0),
                None => "NEVER took effect".to_string(),
            };
            let healed = f
                .healed_ms
                .map(|t| format!(", healed at {:.3} s", t as f64 / 1000.0))
                .unwrap_or_default();
            println!(
                "fault {}   {} at {:.3} s: {effect}{healed}",
                f.index,
                f.kind,
                f.at_ms as f64 / 1000.0
            );
        }
        match (s.redundancy.ok, s.redundant_at_ms) {
            (true, Some(t)) => println!(
                "redundant at {:.3} s and since (one master and one synced replica per port behind every proxy; the app served)",
                t as f64 / 1000.0
            ),
            _ => println!(
                "NOT fully redundant at the end: {}",
                s.redundancy.problems.join("; ")
            ),
        }
        println!(
            "wrote     {}/{{history.jsonl,trace.jsonl,summary.json}}",
            out.display()
        );
        println!("reproduce {reproduce}");
    }
    for p in &s.fault_problems {
        eprintln!("error: {p}");
    }
    if s.fault_problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
