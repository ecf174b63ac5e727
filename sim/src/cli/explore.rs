//! `failover-sim explore`: swarm exploration with shrinking over a range of seeds.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::explore::{self, options, ExploreOptions};

/// The command line's values, as given.
pub struct Args {
    pub seeds: String,
    pub base: Option<PathBuf>,
    pub duration: Option<String>,
    pub expect: Vec<String>,
    pub out: PathBuf,
    pub max_faults: usize,
    pub shrink_budget: usize,
    pub jobs: Option<usize>,
    pub json: bool,
}

/// The options `args` ask for, or the message saying what is wrong.
pub fn options(args: &Args) -> Result<ExploreOptions, String> {
    let seeds = options::parse_seeds(&args.seeds)?;
    let duration = args
        .duration
        .as_deref()
        .map(super::bounds::explore_duration)
        .transpose()?;
    let (mut base, draw_settings) = match &args.base {
        Some(path) => (load_base(path)?, false),
        None => (
            options::default_base(duration.unwrap_or(options::DEFAULT_DURATION)),
            true,
        ),
    };
    if let Some(d) = duration {
        base.duration = d;
    }
    if !args.expect.is_empty() {
        base.expect = options::parse_expect(&args.expect)?;
    } else if base.expect == Default::default() {
        // A base with no [expect] would find nothing; it gets the default set.
        base.expect = options::default_expect();
    }
    // Checked here too, not only by clap: `options` is also called with values made in code.
    let bounded = |flag: &str, n: usize, range| {
        super::bounds::check_whole(n as u64, range).map_err(|e| format!("{flag}: {e}"))
    };
    bounded("--max-faults", args.max_faults, super::bounds::MAX_FAULTS)?;
    bounded(
        "--shrink-budget",
        args.shrink_budget,
        super::bounds::SHRINK_BUDGET,
    )?;
    if let Some(jobs) = args.jobs {
        bounded("--jobs", jobs, super::bounds::JOBS)?;
    }
    super::output::check_out_dir("--out", &args.out)?;
    // Fail once, up front, rather than once per seed.
    explore::generate::fault_window(&base)?;
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    Ok(ExploreOptions {
        seeds,
        base,
        draw_settings,
        max_faults: args.max_faults,
        shrink_budget: args.shrink_budget,
        out: args.out.clone(),
        jobs,
    })
}

fn load_base(path: &Path) -> Result<scenario::Scenario, String> {
    scenario::load(path).map_err(|e| e.to_string())
}

pub fn run_explore(args: &Args) -> ExitCode {
    let options = match options(args) {
        Ok(o) => o,
        Err(e) => return super::error(e),
    };
    let json = args.json;
    let summary = explore::explore(&options, |report| {
        let line = explore::summary::seed_line(report);
        // Progress goes to stderr under --json so stdout stays one JSON document.
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    });
    if json {
        match serde_json::to_string_pretty(&summary) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", explore::summary::render(&summary));
    }
    // Findings are the point of exploring, not a failure of the command; a finding that
    // could not be written (it would be lost), a found file that does not reproduce, or a
    // seed that could not be explored, is.
    let lost = summary.findings.saturating_sub(summary.files.len());
    if lost > 0 {
        eprintln!(
            "error: {lost} findings could not be written under {} (see their lines above)",
            scenario::error::printable(&options.out.display().to_string())
        );
    }
    if summary.is_broken() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
