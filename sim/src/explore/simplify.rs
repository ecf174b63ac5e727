//! Simpler versions of one fault, for the shrinker: each candidate changes one thing and
//! says what, most aggressive first (so a fault that does not care jumps straight to the
//! simplest value instead of halving its way there).
//!
//! "Simpler" means easier for a person to read and reason about: earlier, shorter, milder,
//! fewer machines, round numbers.

use scenario::{Fault, FaultAction, SimDuration};

/// The shortest heal, pause or extra boot time the shrinker tries.
const SHORTEST: SimDuration = SimDuration::from_secs(1);
/// The mildest latency and loss rate it tries.
const MILDEST_LATENCY: SimDuration = SimDuration::from_millis(10);
const MILDEST_LOSS: f64 = 0.01;

/// Simpler versions of `fault`, each with a description of the change. `earliest` is the
/// earliest `at` worth trying (faults before the clients start show nothing).
pub fn candidates(fault: &Fault, earliest: SimDuration) -> Vec<(Fault, String)> {
    let mut out = Vec::new();
    for at in shorter(fault.at, earliest) {
        out.push((
            Fault {
                at,
                action: fault.action.clone(),
            },
            format!("at {} -> {at}", fault.at),
        ));
    }
    for (action, what) in simpler_actions(&fault.action) {
        out.push((
            Fault {
                at: fault.at,
                action,
            },
            what,
        ));
    }
    out
}

