//! `failover-sim policies`: every scenario under each design, swept, side by side
//! (`reports/policies.md`, `policies.json`; see [`crate::policies`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::sweep::SweepArgs;
use super::{error, output::check_out_dir};
use crate::policies::{self, table};
use crate::sweep::{self, progress::Progress};

pub struct Args {
    /// Scenario files; none: every `*.toml` in `scenarios/`.
    pub scenarios: Vec<PathBuf>,
    pub seeds: String,
    pub jobs: Option<usize>,
    /// Where policies.md and policies.json go.
    pub out: PathBuf,
    /// Where the variant files (and the sweep's files) go.
    pub work: PathBuf,
    pub timeout_s: f64,
    pub json: bool,
}

/// Exit codes: 0 written, 2 bad input, 128 + the signal when stopped (nothing written).
pub fn run_policies(a: &Args) -> ExitCode {
    match policies_inner(a) {
        Ok(code) => code,
        Err(e) => error(e),
    }
}

fn policies_inner(a: &Args) -> Result<ExitCode, String> {
    check_out_dir("--out", &a.out)?;
    check_out_dir("--work", &a.work)?;
    let swept = sweep::seeds::parse(&a.seeds).map_err(|e| e.to_string())?;
    let scenarios = if a.scenarios.is_empty() {
        crate::reports::scenario_files(Path::new("scenarios"))
            .map_err(|e| format!("cannot list scenarios/: {e}"))?
    } else {
        a.scenarios.clone()
    };
    let files = policies::write_variants(&scenarios, &a.work.join("variants"))?;
    let mut all = swept.clone();
    all.extend(files.iter().map(|f| f.pinned_seed));
    all.sort_unstable();
    all.dedup();
    let opts = super::sweep::options(&SweepArgs {
        scenarios: files.iter().map(|f| f.path.clone()).collect(),
        seeds: all.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
        jobs: a.jobs,
        shard: None,
        out: a.work.clone(),
        timeout_s: a.timeout_s,
        json: a.json,
    })?;
    let total = sweep::tasks(&opts)?.len() as u64;
    eprintln!(
        "{} scenarios x {} designs x {} seeds: {total} runs on {} jobs",
        scenarios.len(),
        policies::VARIANTS.len(),
        all.len(),
        opts.jobs
    );
    let mut progress = Progress::new(total);
    let file = sweep::sweep(&opts, |o| progress.done(o))?;
    progress.finish();
    if let Some(signal) = opts.stop.requested() {
        eprintln!(
            "stopped by {}: nothing written",
            sweep::stop::signal_name(signal)
        );
        return Ok(ExitCode::from((128 + signal.clamp(1, 127)) as u8));
    }
    file.write(&a.work)?;
    let t = table::build(&files, &file.results, &swept, &a.seeds);
    let notes_path = a.out.join("policies-notes.md");
    let notes = std::fs::read_to_string(&notes_path).unwrap_or_default();
    let md = table::markdown(&t, &notes);
    let json = serde_json::to_string_pretty(&t).expect("the table serializes");
    let write = |name: &str, text: &str| {
        let p = a.out.join(name);
        std::fs::write(&p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))
    };
    write("policies.md", &md)?;
    write("policies.json", &json)?;
    if a.json {
        println!("{json}");
    } else {
        print!("{md}");
        eprintln!(
            "wrote {} and policies.json",
            a.out.join("policies.md").display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
