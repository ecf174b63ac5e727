//! `failover-sim merge`: the shards of one sweep joined into one summary. Statistics are
//! recomputed from the per-seed figures (percentiles do not add up), a seed run by two
//! shards is an error, and seeds of the declared range that no shard ran are listed.
//!
//! A sweep.json is input like any other: each is checked ([`check`]) before it is used.
//! Its records must agree with themselves (a passed seed has no failures, a shard is K/N
//! with 1 <= K <= N, every seed is one the file declares, in its shard, once), scenario
//! paths are normalized (`./a.toml` is `a.toml`), and reproduce commands are rebuilt
//! from the scenario and the seed rather than printed from the file.

use std::collections::{BTreeMap, BTreeSet};

use super::file::{Missing, SweepFile};
use super::outcome::reproduce;
use super::seeds::{self, MAX_RUNS};

pub struct Merged {
    pub file: SweepFile,
    /// Things a person should know that do not make the merge wrong.
    pub warnings: Vec<String>,
}

/// `file` (read from `name`) with its scenario paths normalized and its reproduce
/// commands rebuilt, or the first record that does not fit the schema's rules.
pub fn check(name: &str, mut file: SweepFile) -> Result<SweepFile, String> {
    let bad = |field: String, problem: String| format!("{name}: {field}: {problem}");
    if let Some(s) = file.shard {
        if s.count == 0 || s.index == 0 || s.index > s.count {
            return Err(bad(
                "shard".into(),
                format!(
                    "{{\"index\": {}, \"count\": {}}}; valid: 1 <= index <= count",
                    s.index, s.count
                ),
            ));
        }
    }
    let declared = seeds::parse(&file.seeds).map_err(|e| bad("seeds".into(), e.to_string()))?;
    for s in file.scenarios.iter_mut() {
        *s = super::scenario_name(s);
    }
    file.scenarios.sort();
    file.scenarios.dedup();
    let runs = (file.scenarios.len() as u64).saturating_mul(declared.len() as u64);
    if runs > MAX_RUNS {
        return Err(bad(
            "scenarios".into(),
            format!(
                "{} scenarios times {} seeds is {runs} runs; valid: at most {MAX_RUNS}",
                file.scenarios.len(),
                declared.len()
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, r) in file.results.iter_mut().enumerate() {
        r.scenario = super::scenario_name(&r.scenario);
        let field = format!("results[{i}]");
        let what = format!("{} seed {}", r.scenario, r.seed);
        if !file.scenarios.contains(&r.scenario) {
            return Err(bad(
                field + ".scenario",
                format!(
                    "{what}: a scenario the file does not declare; valid: one of its \
                     scenarios ({})",
                    file.scenarios.join(", ")
                ),
            ));
        }
        let Ok(position) = declared.binary_search(&r.seed) else {
            return Err(bad(
                field + ".seed",
                format!("{what}: not one of the declared seeds {}", file.seeds),
            ));
        };
        if let Some(s) = file.shard {
            if position as u64 % s.count + 1 != s.index {
                return Err(bad(
                    field + ".seed",
                    format!(
                        "{what}: belongs to shard {}/{}, not to this file's shard {s}",
                        position as u64 % s.count + 1,
                        s.count
                    ),
                ));
            }
        }
        if r.passed != r.failures.is_empty() {
            return Err(bad(
                field + ".passed",
                format!(
                    "{what}: passed is {} but failures lists {}; valid: passed true with no \
                     failures, or false with at least one",
                    r.passed,
                    r.failures.len()
                ),
            ));
        }
        if !seen.insert((r.scenario.clone(), r.seed)) {
            return Err(bad(field, format!("{what} is listed twice")));
        }
        r.reproduce = reproduce(&r.scenario, r.seed);
    }
    Ok(file)
}

/// `inputs`: (where it was read from, the file, already [`check`]ed).
pub fn merge(inputs: &[(String, SweepFile)]) -> Result<Merged, String> {
    let Some((_, first)) = inputs.first() else {
        return Err("merge needs at least one sweep.json".into());
    };
    let mut warnings = Vec::new();
    let mut owner: BTreeMap<(String, u64), &str> = BTreeMap::new();
    let mut results = Vec::new();
    let mut scenarios = Vec::new();
    let mut incomplete = false;
    for (name, f) in inputs {
        for r in &f.results {
            if let Some(other) = owner.insert((r.scenario.clone(), r.seed), name) {
                return Err(format!(
                    "the shards overlap: seed {} of {} is in both {other} and {name}",
                    r.seed, r.scenario
                ));
            }
            results.push(r.clone());
        }
        if results.len() as u64 > MAX_RUNS {
            return Err(format!(
                "the inputs hold more than {MAX_RUNS} runs, the most one sweep may hold"
            ));
        }
        scenarios.extend(f.scenarios.iter().cloned());
        if f.timeout_s != first.timeout_s {
            warnings.push(format!(
                "{name} ran with a {} s timeout, {} with {} s",
                f.timeout_s, inputs[0].0, first.timeout_s
            ));
        }
        if f.incomplete {
            incomplete = true;
            warnings.push(format!(
                "{name} is incomplete (its sweep was stopped early): the merge is incomplete too"
            ));
        }
    }
    scenarios.sort();
    scenarios.dedup();
    let counts: BTreeSet<u64> = inputs
        .iter()
        .filter_map(|(_, f)| f.shard.map(|s| s.count))
        .collect();
    if counts.len() > 1 {
        warnings.push(format!(
            "the shards were cut into different counts ({counts:?}): they may not be one sweep"
        ));
    }
    let specs: BTreeSet<&str> = inputs.iter().map(|(_, f)| f.seeds.as_str()).collect();
    let (spec, missing) = if specs.len() == 1 {
        let spec = first.seeds.clone();
        let all = seeds::parse(&spec).map_err(|e| e.to_string())?;
        let runs = (scenarios.len() as u64).saturating_mul(all.len() as u64);
        if runs > MAX_RUNS {
            return Err(format!(
                "the inputs declare {} scenarios times {} seeds, {runs} runs; valid: at most \
                 {MAX_RUNS}",
                scenarios.len(),
                all.len()
            ));
        }
        (spec, missing_seeds(&scenarios, &all, &owner))
    } else {
        warnings.push(format!(
            "the shards declare different seed ranges ({specs:?}): missing seeds not checked"
        ));
        (specs.into_iter().collect::<Vec<_>>().join(","), Vec::new())
    };
    let mut file = SweepFile::new(spec, None, scenarios, first.timeout_s, results, missing);
    file.incomplete = incomplete;
    Ok(Merged { file, warnings })
}

fn missing_seeds(
    scenarios: &[String],
    all: &[u64],
    present: &BTreeMap<(String, u64), &str>,
) -> Vec<Missing> {
    scenarios
        .iter()
        .flat_map(|s| {
            all.iter()
                .filter(|seed| !present.contains_key(&(s.clone(), **seed)))
                .map(|seed| Missing {
                    scenario: s.clone(),
                    seed: *seed,
                })
        })
        .collect()
}
