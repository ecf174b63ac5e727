//! The checkers: what a run's history, trace and final state say about the failover.
//!
//! [`analyze`] is a pure function of its [`Input`] (no I/O, no clock, ordered maps only),
//! so the same run gives the same [`Analysis`] byte for byte. Each checker is one file:
//!
//! - [`operations`]: invokes and completions paired into operations (what the others use);
//! - [`requests`]: invoked / ok / failed / unknown / incomplete / waited, overall and per port;
//! - [`lost_writes`]: acknowledged writes missing from the final state;
//! - [`appeared`]: writes that failed yet are in the final state;
//! - [`stale_reads`]: reads that missed an already acknowledged write;
//! - [`unavailability`]: windows between two successes in which something failed;
//! - [`split_brain`]: two masters accepting writes on the same port at once;
//! - [`false_failovers`]: redis machines failed over while they were serving;
//! - [`fault_timings`]: per fault, time to detection, to the first ok write, to redundancy;
//! - [`timeline`]: completions per second and markers, the data of the timeline picture;
//! - [`mod@expectations`]: the scenario's `[expect]` bounds against an analysis;
//! - [`detail`]: reading trace events.

pub mod appeared;
pub mod detail;
pub mod expectations;
pub mod false_failovers;
pub mod fault_timings;
pub mod lost_writes;
pub mod operations;
pub mod requests;
pub mod split_brain;
pub mod stale_reads;
pub mod timeline;
pub mod unavailability;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::fault_record::FaultRecord;
use crate::history::Entry;
use crate::read_back::ReadBack;
use crate::trace::TraceEvent;

pub use appeared::{Appeared, AppearedWrite};
pub use expectations::{check as expectations, ExpectationResult};
pub use false_failovers::{FalseFailover, FalseFailovers};
pub use fault_timings::FaultTiming;
pub use lost_writes::{LostWrite, LostWrites};
pub use requests::{RequestCounts, Requests};
pub use split_brain::{SplitBrain, SplitBrainInterval};
pub use stale_reads::{StaleRead, StaleReads};
pub use timeline::{Bucket, Marker, MarkerKind, Timeline};
pub use unavailability::{Unavailability, Window, WindowSummary};

/// The default waited threshold: an ok operation slower than this counts as waited.
pub const DEFAULT_WAITED_THRESHOLD_MS: u64 = 1000;

/// What the checkers read.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub history: &'a [Entry],
    pub trace: &'a [TraceEvent],
    pub faults: Vec<FaultRecord>,
    /// The scenario's faults, by the same index: what each did (for false failovers).
    pub actions: Vec<scenario::FaultAction>,
    /// The redis proxies' machine names.
    pub proxies: Vec<String>,
    /// The final read-back per local haproxy port (7001 to 7000 + redis_ports).
    pub final_state: BTreeMap<u16, ReadBack>,
    /// When the lab was found fully redundant again, if it was.
    pub redundant_at_ms: Option<u64>,
    /// How long the run lasted (simulated).
    pub duration_ms: u64,
    /// See [`DEFAULT_WAITED_THRESHOLD_MS`].
    pub waited_threshold_ms: u64,
}

impl<'a> Input<'a> {
    /// An input with no faults, no final state, no redundancy time and the default
    /// threshold; set the other fields as needed.
    pub fn new(history: &'a [Entry], trace: &'a [TraceEvent], duration_ms: u64) -> Self {
        Input {
            history,
            trace,
            faults: Vec::new(),
            actions: Vec::new(),
            proxies: Vec::new(),
            final_state: BTreeMap::new(),
            redundant_at_ms: None,
            duration_ms,
            waited_threshold_ms: DEFAULT_WAITED_THRESHOLD_MS,
        }
    }
}

/// Everything the checkers found. Times are simulated milliseconds since the start of the
/// run; durations are milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Analysis {
    /// How long the run lasted.
    pub duration_ms: u64,
    /// When the lab was fully redundant again, if known.
    pub redundant_at_ms: Option<u64>,
    pub requests: Requests,
    pub lost_writes: LostWrites,
    pub appeared_although_failed: Appeared,
    pub stale_reads: StaleReads,
    pub unavailability: Unavailability,
    pub split_brain: SplitBrain,
    pub false_failovers: FalseFailovers,
    /// Per fault, in scenario order.
    pub faults: Vec<FaultTiming>,
    pub timeline: Timeline,
}

/// Runs every checker over `input`.
pub fn analyze(input: &Input) -> Analysis {
    let ops = operations::operations(input.history);
    let first_ms = input.history.iter().map(|e| e.at_ms).min().unwrap_or(0);
    let last_ms = input.history.iter().map(|e| e.at_ms).max().unwrap_or(0);
    // The run ends at its duration, or at the last thing recorded if that came later.
    let end_ms = input
        .duration_ms
        .max(last_ms)
        .max(input.trace.iter().map(|e| e.at_ms).max().unwrap_or(0));
    Analysis {
        duration_ms: input.duration_ms,
        redundant_at_ms: input.redundant_at_ms,
        requests: requests::count(&ops, input.waited_threshold_ms),
        lost_writes: lost_writes::check(&ops, &input.final_state),
        appeared_although_failed: appeared::check(&ops, &input.final_state),
        stale_reads: stale_reads::check(&ops),
        unavailability: unavailability::check(&ops, first_ms, last_ms),
        split_brain: split_brain::check(input.trace, end_ms),
        false_failovers: false_failovers::check(
            input.trace,
            &input.faults,
            &input.actions,
            &input.proxies,
        ),
        faults: fault_timings::check(&input.faults, &ops, input.trace, input.redundant_at_ms),
        timeline: timeline::build(&ops, input.trace, end_ms, input.waited_threshold_ms),
    }
}
