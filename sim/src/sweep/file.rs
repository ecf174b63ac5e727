//! `sweep.json`: a sweep's summary and every seed's figures (schema in `SCHEMA.md` beside
//! this file). It holds nothing that depends on the machine or the clock, so the same
//! sweep writes the same bytes, and the merge of shards writes what one sweep would.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::outcome::SeedOutcome;
use super::shard::Shard;
use super::stats::{self, ScenarioStats};

/// Goes up when a field changes meaning or goes away; adding a field keeps it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepFile {
    pub schema_version: u32,
    /// The whole sweep's `--seeds`, normalized (before sharding), so `merge` can tell
    /// which seeds no shard ran.
    pub seeds: String,
    /// This file's shard; `null` for an unsharded or merged sweep.
    pub shard: Option<Shard>,
    /// The scenario files, as given on the command line, sorted.
    pub scenarios: Vec<String>,
    /// The per-seed wall-clock limit.
    pub timeout_s: f64,
    pub totals: Totals,
    /// Seeds of the declared range that no shard ran (only `merge` fills it).
    pub missing: Vec<Missing>,
    pub stats: Vec<ScenarioStats>,
    /// Every (scenario, seed), sorted by scenario, then seed.
    pub results: Vec<SeedOutcome>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub runs: u64,
    pub passed: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Missing {
    pub scenario: String,
    pub seed: u64,
}

impl SweepFile {
    /// Sorts `results` and computes the totals and statistics from them.
    pub fn new(
        seeds: String,
        shard: Option<Shard>,
        mut scenarios: Vec<String>,
        timeout_s: f64,
        mut results: Vec<SeedOutcome>,
        missing: Vec<Missing>,
    ) -> SweepFile {
        results.sort_by(|a, b| (&a.scenario, a.seed).cmp(&(&b.scenario, b.seed)));
        scenarios.sort();
        scenarios.dedup();
        let passed = results.iter().filter(|r| r.passed).count() as u64;
        SweepFile {
            schema_version: SCHEMA_VERSION,
            seeds,
            shard,
            scenarios,
            timeout_s,
            totals: Totals {
                runs: results.len() as u64,
                passed,
                failed: results.len() as u64 - passed,
            },
            missing,
            stats: stats::per_scenario(&results),
            results,
        }
    }

    pub fn failed(&self) -> impl Iterator<Item = &SeedOutcome> {
        self.results.iter().filter(|r| !r.passed)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the sweep serializes") + "\n"
    }

    pub fn read(path: &Path) -> Result<SweepFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        match v.get("schema_version").and_then(|v| v.as_u64()) {
            Some(n) if n == u64::from(SCHEMA_VERSION) => {}
            Some(n) => {
                return Err(format!(
                    "{}: schema_version {n}, this failover-sim reads {SCHEMA_VERSION}",
                    path.display()
                ))
            }
            None => {
                return Err(format!(
                    "{}: not a sweep.json (no schema_version)",
                    path.display()
                ))
            }
        }
        serde_json::from_value(v).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Writes `sweep.json` and `junit.xml` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), String> {
        let w = || -> std::io::Result<()> {
            std::fs::create_dir_all(dir)?;
            std::fs::write(dir.join("sweep.json"), self.to_json())?;
            std::fs::write(dir.join("junit.xml"), super::junit::junit(self))
        };
        w().map_err(|e| format!("cannot write the sweep's files to {}: {e}", dir.display()))
    }
}
