//! `failover-sim compare SCENARIO [--seed N] [--out DIR]`: runs both worlds, writes
//! compare.md and compare.json (and each world's reports under sim/ and real/); exits 1
//! when a measure is outside the tolerance.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::error;
use super::run::{run_in, WorldArg};
use crate::compare::{compare, markdown};
use judge::report::ReportInput;

pub fn run_compare(path: &Path, seed: Option<u64>, out: Option<PathBuf>) -> ExitCode {
    let scenario = match scenario::load(path) {
        Ok(s) => s,
        Err(e) => return error(e),
    };
    if let Err(e) = crate::real::preflight::check(&scenario) {
        return error(e);
    }
    let seed = seed.unwrap_or(scenario.seed);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    let out = out.unwrap_or_else(|| PathBuf::from(format!("target/failover-sim/compare/{stem}")));
    if let Err(e) = super::output::check_out_dir("--out", &out) {
        return error(e);
    }
    let mut results = Vec::new();
    for world in [WorldArg::Sim, WorldArg::Real] {
        eprintln!("compare: running {stem} at seed {seed} in the {world:?} world");
        let result = match run_in(&scenario, seed, world) {
            Ok(r) => r,
            Err(e) => return error(e),
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
        let dir = out.join(world.world().as_str());
        if let Err(e) = judge::report::write_all(&dir, &report) {
            return error(format!("cannot write {}: {e}", dir.display()));
        }
        results.push(result);
    }
    let c = compare(&stem, &results[0], &results[1]);
    let md = markdown(&c);
    let json = serde_json::to_string_pretty(&c).expect("the comparison serializes") + "\n";
    let written = std::fs::write(out.join("compare.md"), &md)
        .and_then(|_| std::fs::write(out.join("compare.json"), json));
    if let Err(e) = written {
        return error(format!(
            "cannot write the comparison to {}: {e}",
            out.display()
        ));
    }
    print!("{md}");
    println!(
        "\nwrote {}/{{compare.md,compare.json,sim/,real/}}",
        out.display()
    );
    if c.within {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
