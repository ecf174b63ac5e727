//! The run over time, as data for the timeline picture: completions per second (ok, waited,
//! failed or unknown) and the moments worth a marker (role changes, haproxy server state
//! changes, the controller's decisions). Kept here, apart from the SVG, so the JSON report
//! carries the same numbers a plot would need.

use serde::Serialize;

use super::detail;
use super::operations::{Operation, Outcome};
use crate::trace::{Event, TraceEvent};

/// The width of one bucket.
pub const BUCKET_MS: u64 = 1000;
/// At most a day of buckets.
pub const MAX_BUCKETS: u64 = 86_400;

/// Completions in one second, by how they ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub start_ms: u64,
    /// Ok within the waited threshold.
    pub ok: u64,
    /// Ok after more than the waited threshold.
    pub waited: u64,
    /// Failed or unknown.
    pub failed: u64,
}

/// What a marker marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerKind {
    /// A redis server became master (`REPLICAOF NO ONE`).
    Promotion,
    /// A redis server became a replica (`REPLICAOF host port`).
    Replicaof,
    /// An haproxy marked a server DOWN.
    ServerDown,
    /// An haproxy marked a server UP.
    ServerUp,
    /// The controller decided a machine has failed.
    MachineFailed,
    /// The controller started a recovery plan.
    PlanStarted,
    /// The controller finished a recovery plan.
    PlanFinished,
}

/// One moment on the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Marker {
    pub at_ms: u64,
    pub kind: MarkerKind,
    /// The trace event's source (machine, proxy or "controller").
    pub source: String,
    /// A few words for a person.
    pub label: String,
}

/// The timeline's data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timeline {
    /// The width of each bucket in milliseconds.
    pub bucket_ms: u64,
    /// One bucket per second from 0 to the end of the run.
    pub buckets: Vec<Bucket>,
    /// In time order (ties in trace order).
    pub markers: Vec<Marker>,
}

pub fn build(
    ops: &[Operation],
    trace: &[TraceEvent],
    end_ms: u64,
    waited_threshold_ms: u64,
) -> Timeline {
    let last = ops.iter().filter_map(|o| o.completed_ms).max().unwrap_or(0);
    // Capped so that a nonsensical duration cannot ask for gigabytes; later completions
    // simply fall outside the picture.
    let n = end_ms
        .max(last.saturating_add(1))
        .div_ceil(BUCKET_MS)
        .min(MAX_BUCKETS);
    let mut buckets: Vec<Bucket> = (0..n)
        .map(|i| Bucket {
            start_ms: i * BUCKET_MS,
            ..Bucket::default()
        })
        .collect();
    for o in ops {
        let Some(at) = o.completed_ms else { continue };
        let Some(b) = buckets.get_mut((at / BUCKET_MS) as usize) else {
            continue;
        };
        match o.outcome {
            Outcome::Ok if o.latency_ms().unwrap_or(0) > waited_threshold_ms => b.waited += 1,
            Outcome::Ok => b.ok += 1,
            Outcome::Fail | Outcome::Unknown => b.failed += 1,
            Outcome::Incomplete => {}
        }
    }
    let mut markers: Vec<Marker> = trace.iter().filter_map(marker).collect();
    markers.sort_by_key(|m| m.at_ms);
    Timeline {
        bucket_ms: BUCKET_MS,
        buckets,
        markers,
    }
}

fn marker(e: &TraceEvent) -> Option<Marker> {
    let server = || match detail::port(e) {
        Some(p) => format!("{}:{p}", e.source),
        None => e.source.clone(),
    };
    let (kind, label) = if detail::is_promotion(e) {
        (MarkerKind::Promotion, format!("{} promoted", server()))
    } else if let Some(master) = detail::replica_of(e) {
        (
            MarkerKind::Replicaof,
            format!("{} replica of {master}", server()),
        )
    } else if let Some((name, up)) = detail::haproxy_server_state(e) {
        let (kind, state) = if up {
            (MarkerKind::ServerUp, "UP")
        } else {
            (MarkerKind::ServerDown, "DOWN")
        };
        (kind, format!("{}: {name} {state}", e.source))
    } else if let Some(m) = detail::machine_failed(e) {
        (MarkerKind::MachineFailed, format!("{m} failed"))
    } else if let Event::PlanStarted { plan, .. } = e.event {
        (MarkerKind::PlanStarted, format!("plan {plan} started"))
    } else if let Event::PlanFinished { plan, .. } = e.event {
        (MarkerKind::PlanFinished, format!("plan {plan} finished"))
    } else {
        return None;
    };
    Some(Marker {
        at_ms: e.at_ms,
        kind,
        source: e.source.clone(),
        label,
    })
}
