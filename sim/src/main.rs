//! `failover-sim`: the lab's command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sim::cli::{self, bounds};

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
        /// The directory of scenario files (*.toml).
        #[arg(long, default_value = "scenarios")]
        scenarios: PathBuf,
        /// Where the reports go: a directory, or a path that can be created.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
    },
    /// Measure the lab: wall time per simulated minute of the seed lab at 100 requests/s,
    /// against a bare turmoil model of the same hosts and traffic, and of the lab at 2, 4
    /// and 10 redis ports per machine against the 2-port lab, in the same run.
    Bench {
        /// Simulated minutes per sample, 0.1 to 60.
        #[arg(long, default_value_t = 2.0, value_parser = bounds::bench_minutes)]
        minutes: f64,
        /// Samples of each (the median is reported), 1 to 100.
        #[arg(long, default_value_t = 5, value_parser = bounds::bench_repeats)]
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
        /// Where to write history.jsonl, trace.jsonl, summary.json and the reports: a
        /// directory, or a path that can be created
        /// (default: target/failover-sim/<scenario>-seed-<seed>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the summary as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Run the seed twice in this process and compare the history and trace; report
        /// the first event where they diverge and exit non-zero if they do (no files).
        #[arg(long)]
        check_determinism: bool,
        /// Which world runs it: `sim` (the turmoil lab) or `real` (real redis-server,
        /// haproxy and nftables on loopback addresses; needs root; takes wall-clock time;
        /// latency faults are refused).
        #[arg(long, value_enum, default_value_t = cli::run::WorldArg::Sim)]
        world: cli::run::WorldArg,
    },
    /// Run a scenario in both worlds (the lab, then real processes on loopback; needs
    /// root) and write a side-by-side report, compare.md and compare.json; exits 1 when a
    /// measure is outside the tolerance (counts max(10 %, 2), times max(15 %, 1.5 s)).
    Compare {
        /// Scenario files; with more than one, each goes to `<out>/<scenario>/` and an
        /// index table to `<out>/README.md`.
        #[arg(required = true, num_args = 1..=1000)]
        scenarios: Vec<PathBuf>,
        #[arg(long)]
        seed: Option<u64>,
        /// Default: target/failover-sim/compare/<scenario> for one scenario, else
        /// target/failover-sim/compare.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run nothing: rebuild each scenario's compare.md and the index from the
        /// compare.json saved under --out (after rerunning one scenario, say).
        #[arg(long)]
        from_saved: bool,
    },
    /// Run scenarios over many seeds in parallel (each seed in a child process); print
    /// per-scenario statistics and the failing seeds; write sweep.json and junit.xml.
    /// Exits 1 if any seed failed. Ctrl-C or SIGTERM stops it: running seeds are killed,
    /// the seeds that finished are written, marked incomplete, and it exits 128 + the
    /// signal (130, 143).
    Sweep {
        /// Scenario files (TOML).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Seeds: A..=B, A..B, N, or a comma list of these, e.g. 1..=1000; at most 100000
        /// seeds, and at most 100000 runs (scenarios times seeds).
        #[arg(long)]
        seeds: String,
        /// Parallel workers, 1 to 256 (default: the available cores).
        #[arg(long, value_parser = bounds::jobs)]
        jobs: Option<usize>,
        /// Run only share K of N (1 <= K <= N): seed index i goes to shard (i mod N) + 1.
        #[arg(long)]
        shard: Option<String>,
        /// Where to write sweep.json and junit.xml: a directory, or a path that can be
        /// created.
        #[arg(long, default_value = "target/failover-sim/sweep")]
        out: PathBuf,
        /// Wall-clock seconds a seed may take before it is killed and counted as failed,
        /// 0.001 to 86400 (24 h).
        #[arg(long, default_value_t = 600.0, value_parser = bounds::timeout)]
        timeout: f64,
        /// Print sweep.json instead of the text summary.
        #[arg(long)]
        json: bool,
    },
    /// Join shards' sweep.json files into one (statistics recomputed, overlaps rejected,
    /// missing seeds listed); writes sweep.json and junit.xml.
    Merge {
        /// sweep.json files, each at most 256 MiB, declaring at most 100000 seeds and
        /// holding at most 100000 runs in all.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Where to write sweep.json and junit.xml: a directory, or a path that can be
        /// created.
        #[arg(long, default_value = "target/failover-sim/sweep")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Measure sweeps: seeds per minute with 1 and 2 jobs, the speedup, and memory at the
    /// 200th (or middle) and the last seed of a longer sweep.
    BenchSweep {
        /// Seeds of the throughput part (run once with 1 job, once with 2), 1 to 10000.
        #[arg(long, default_value_t = 8, value_parser = bounds::bench_seeds)]
        seeds: u64,
        /// Seeds of the memory part (e.g. 2000), 2 to 100000.
        #[arg(long, default_value_t = 40, value_parser = bounds::bench_long_seeds)]
        long_seeds: u64,
        #[arg(long, default_value = "scenarios/master-machine-crash.toml")]
        scenario: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// One seed of a sweep, run by the sweep in a child process; prints one JSON line.
    #[command(hide = true)]
    SweepSeed {
        scenario: PathBuf,
        #[arg(long)]
        seed: u64,
        /// End when standard input closes (the sweep that started this child is gone).
        #[arg(long)]
        exit_with_parent: bool,
    },
    /// Swarm exploration: each seed draws its own fault mix, settings and schedule and runs
    /// it; a run that fails an expectation is shrunk to a minimal scenario, written under
    /// --out, and run again from the file. Default expectations (no --base, no --expect):
    /// redundancy_within = 2m and max_lost_writes = 0.
    Explore {
        /// Seeds to explore: A..=B, A..B or N; at most 100000 seeds.
        #[arg(long, default_value = "1..=20")]
        seeds: String,
        /// A scenario whose duration, settings and [expect] drawn scenarios use (its
        /// faults are ignored).
        #[arg(long)]
        base: Option<PathBuf>,
        /// Simulated length of each run, at most 1h (default 3m, or the base's).
        #[arg(long)]
        duration: Option<String>,
        /// Expectations instead of the base's or the default, e.g. max_failed_requests=0
        /// (repeatable).
        #[arg(long)]
        expect: Vec<String>,
        /// Where found scenarios are written: a directory, or a path that can be created.
        #[arg(long, default_value = "scenarios/found")]
        out: PathBuf,
        /// At most this many faults per drawn schedule, 1 to 100.
        #[arg(long, default_value_t = 4, value_parser = bounds::max_faults)]
        max_faults: usize,
        /// Lab runs the shrinker may spend per finding, 0 to 10000.
        #[arg(long, default_value_t = 30, value_parser = bounds::shrink_budget)]
        shrink_budget: usize,
        /// Seeds run at once, 1 to 256 (default: the number of cores); the output does not
        /// depend on it.
        #[arg(long, value_parser = bounds::jobs)]
        jobs: Option<usize>,
        /// Print the summary as JSON (progress goes to stderr).
        #[arg(long)]
        json: bool,
    },
    /// Every scenario under the seed's design (Debian's 120 s monit cycle, and a tuned 10 s
    /// one) and under the safe policy, swept over seeds in child processes: writes
    /// policies.md (pinned seed, median and max of each measure, side by side) and
    /// policies.json. Long: 3 runs per scenario and seed, seed-design runs lengthened so
    /// their cycle can detect anything.
    Policies {
        /// Scenario files (default: every *.toml in scenarios/).
        scenarios: Vec<PathBuf>,
        /// Seeds the medians and maxima cover: A..=B, A..B, N or a comma list; the pinned
        /// seeds are run as well.
        #[arg(long, default_value = "1..=50")]
        seeds: String,
        /// Parallel workers, 1 to 256 (default: the available cores).
        #[arg(long, value_parser = bounds::jobs)]
        jobs: Option<usize>,
        /// Where policies.md and policies.json go (policies-notes.md there is appended).
        #[arg(long, default_value = "reports")]
        out: PathBuf,
        /// Where the variant scenario files and the sweep's sweep.json go.
        #[arg(long, default_value = "target/failover-sim/policies")]
        work: PathBuf,
        /// Wall-clock seconds a run may take before it is killed, 0.001 to 86400.
        #[arg(long, default_value_t = 600.0, value_parser = bounds::timeout)]
        timeout: f64,
        /// Print policies.json instead of the table.
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
        } => {
            if !check {
                if let Err(e) = cli::output::check_out_dir("--reports", &reports) {
                    return cli::error(e);
                }
            }
            reports_command(&scenarios, &reports, check)
        }
        Command::Bench {
            minutes,
            repeats,
            json,
        } => {
            let r = match sim::bench::lab_vs_baseline(minutes, repeats, |p| eprintln!("{p}")) {
                Ok(r) => r,
                Err(e) => return cli::error(e),
            };
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
                for c in &r.per_ports {
                    println!(
                        "lab, {:>2} redis ports per machine ({:>2} clients): {:.3} s per simulated minute, {:.2} x the 2-port lab",
                        c.redis_ports, c.clients, c.s_per_min, c.ratio_to_2_ports
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Command::Run {
            scenario,
            seed,
            out,
            json,
            check_determinism,
            world,
        } => cli::run::run_scenario(&scenario, seed, out, json, check_determinism, world),
        Command::Compare {
            scenarios,
            seed,
            out,
            from_saved,
        } => cli::compare::run_compare(&scenarios, seed, out, from_saved),
        Command::Explore {
            seeds,
            base,
            duration,
            expect,
            out,
            max_faults,
            shrink_budget,
            jobs,
            json,
        } => cli::explore::run_explore(&cli::explore::Args {
            seeds,
            base,
            duration,
            expect,
            out,
            max_faults,
            shrink_budget,
            jobs,
            json,
        }),
        Command::Sweep {
            scenarios,
            seeds,
            jobs,
            shard,
            out,
            timeout,
            json,
        } => cli::sweep::run_sweep(cli::sweep::SweepArgs {
            scenarios,
            seeds,
            jobs,
            shard,
            out,
            timeout_s: timeout,
            json,
        }),
        Command::Merge { inputs, out, json } => cli::merge::run_merge(&inputs, &out, json),
        Command::BenchSweep {
            seeds,
            long_seeds,
            scenario,
            json,
        } => cli::sweep::bench_sweep(&scenario, seeds, long_seeds, json),
        Command::SweepSeed {
            scenario,
            seed,
            exit_with_parent,
        } => cli::sweep::sweep_seed(&scenario, seed, exit_with_parent),
        Command::Policies {
            scenarios,
            seeds,
            jobs,
            out,
            work,
            timeout,
            json,
        } => cli::policies::run_policies(&cli::policies::Args {
            scenarios,
            seeds,
            jobs,
            out,
            work,
            timeout_s: timeout,
            json,
        }),
        Command::Probes {
            names,
            real,
            seed,
            json,
        } => cli::probes::run_probes(&names, real, seed, json),
    }
}

fn reports_command(scenarios: &Path, reports: &Path, check: bool) -> ExitCode {
    match sim::reports::regenerate(scenarios, reports, check, |p| eprintln!("{p}")) {
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
        Err(e) => cli::error(e),
    }
}
