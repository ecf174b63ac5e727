//! The machine-readable report. Its schema is versioned ([`SCHEMA_VERSION`]) and every
//! field is described in `SCHEMA.md` next to this file; a test keeps the two in step.
//! Bump the version when a field changes meaning or goes away (adding one does not).

use serde::Serialize;

use super::ReportInput;
use crate::checker::{Analysis, ExpectationResult};
use crate::fault_record::FaultRecord;

/// The version of the JSON report's schema.
pub const SCHEMA_VERSION: u32 = 1;

/// The JSON report, field by field as `SCHEMA.md` describes it.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    pub schema_version: u32,
    pub scenario: &'a str,
    pub description: &'a str,
    pub seed: u64,
    pub world: super::World,
    /// True when every expectation passed (and true when there were none).
    pub passed: bool,
    pub expectations: &'a [ExpectationResult],
    pub fault_records: &'a [FaultRecord],
    pub analysis: &'a Analysis,
}

pub fn report<'a>(input: &ReportInput<'a>) -> JsonReport<'a> {
    JsonReport {
        schema_version: SCHEMA_VERSION,
        scenario: input.scenario,
        description: input.description,
        seed: input.seed,
        world: input.world,
        passed: input.expectations.iter().all(|e| e.passed),
        expectations: input.expectations,
        fault_records: input.faults,
        analysis: input.analysis,
    }
}

/// Pretty JSON with a final newline; field order is declaration order, maps are sorted.
pub fn json(input: &ReportInput) -> String {
    // Plain strings, integers and sorted maps: serializing cannot fail.
    serde_json::to_string_pretty(&report(input)).unwrap_or_default() + "\n"
}