/// Values below `d` down to `floor`: the floor, half way, and `d` rounded down to a whole
/// second (each only if it is smaller than `d`).
fn shorter(d: SimDuration, floor: SimDuration) -> Vec<SimDuration> {
    let (d_ms, floor_ms) = (d.as_millis(), floor.as_millis());
    if d_ms <= floor_ms {
        return Vec::new();
    }
    let half = (floor_ms + (d_ms - floor_ms) / 2) / 100 * 100;
    let whole = d_ms / 1000 * 1000;
    let mut out: Vec<SimDuration> = Vec::new();
    for v in [floor_ms, half.max(floor_ms), whole.max(floor_ms)] {
        let v = SimDuration::from_millis(v);
        if v < d && v > SimDuration::ZERO && !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn shorter_heal(heal: &Option<SimDuration>) -> Vec<Option<SimDuration>> {
    heal.map(|h| shorter(h, SHORTEST).into_iter().map(Some).collect())
        .unwrap_or_default()
}

/// Each group with one machine fewer (groups keep at least one).
fn smaller_groups(groups: &[Vec<String>]) -> Vec<(Vec<Vec<String>>, String)> {
    let mut out = Vec::new();
    for (gi, group) in groups.iter().enumerate() {
        if group.len() < 2 {
            continue;
        }
        for (mi, machine) in group.iter().enumerate() {
            let mut smaller = groups.to_vec();
            smaller[gi].remove(mi);
            out.push((smaller, format!("without {machine}")));
        }
    }
    out
}

fn simpler_actions(action: &FaultAction) -> Vec<(FaultAction, String)> {
    let mut out = Vec::new();
    match action {
        FaultAction::Crash { .. }
        | FaultAction::Kill { .. }
        | FaultAction::Stop { .. }
        | FaultAction::Restart { .. }
        | FaultAction::LaunchFails { count: 1 } => {}
        FaultAction::LaunchFails { count } => {
            out.push((
                FaultAction::LaunchFails { count: 1 },
                format!("count {count} -> 1"),
            ));
        }
        FaultAction::SlowBoot { extra, count } => {
            if *count > 1 {
                out.push((
                    FaultAction::SlowBoot {
                        extra: *extra,
                        count: 1,
                    },
                    format!("count {count} -> 1"),
                ));
            }
            for e in shorter(*extra, SHORTEST) {
                out.push((
                    FaultAction::SlowBoot {
                        extra: e,
                        count: *count,
                    },
                    format!("extra {extra} -> {e}"),
                ));
            }
        }
        FaultAction::Pause {
            machine,
            process,
            duration,
        } => {
            for d in shorter_heal(duration) {
                out.push((
                    FaultAction::Pause {
                        machine: machine.clone(),
                        process: process.clone(),
                        duration: d,
                    },
                    format!("for {} -> {}", show(duration), show(&d)),
                ));
            }
        }
        FaultAction::Partition { groups, heal_after } => {
            for h in shorter_heal(heal_after) {
                out.push((
                    FaultAction::Partition {
                        groups: groups.clone(),
                        heal_after: h,
                    },
                    format!("heal_after {} -> {}", show(heal_after), show(&h)),
                ));
            }
            if groups.len() > 2 {
                for gi in 0..groups.len() {
                    let mut fewer = groups.clone();
                    let gone = fewer.remove(gi);
                    out.push((
                        FaultAction::Partition {
                            groups: fewer,
                            heal_after: *heal_after,
                        },
                        format!("without the group {gone:?}"),
                    ));
                }
            }
            for (smaller, what) in smaller_groups(groups) {
                out.push((
                    FaultAction::Partition {
                        groups: smaller,
                        heal_after: *heal_after,
                    },
                    what,
                ));
            }
        }
        FaultAction::PartitionOneway {
            from,
            to,
            heal_after,
        } => {
            for h in shorter_heal(heal_after) {
                out.push((
                    FaultAction::PartitionOneway {
                        from: from.clone(),
                        to: to.clone(),
                        heal_after: h,
                    },
                    format!("heal_after {} -> {}", show(heal_after), show(&h)),
                ));
            }
            for (smaller, what) in smaller_groups(&[from.clone(), to.clone()]) {
                let [from, to]: [Vec<String>; 2] = match smaller.try_into() {
                    Ok(pair) => pair,
                    Err(_) => continue,
                };
                out.push((
                    FaultAction::PartitionOneway {
                        from,
                        to,
                        heal_after: *heal_after,
                    },
                    what,
                ));
            }
        }
        FaultAction::Latency {
            between,
            latency,
            heal_after,
        } => {
            for h in shorter_heal(heal_after) {
                out.push((
                    FaultAction::Latency {
                        between: between.clone(),
                        latency: *latency,
                        heal_after: h,
                    },
                    format!("heal_after {} -> {}", show(heal_after), show(&h)),
                ));
            }
            for l in shorter(*latency, MILDEST_LATENCY) {
                out.push((
                    FaultAction::Latency {
                        between: between.clone(),
                        latency: l,
                        heal_after: *heal_after,
                    },
                    format!("latency {latency} -> {l}"),
                ));
            }
            for (smaller, what) in smaller_groups(between) {
                let Ok(between) = <[Vec<String>; 2]>::try_from(smaller) else {
                    continue;
                };
                out.push((
                    FaultAction::Latency {
                        between,
                        latency: *latency,
                        heal_after: *heal_after,
                    },
                    what,
                ));
            }
        }
        FaultAction::Loss {
            between,
            rate,
            heal_after,
        } => {
            for h in shorter_heal(heal_after) {
                out.push((
                    FaultAction::Loss {
                        between: between.clone(),
                        rate: *rate,
                        heal_after: h,
                    },
                    format!("heal_after {} -> {}", show(heal_after), show(&h)),
                ));
            }
            for r in milder_rates(*rate) {
                out.push((
                    FaultAction::Loss {
                        between: between.clone(),
                        rate: r,
                        heal_after: *heal_after,
                    },
                    format!("rate {rate} -> {r}"),
                ));
            }
            for (smaller, what) in smaller_groups(between) {
                let Ok(between) = <[Vec<String>; 2]>::try_from(smaller) else {
                    continue;
                };
                out.push((
                    FaultAction::Loss {
                        between,
                        rate: *rate,
                        heal_after: *heal_after,
                    },
                    what,
                ));
            }
        }
    }
    out
}

/// The mildest rate and half the rate, in whole percent (so files stay readable).
fn milder_rates(rate: f64) -> Vec<f64> {
    let percent = (rate * 100.0).round();
    let mut out = Vec::new();
    for p in [MILDEST_LOSS * 100.0, (percent / 2.0).floor()] {
        let r = p / 100.0;
        if p >= 1.0 && r < rate && !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

fn show(d: &Option<SimDuration>) -> String {
    d.map_or_else(|| "never".to_string(), |d| d.to_string())
}
