//! Per fault, how long recovery took, measured from the moment the fault took effect (T):
//!
//! - detection: the first "machine failed" event of the controller at or after T;
//! - first ok write: the service is back for writers. If some operation failed or was
//!   unknown at or after T, it is the first write (`SET`, `INCR` or `RPUSH`) invoked at or
//!   after that first failure and acknowledged, measured to its acknowledgement; if nothing
//!   failed after T the fault never stopped writers, and the time is 0. Counting only
//!   writes invoked after the failure keeps a slow write sent before the outage from
//!   passing for recovery;
//! - full redundancy: when the end-of-run check found a master and a synced replica again
//!   (`redundant_at_ms - T`), when that time is known and not before T.

use serde::Serialize;

use super::detail;
use super::operations::{by_completion, Operation, Outcome};
use crate::fault_record::FaultRecord;
use crate::trace::TraceEvent;

/// Recovery times of one fault; every time is in milliseconds after it took effect, and
/// absent when it did not happen (or the fault never took effect).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultTiming {
    /// The fault's index in the scenario.
    pub index: usize,
    pub kind: String,
    pub took_effect_ms: Option<u64>,
    pub healed_ms: Option<u64>,
    pub detection_ms: Option<u64>,
    pub first_ok_write_ms: Option<u64>,
    pub redundancy_ms: Option<u64>,
}

pub fn check(
    faults: &[FaultRecord],
    ops: &[Operation],
    trace: &[TraceEvent],
    redundant_at_ms: Option<u64>,
) -> Vec<FaultTiming> {
    // Everything a fault's timings need is sorted once, and each fault looks its times
    // up by binary search: scanning the history and the trace per fault made N faults
    // cost N times the run's length.
    let mut failed_at: Vec<u64> = trace
        .iter()
        .filter(|e| detail::machine_failed(e).is_some())
        .map(|e| e.at_ms)
        .collect();
    failed_at.sort_unstable();
    let writes = Writes::of(ops);
    faults
        .iter()
        .map(|f| {
            let mut t = FaultTiming {
                index: f.index,
                kind: f.kind.clone(),
                took_effect_ms: f.took_effect_ms,
                healed_ms: f.healed_ms,
                detection_ms: None,
                first_ok_write_ms: None,
                redundancy_ms: None,
            };
            let Some(at) = f.took_effect_ms else { return t };
            t.detection_ms = failed_at
                .get(failed_at.partition_point(|&e| e < at))
                .map(|e| e - at);
            t.first_ok_write_ms = writes.first_ok_write(at);
            t.redundancy_ms = redundant_at_ms.and_then(|r| r.checked_sub(at));
            t
        })
        .collect()
}

/// The history, sorted for [`Writes::first_ok_write`].
struct Writes {
    /// When each failed or unknown operation completed, ascending.
    failures: Vec<u64>,
    /// Acknowledged updates as (invoked, completed), by invoke time.
    acked: Vec<(u64, u64)>,
    /// `earliest[i]`: the earliest completion among `acked[i..]`.
    earliest: Vec<u64>,
}

impl Writes {
    fn of(ops: &[Operation]) -> Writes {
        let done = by_completion(ops);
        let failures = done
            .iter()
            .filter(|o| matches!(o.outcome, Outcome::Fail | Outcome::Unknown))
            .filter_map(|o| o.completed_ms)
            .collect();
        let mut acked: Vec<(u64, u64)> = done
            .iter()
            .filter(|o| o.outcome == Outcome::Ok && o.is_update())
            .filter_map(|o| o.completed_ms.map(|c| (o.invoked_ms, c)))
            .collect();
        acked.sort_unstable();
        let mut earliest = vec![u64::MAX; acked.len()];
        let mut min = u64::MAX;
        for (i, (_, completed)) in acked.iter().enumerate().rev() {
            min = min.min(*completed);
            earliest[i] = min;
        }
        Writes {
            failures,
            acked,
            earliest,
        }
    }

    /// See the module doc.
    fn first_ok_write(&self, at: u64) -> Option<u64> {
        let Some(&failure) = self
            .failures
            .get(self.failures.partition_point(|&c| c < at))
        else {
            return Some(0);
        };
        let first = self
            .acked
            .partition_point(|&(invoked, _)| invoked < failure);
        self.earliest
            .get(first)
            // Saturating: odd histories may complete an operation before its invoke.
            .map(|c| c.saturating_sub(at))
    }
}
