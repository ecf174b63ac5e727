//! `failover-sim merge`: the shards of one sweep joined into one summary. Statistics are
//! recomputed from the per-seed figures (percentiles do not add up), a seed run by two
//! shards is an error, and seeds of the declared range that no shard ran are listed.

use std::collections::{BTreeMap, BTreeSet};

use super::file::{Missing, SweepFile};
use super::seeds;

pub struct Merged {
    pub file: SweepFile,
    /// Things a person should know that do not make the merge wrong.
    pub warnings: Vec<String>,
}

/// `inputs`: (where it was read from, the file).
pub fn merge(inputs: &[(String, SweepFile)]) -> Result<Merged, String> {
    let Some((_, first)) = inputs.first() else {
        return Err("merge needs at least one sweep.json".into());
    };
    let mut warnings = Vec::new();
    let mut owner: BTreeMap<(String, u64), &str> = BTreeMap::new();
    let mut results = Vec::new();
    let mut scenarios = Vec::new();
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
        scenarios.extend(f.scenarios.iter().cloned());
        if f.timeout_s != first.timeout_s {
            warnings.push(format!(
                "{name} ran with a {} s timeout, {} with {} s",
                f.timeout_s, inputs[0].0, first.timeout_s
            ));
        }
    }
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
        let missing = match seeds::parse(&spec) {
            Ok(all) => missing_seeds(&scenarios, &all, &owner),
            Err(e) => {
                warnings.push(format!("cannot check for missing seeds: {e}"));
                Vec::new()
            }
        };
        (spec, missing)
    } else {
        warnings.push(format!(
            "the shards declare different seed ranges ({specs:?}): missing seeds not checked"
        ));
        (specs.into_iter().collect::<Vec<_>>().join(","), Vec::new())
    };
    let file = SweepFile::new(spec, None, scenarios, first.timeout_s, results, missing);
    Ok(Merged { file, warnings })
}

fn missing_seeds(
    scenarios: &[String],
    all: &[u64],
    present: &BTreeMap<(String, u64), &str>,
) -> Vec<Missing> {
    let scenarios: BTreeSet<&String> = scenarios.iter().collect();
    scenarios
        .into_iter()
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
