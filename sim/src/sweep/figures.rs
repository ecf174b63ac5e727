//! The per-seed figures a sweep keeps: few enough to store for every seed (so `merge` can
//! recompute the statistics from shards), enough to rank seeds by how bad they were.

use serde::{Deserialize, Serialize};

use crate::run::RunResult;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Acknowledged writes missing from the final state.
    pub lost_writes: u64,
    /// Operations that failed or whose outcome is unknown.
    pub failed_requests: u64,
    /// The longest window with no successful operation.
    pub longest_unavailability_ms: u64,
    /// From the first fault taking effect to full redundancy (`redundant_at_ms` minus the
    /// first `took_effect_ms`); `null` when redundancy never came back or no fault took
    /// effect.
    pub recovery_ms: Option<u64>,
}

impl Figures {
    pub fn of(result: &RunResult) -> Figures {
        let a = &result.analysis;
        let first_fault = result
            .summary
            .faults
            .iter()
            .filter_map(|f| f.took_effect_ms)
            .min();
        let recovery_ms = match (first_fault, result.summary.redundant_at_ms) {
            (Some(fault), Some(back)) => Some(back.saturating_sub(fault)),
            _ => None,
        };
        Figures {
            lost_writes: a.lost_writes.total,
            failed_requests: a.requests.total.failed + a.requests.total.unknown,
            longest_unavailability_ms: a.unavailability.longest_ms,
            recovery_ms,
        }
    }
}
