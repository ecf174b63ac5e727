//! The scenario's `[expect]` bounds checked against an analysis, one result per bound that
//! the scenario sets (an absent bound is not checked).
//!
//! Choices: "failed requests" are operations that failed or whose outcome is unknown (from
//! the client's side both are failures); `max_split_brain` bounds the longest split-brain
//! interval, as its documentation says; `redundancy_within` counts from the last moment a
//! fault took effect or healed (a partition cannot be expected to recover before it heals),
//! or from the start of the run when there were no faults.

use serde::Serialize;

use super::Analysis;
use crate::format::secs;
use scenario::Expect;

/// One bound and what the run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectationResult {
    /// The `[expect]` key, e.g. `max_lost_writes`.
    pub name: String,
    /// The bound, as a person reads it (`0`, `5.000s`).
    pub limit: String,
    /// What the run did, in the same unit (`never` when redundancy never came back).
    pub actual: String,
    pub passed: bool,
    /// e.g. `lost writes: 12 > allowed 0`.
    pub message: String,
}

pub fn check(analysis: &Analysis, expect: &Expect) -> Vec<ExpectationResult> {
    let mut out = Vec::new();
    let mut count = |name: &str, what: &str, limit: Option<u64>, actual: u64| {
        if let Some(limit) = limit {
            out.push(result(
                name,
                what,
                limit.to_string(),
                actual.to_string(),
                actual <= limit,
            ));
        }
    };
    count(
        "max_lost_writes",
        "lost writes",
        expect.max_lost_writes,
        analysis.lost_writes.total,
    );
    count(
        "max_false_failovers",
        "false failovers",
        expect.max_false_failovers,
        analysis.false_failovers.count,
    );
    let r = &analysis.requests.total;
    count(
        "max_failed_requests",
        "failed requests",
        expect.max_failed_requests,
        r.failed + r.unknown,
    );
    // Writes whose final state could not be read do not fail the bound (they are not known
    // to be lost), but the message says so, so a pass is never silently partial.
    let unverified = analysis.lost_writes.unverified;
    if let Some(r) = out.iter_mut().find(|r| r.name == "max_lost_writes") {
        if unverified > 0 {
            r.message.push_str(&format!(" ({unverified} unverified)"));
        }
    }
    let mut time = |name: &str, what: &str, limit: Option<u64>, actual: Option<u64>| {
        if let Some(limit) = limit {
            let passed = actual.is_some_and(|a| a <= limit);
            let actual = actual.map_or_else(|| "never".to_string(), secs);
            out.push(result(name, what, secs(limit), actual, passed));
        }
    };
    let ms = |d: Option<scenario::SimDuration>| d.map(|d| d.as_millis());
    time(
        "max_unavailability",
        "longest unavailability",
        ms(expect.max_unavailability),
        Some(analysis.unavailability.longest_ms),
    );
    time(
        "max_total_unavailability",
        "total unavailability",
        ms(expect.max_total_unavailability),
        Some(analysis.unavailability.total_ms),
    );
    let last_fault = analysis
        .faults
        .iter()
        .flat_map(|f| [f.took_effect_ms, f.healed_ms])
        .flatten()
        .max()
        .unwrap_or(0);
    time(
        "redundancy_within",
        "redundancy after the last fault",
        ms(expect.redundancy_within),
        analysis
            .redundant_at_ms
            .map(|r| r.saturating_sub(last_fault)),
    );
    time(
        "max_split_brain",
        "longest split brain",
        ms(expect.max_split_brain),
        Some(analysis.split_brain.longest_ms),
    );
    out
}

fn result(
    name: &str,
    what: &str,
    limit: String,
    actual: String,
    passed: bool,
) -> ExpectationResult {
    let op = if passed { "<=" } else { ">" };
    ExpectationResult {
        name: name.to_string(),
        message: format!("{what}: {actual} {op} allowed {limit}"),
        limit,
        actual,
        passed,
    }
}
