//! `failover-sim explore`: swarm exploration with shrinking over a range of seeds.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::explore::{self, options, ExploreOptions};
use scenario::{self, SimDuration};

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
        .map(|d| SimDuration::parse(d).map_err(|e| format!("--duration: {e}")))
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
    if args.max_faults == 0 {
        return Err("--max-faults must be at least 1".into());
    }
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
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
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
    // Findings are the point of exploring, not a failure of the command; a found file
    // that does not reproduce, or a seed that could not be explored, is.
    let broken = summary.errors > 0 || summary.reproduced < summary.files.len();
    if broken {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
