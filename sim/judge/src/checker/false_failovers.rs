//! False failovers: a redis machine failed over while it was serving. The ground truth is
//! the scenario's own faults, not anyone's detection: a machine was down when a crash of
//! it, or a kill, stop or pause of one of its processes, was in effect, or when a
//! partition (either kind) cut it off from every redis proxy, so that no client could
//! reach it. A failover of a machine in neither state replaced a healthy master or
//! replica: what a monitor cut off alone does (seed's monit-cut-off-from-master).

use failover_core::event::Event;
use failover_core::plan::PlanKind;
use scenario::FaultAction;
use serde::Serialize;

use crate::fault_record::FaultRecord;
use crate::trace::TraceEvent;

/// One failover of a machine that was serving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FalseFailover {
    pub plan: u64,
    pub machine: String,
    pub at_ms: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FalseFailovers {
    pub count: u64,
    pub plans: Vec<FalseFailover>,
}

/// The false failovers among the controller's redis plans in `trace`. `actions` are the
/// scenario's faults, by index as in `records`; `proxies` the redis proxies' names.
pub fn check(
    trace: &[TraceEvent],
    records: &[FaultRecord],
    actions: &[FaultAction],
    proxies: &[String],
) -> FalseFailovers {
    let mut out = FalseFailovers::default();
    for e in trace.iter().filter(|e| e.source == "controller") {
        let Event::PlanStarted {
            plan,
            kind: PlanKind::FailedRedis,
            failed,
            ..
        } = &e.event
        else {
            continue;
        };
        if !down(failed, e.at_ms, records, actions, proxies) {
            out.plans.push(FalseFailover {
                plan: *plan,
                machine: failed.clone(),
                at_ms: e.at_ms,
            });
        }
    }
    out.count = out.plans.len() as u64;
    out
}

/// Whether a fault had `machine` down at `at_ms`.
fn down(
    machine: &str,
    at_ms: u64,
    records: &[FaultRecord],
    actions: &[FaultAction],
    proxies: &[String],
) -> bool {
    let in_effect = |r: &FaultRecord| {
        r.took_effect_ms.is_some_and(|t| t <= at_ms) && r.healed_ms.is_none_or(|h| h > at_ms)
    };
    records.iter().zip(actions).any(|(r, action)| {
        in_effect(r)
            && match action {
                FaultAction::Crash { machine: m } => m == machine,
                FaultAction::Pause { machine: m, .. } => m == machine,
                FaultAction::Kill {
                    machine: m,
                    process,
                }
                | FaultAction::Stop {
                    machine: m,
                    process,
                } => m == machine && !restarted(machine, process, r, at_ms, records, actions),
                FaultAction::Partition { groups, .. } => {
                    let mine = groups.iter().find(|g| g.iter().any(|n| n == machine));
                    mine.is_some_and(|mine| {
                        // Machines in no group are unaffected: a proxy there still reaches it.
                        let cut =
                            |p: &String| !mine.contains(p) && groups.iter().any(|g| g.contains(p));
                        proxies.iter().all(cut)
                    })
                }
                FaultAction::PartitionOneway { from, to, .. } => {
                    let has = |g: &[String]| g.iter().any(|n| n == machine);
                    let cut =
                        |p: &String| (has(from) && to.contains(p)) || (has(to) && from.contains(p));
                    !proxies.is_empty() && proxies.iter().all(cut)
                }
                _ => false,
            }
    })
}

/// Whether a `restart` of the same process took effect after the kill or stop `r` and by
/// `at_ms`.
fn restarted(
    machine: &str,
    process: &str,
    r: &FaultRecord,
    at_ms: u64,
    records: &[FaultRecord],
    actions: &[FaultAction],
) -> bool {
    let killed_at = r.took_effect_ms.unwrap_or(0);
    records.iter().zip(actions).any(|(r2, a)| {
        matches!(a, FaultAction::Restart { machine: m, process: p } if m == machine && p == process)
            && r2
                .took_effect_ms
                .is_some_and(|t| t >= killed_at && t <= at_ms)
    })
}
