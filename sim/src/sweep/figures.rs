//! The per-seed figures a sweep keeps: few enough to store for every seed (so `merge` can
//! recompute the statistics from shards), enough to rank seeds by how bad they were.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::run::RunResult;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Of `failed_requests`, those whose outcome is unknown. The fields from here on are
    /// absent from sweep.json files written before they existed, and read as 0.
    #[serde(default)]
    pub unknown_requests: u64,
    /// The longest window with no successful operation on each app port.
    #[serde(default)]
    pub unavailability_per_port_ms: BTreeMap<u16, u64>,
    /// Failovers of a redis machine that was serving.
    #[serde(default)]
    pub false_failovers: u64,
    /// The longest time two masters of a port both accepted writes.
    #[serde(default)]
    pub split_brain_ms: u64,
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
            unknown_requests: a.requests.total.unknown,
            unavailability_per_port_ms: a
                .unavailability
                .per_port
                .iter()
                .map(|(port, w)| (*port, w.longest_ms))
                .collect(),
            false_failovers: a.false_failovers.count,
            split_brain_ms: a.split_brain.longest_ms,
        }
    }
}
