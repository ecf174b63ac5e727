//! `failover-sim compare SCENARIO... [--seed N] [--out DIR]`: runs each scenario in both
//! worlds, writes its compare.md and compare.json (and the real world's reports under
//! real/: the lab's are `failover-sim run`'s, byte for byte, so they are not written
//! twice), and with more than one scenario an index table, README.md; exits 1 when a
//! measure is outside the tolerance.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::error;
use super::run::{run_in, WorldArg};
use crate::compare::{compare, index, markdown, Comparison};
use crate::real::RealError;
use judge::report::ReportInput;

pub fn run_compare(
    paths: &[PathBuf],
    seed: Option<u64>,
    out: Option<PathBuf>,
    from_saved: bool,
) -> ExitCode {
    // Every file is checked before the first wall-clock run starts.
    let mut scenarios = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        let scenario = match scenario::load(path) {
            Ok(s) => s,
            Err(e) => return error(e),
        };
        let ready = match from_saved {
            true => crate::real::preflight::check_faults(&scenario),
            false => crate::real::preflight::check(&scenario),
        };
        match ready {
            Ok(()) => scenarios.push((stem(path), scenario)),
            // Among many, a scenario the real world cannot make is listed, not fatal.
            Err(e @ RealError::Unsupported { .. }) if paths.len() > 1 => {
                eprintln!("compare: skipping {}: {e}", path.display());
                skipped.push((stem(path), e.to_string()));
            }
            Err(e) => return error(format!("{}: {e}", path.display())),
        }
    }
    let single = paths.len() == 1;
    for (i, (name, _)) in scenarios.iter().enumerate() {
        if scenarios[..i].iter().any(|(n, _)| n == name) {
            return error(format!(
                "two scenario files are named {name}: each goes to <out>/{name}/, so give files with different names"
            ));
        }
    }
    let out = out.unwrap_or_else(|| match single {
        true => PathBuf::from(format!("target/failover-sim/compare/{}", scenarios[0].0)),
        false => PathBuf::from("target/failover-sim/compare"),
    });
    if let Err(e) = super::output::check_out_dir("--out", &out) {
        return error(e);
    }
    let mut all = Vec::new();
    for (i, (stem, scenario)) in scenarios.iter().enumerate() {
        let dir = if single { out.clone() } else { out.join(stem) };
        eprintln!("compare [{}/{}]: {stem}", i + 1, scenarios.len());
        let done = match from_saved {
            true => resave(&dir),
            false => compare_one(stem, scenario, seed.unwrap_or(scenario.seed), &dir),
        };
        match done {
            Ok(c) => all.push((scenario.status.clone(), c)),
            Err(e) => return error(e),
        }
    }
    if !single {
        let path = out.join("README.md");
        if let Err(e) = std::fs::write(&path, index(&all, &skipped)) {
            return error(format!("cannot write {}: {e}", path.display()));
        }
        println!("wrote {}", path.display());
    }
    if all.iter().all(|(_, c)| c.within) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into())
}

/// The comparison saved under `dir`, its compare.md and compare.json written again.
fn resave(dir: &Path) -> Result<Comparison, String> {
    let c = Comparison::load(&dir.join("compare.json"))?;
    save(dir, &c)?;
    Ok(c)
}

fn save(dir: &Path, c: &Comparison) -> Result<(), String> {
    let json = serde_json::to_string_pretty(c).expect("the comparison serializes") + "\n";
    std::fs::write(dir.join("compare.md"), markdown(c))
        .and_then(|_| std::fs::write(dir.join("compare.json"), json))
        .map_err(|e| format!("cannot write the comparison to {}: {e}", dir.display()))
}

/// Both worlds of one scenario, the real world's reports and the comparison, written
/// under `dir`.
fn compare_one(
    stem: &str,
    scenario: &scenario::Scenario,
    seed: u64,
    dir: &Path,
) -> Result<Comparison, String> {
    let mut results = Vec::new();
    for world in [WorldArg::Sim, WorldArg::Real] {
        eprintln!("compare: running {stem} at seed {seed} in the {world:?} world");
        let result = run_in(scenario, seed, world).map_err(|e| e.to_string())?;
        if world == WorldArg::Sim {
            results.push(result);
            continue;
        }
        let report = ReportInput {
            scenario: stem,
            description: &scenario.description,
            status: &scenario.status,
            seed,
            world: world.world(),
            analysis: &result.analysis,
            faults: &result.summary.faults,
            expectations: &result.expectations,
        };
        let at = dir.join(world.world().as_str());
        judge::report::write_all(&at, &report)
            .map_err(|e| format!("cannot write {}: {e}", at.display()))?;
        results.push(result);
    }
    let c = compare(stem, &results[0], &results[1]);
    save(dir, &c)?;
    print!("{}", markdown(&c));
    println!(
        "\nwrote {}/{{compare.md,compare.json,real/}}",
        dir.display()
    );
    Ok(c)
}
