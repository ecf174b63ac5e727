//! Promotion by data (the safe policy): which replica takes over a failed master. The
//! seed promotes "the remaining redis", whatever it holds; after a replacement was just
//! launched, or a link has been down a while, that can be an empty machine or one far
//! behind, and every acknowledged write it lacks is lost. The safe policy promotes the
//! reachable replica with the largest replication offset, never a freshly launched one
//! that has not finished a sync, never one whose link has been down longer than a bound.

use serde::{Deserialize, Serialize};

/// One replica as the controller last polled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub machine: String,
    /// Its last poll answered.
    pub reachable: bool,
    /// It has finished a sync with the master since it was launched (a fresh machine is
    /// empty until then).
    pub synced: bool,
    /// Its replication offset: how much of the master's stream it holds.
    pub offset: u64,
    /// How long its link to the master has been down, if it is (0 when up).
    pub link_down_ms: u64,
}

/// Why a candidate may not be promoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ineligible {
    Unreachable,
    /// Freshly launched, no sync finished: it holds nothing.
    NeverSynced,
    /// Its link has been down longer than the bound: it may miss any amount.
    LinkDownTooLong,
}

impl Candidate {
    /// Whether it may be promoted, with links down at most `max_link_down_ms`.
    pub fn eligible(&self, max_link_down_ms: u64) -> Result<(), Ineligible> {
        if !self.reachable {
            Err(Ineligible::Unreachable)
        } else if !self.synced {
            Err(Ineligible::NeverSynced)
        } else if self.link_down_ms > max_link_down_ms {
            Err(Ineligible::LinkDownTooLong)
        } else {
            Ok(())
        }
    }
}

/// The replica to promote: the eligible one with the largest offset, ties to the first
/// name so the choice does not depend on the order asked in. `None` when none is eligible:
/// then no failover is better than one to an empty or stale machine.
pub fn choose(candidates: &[Candidate], max_link_down_ms: u64) -> Option<&Candidate> {
    candidates
        .iter()
        .filter(|c| c.eligible(max_link_down_ms).is_ok())
        .min_by(|a, b| {
            b.offset
                .cmp(&a.offset)
                .then_with(|| a.machine.cmp(&b.machine))
        })
}
