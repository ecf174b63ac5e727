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

/// The largest sweep.json [`SweepFile::read`] reads: 256 MiB, several times what the
/// largest sweep ([`super::seeds::MAX_RUNS`] runs, some 500 bytes each) writes.
pub const FILE_LIMIT: u64 = 256 << 20;

/// Whether `text` declares this schema version, and if not, what it declares instead.
/// Only `schema_version` is kept; the rest is skipped without being built.
fn check_version(text: &str) -> Result<(), String> {
    #[derive(Deserialize)]
    struct Version {
        // Absent is `None`; present, even as `null`, is `Some`.
        #[serde(default, deserialize_with = "present")]
        schema_version: Option<serde_json::Value>,
    }
    fn present<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<serde_json::Value>, D::Error> {
        serde_json::Value::deserialize(d).map(Some)
    }
    let valid = format!("valid: the integer {SCHEMA_VERSION}");
    // serde reads a struct from an array too, so the object is asked for first.
    if !text.trim_start().starts_with('{') {
        return Err("not a sweep.json: the top level must be a JSON object".into());
    }
    let version: Version =
        serde_json::from_str(text).map_err(|e| format!("not a sweep.json: {e}"))?;
    match version.schema_version {
        None => Err(format!(
            "not a sweep.json: it has no schema_version ({valid})"
        )),
        Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => Ok(()),
        Some(v) if v.is_u64() || v.is_i64() => Err(format!(
            "schema_version {v} is not one this failover-sim reads ({valid})"
        )),
        Some(serde_json::Value::String(s)) => {
            let shown: String = s.chars().take(40).collect();
            Err(format!(
                "schema_version is the string {shown:?}, not a number ({valid}, without quotes)"
            ))
        }
        Some(v) if v.is_number() => Err(format!(
            "schema_version is {v}, not a whole number ({valid})"
        )),
        Some(v) => Err(format!(
            "schema_version is {}, not a number ({valid})",
            json_kind(&v)
        )),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// serde_json's message without its " at line L column C", which the caller puts first.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

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
    /// True when the sweep was stopped (Ctrl-C, SIGTERM) before every seed ran, or a
    /// merged shard was: `results` holds the seeds that finished, `missing` the rest.
    /// Absent in files written before it existed, which were complete.
    #[serde(default)]
    pub incomplete: bool,
    /// Seeds of the declared range that did not run: no shard ran them (`merge`), or the
    /// sweep was stopped first.
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
            incomplete: false,
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

    /// Reads and parses a sweep.json: a regular file of at most [`FILE_LIMIT`] bytes with
    /// this schema version. Errors name the file, and the line, column and field where
    /// the JSON does not fit the schema. The records are not checked here (see
    /// [`super::merge`]).
    pub fn read(path: &Path) -> Result<SweepFile, String> {
        let shown = path.display();
        let bytes = scenario::input::read_limited(path, FILE_LIMIT)
            .map_err(|why| format!("{shown}: {}", why.about("the sweep.json")))?;
        let text = scenario::input::utf8(bytes).map_err(|(line, column, byte)| {
            format!("{shown}:{line}:{column}: byte 0x{byte:02x} is not UTF-8; a sweep.json is UTF-8 JSON")
        })?;
        check_version(&text).map_err(|e| format!("{shown}: {e}"))?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.inner();
            let field = if field == "." {
                String::new()
            } else {
                format!(" {field}:")
            };
            format!(
                "{shown}:{}:{}:{field} {}",
                inner.line(),
                inner.column(),
                strip_position(&inner.to_string())
            )
        })
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
