//! Swarm generation: a seed draws its own fault mix (which kinds are enabled at all), its
//! own settings, and then a schedule of faults from that mix.
//!
//! Swarm testing (TigerBeetle's VOPR, Groce et al.) beats one fixed mix: a seed that never
//! loses packets explores crash interleavings far more densely than one where every kind
//! competes for the same few slots.
//!
//! The generator avoids schedules that are wrong by construction, because a fault that
//! never takes effect is a generator bug and not a finding:
//! - a process is only killed, paused or restarted, and a machine only crashed, while no
//!   earlier fault may have made monit replace (terminate) that machine: a crash, a kill, a
//!   pause, or a network fault between it and monit "disturbs" a machine for the rest of
//!   the schedule;
//! - a restart comes only right after its kill, before monit can declare the machine
//!   failed (`fail_count` polls);
//! - a cloud fault (launch-fails, slow-boot) comes only with a crash a few seconds later of
//!   a machine monit will replace, so a launch consumes it;
//! - every fault that heals heals before `quiet` before the end, so recovery has time.
//!
//! - of each pair (redis1 and redis2, haproxy1 and haproxy2) at most one machine is
//!   crashed, killed or paused: losing both is beyond the design (there is no survivor to
//!   promote or copy from), so every such seed would "find" the same known limit.
//!
//! The app machine is never crashed and its haproxy never killed: nothing in the design
//! replaces the client itself, so "the app is gone" would be a finding by definition.

use std::collections::BTreeSet;

use super::draw::Draw;
use failover::layout::Topology;
use scenario::{processes_of, Fault, FaultAction, Scenario, SimDuration};

/// What the generator may draw, and what it keeps.
#[derive(Clone, Debug)]
pub struct GenOptions {
    /// Duration, settings and `[expect]` of every drawn scenario; its faults are ignored.
    pub base: Scenario,
    /// Whether each seed also draws workload and failover settings (no `--base` given).
    pub draw_settings: bool,
    /// At most this many faults per schedule (at least 1).
    pub max_faults: usize,
}

/// The machines monit replaces, and so the ones a crash or a process fault may target.
const REPLACEABLE: [&str; 4] = ["redis1", "redis2", "haproxy1", "haproxy2"];

/// The kinds of step the generator draws (a step may be two faults).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Crash,
    Kill,
    KillRestart,
    Pause,
    Partition,
    Oneway,
    Latency,
    Loss,
    LaunchFails,
    SlowBoot,
}

const KINDS: [Kind; 10] = [
    Kind::Crash,
    Kind::Kill,
    Kind::KillRestart,
    Kind::Pause,
    Kind::Partition,
    Kind::Oneway,
    Kind::Latency,
    Kind::Loss,
    Kind::LaunchFails,
    Kind::SlowBoot,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Crash => "crash",
            Kind::Kill => "kill",
            Kind::KillRestart => "kill+restart",
            Kind::Pause => "pause",
            Kind::Partition => "partition",
            Kind::Oneway => "partition-oneway",
            Kind::Latency => "latency",
            Kind::Loss => "loss",
            Kind::LaunchFails => "launch-fails",
            Kind::SlowBoot => "slow-boot",
        }
    }
}

/// How long the lab gets after the last fault (or heal) before the run ends: the
/// `redundancy_within` bound plus 10 s, or 20 s when there is none, so a run that ends
/// unrecovered means recovery really took too long.
pub fn quiet_period(base: &Scenario) -> SimDuration {
    base.expect
        .redundancy_within
        .unwrap_or(SimDuration::from_secs(10))
        .checked_add(SimDuration::from_secs(10))
        .unwrap_or(base.duration)
}

/// The window `[start, end)` in which faults act and heal: from 5 s after the clients
/// start (the replicas have synced) to `quiet` before the end. Errors say how to fix it.
pub fn fault_window(base: &Scenario) -> Result<(u64, u64), String> {
    let start = base.workload.start.as_millis().saturating_add(5_000);
    let end = base
        .duration
        .as_millis()
        .saturating_sub(quiet_period(base).as_millis());
    if end < start.saturating_add(10_000) {
        return Err(format!(
            "a {} run leaves no room for faults: they start at {} (5 s after the clients) and \
             must end {} before the end (redundancy_within + 10 s); lengthen --duration",
            base.duration,
            SimDuration::from_millis(start),
            quiet_period(base)
        ));
    }
    Ok((start, end))
}

/// The scenario `seed` draws. Deterministic: the same seed and options give the same
/// scenario. Errors only when the options leave no room for faults.
pub fn generate(seed: u64, options: &GenOptions) -> Result<Scenario, String> {
    let (start, end) = fault_window(&options.base)?;
    let mut draw = Draw::new(seed);
    let mut scenario = options.base.clone();
    scenario.seed = seed;
    scenario.faults.clear();
    if options.draw_settings {
        scenario.workload.clients = draw.range(2, 6) as u32;
        scenario.workload.rate = *draw.pick(&[50, 100, 150, 200]).unwrap_or(&100);
        scenario.failover.fail_count = *draw.pick(&[2, 3, 4]).unwrap_or(&3);
    }

    // The swarm: each kind is in this seed's mix with probability 1/2.
    let mut mix: Vec<Kind> = KINDS.iter().copied().filter(|_| draw.chance(0.5)).collect();
    if mix.is_empty() {
        mix.push(*draw.pick(&KINDS).unwrap_or(&Kind::Crash));
    }

    let max_faults = options.max_faults.max(1);
    let count = draw.range(1, max_faults as u64) as usize;
    // Slot times, 100 ms apart at the finest, in order.
    let mut times: Vec<u64> = (0..count)
        .map(|_| start + draw.range(0, (end - start - 1) / 100) * 100)
        .collect();
    times.sort_unstable();

    let mut state = State {
        end,
        disturbed: BTreeSet::new(),
        downed: BTreeSet::new(),
        monit_down: false,
        cloud_drawn: false,
        detect_ms: scenario.failover.interval.as_millis() * u64::from(scenario.failover.fail_count),
        lab: scenario.topology.lab(),
    };
    for at in times {
        if scenario.faults.len() >= max_faults {
            break;
        }
        let room = max_faults - scenario.faults.len();
        // A few tries: the drawn kind may have no eligible machine left.
        for _ in 0..4 {
            let Some(&kind) = draw.pick(&mix) else { break };
            if let Some(faults) = state.step(kind, at, room, &mut draw) {
                scenario.faults.extend(faults);
                break;
            }
        }
    }
    // A mix of only two-fault kinds under --max-faults 1 (or no eligible machine) can
    // leave the schedule empty; a run without faults explores nothing, so draw one fault
    // of any single-fault kind instead.
    if scenario.faults.is_empty() {
        let mut fallback = KINDS.to_vec();
        draw.shuffle(&mut fallback);
        for kind in fallback {
            if let Some(faults) = state.step(kind, start, 1, &mut draw) {
                scenario.faults.extend(faults);
                break;
            }
        }
    }
    // Faults in time order read best; the nemesis sorts them anyway.
    scenario.faults.sort_by_key(|f| f.at);
    let names: Vec<&str> = mix.iter().map(|k| k.name()).collect();
    scenario.description = format!(
        "Drawn by failover-sim explore from seed {seed}; this seed's fault mix: {}",
        names.join(", ")
    );
    Ok(scenario)
}

/// What earlier faults of the schedule have done to the lab, as far as validity goes.
struct State {
    end: u64,
    /// Machines that may be dead or replaced by now: no process faults or crashes on them.
    disturbed: BTreeSet<String>,
    /// Machines crashed, killed or paused by the schedule.
    downed: BTreeSet<String>,
    monit_down: bool,
    /// Whether a cloud fault is in the schedule (then monit must live to launch).
    cloud_drawn: bool,
    /// How long monit takes to declare a machine failed.
    detect_ms: u64,
    /// The machines and processes faults may name.
    lab: Topology,
}

/// The other machine of `machine`'s pair.
fn partner(machine: &str) -> &'static str {
    match machine {
        "redis1" => "redis2",
        "redis2" => "redis1",
        "haproxy1" => "haproxy2",
        "haproxy2" => "haproxy1",
        _ => "",
    }
}

fn ms(v: u64) -> SimDuration {
    SimDuration::from_millis(v)
}

impl State {
    /// Machines a crash or a process fault may target now: undisturbed, and whose partner
    /// has not been crashed, killed or paused.
    fn targets(&self) -> Vec<&'static str> {
        REPLACEABLE
            .iter()
            .copied()
            .filter(|m| !self.disturbed.contains(*m) && !self.downed.contains(partner(m)))
            .collect()
    }

    /// `machine` is crashed, killed or paused: monit may replace it, and its partner must
    /// survive.
    fn down(&mut self, machine: &str) {
        self.disturbed.insert(machine.to_string());
        self.downed.insert(machine.to_string());
    }

    /// A heal delay for a fault at `at`: 1 s to 60 s, ending before the window ends.
    fn heal(&self, at: u64, draw: &mut Draw) -> Option<SimDuration> {
        let longest = self.end.saturating_sub(at + 1).min(60_000);
        (longest >= 1_000).then(|| ms(draw.range(10, longest / 100) * 100))
    }

    /// Network faults between monit and a machine make monit replace it.
    fn disturb_across(&mut self, sides: &[Vec<String>]) {
        let Some(monit_side) = sides.iter().position(|s| s.iter().any(|m| m == "monit")) else {
            return;
        };
        for (i, side) in sides.iter().enumerate() {
            if i != monit_side {
                self.disturbed.extend(side.iter().cloned());
            }
        }
    }

    /// `n` distinct machines (of all six) in a random order.
    fn machines(&self, n: usize, draw: &mut Draw) -> Vec<String> {
        let mut all = self.lab.machines();
        draw.shuffle(&mut all);
        all.truncate(n);
        all
    }

    /// The faults of one step of `kind` at `at`, or `None` if it cannot be drawn here.
    fn step(&mut self, kind: Kind, at: u64, room: usize, draw: &mut Draw) -> Option<Vec<Fault>> {
        let fault = |at: u64, action: FaultAction| Fault { at: ms(at), action };
        match kind {
            Kind::Crash => {
                let mut candidates = self.targets();
                // monit dying is a known weak spot; keep it rare so it does not swamp
                // every seed's findings.
                // Nor after a cloud fault: the launch that consumes it needs monit alive.
                if draw.chance(0.15) && !self.monit_down && !self.cloud_drawn {
                    candidates = vec!["monit"];
                }
                let machine = draw.pick(&candidates)?.to_string();
                self.down(&machine);
                self.monit_down |= machine == "monit";
                Some(vec![fault(at, FaultAction::Crash { machine })])
            }
            Kind::Kill | Kind::KillRestart | Kind::Pause => {
                let restart = kind == Kind::KillRestart;
                if restart && room < 2 {
                    return None;
                }
                let machine = draw.pick(&self.targets())?.to_string();
                let process = draw.pick(&processes_of(&self.lab, &machine))?.to_string();
                if kind == Kind::Pause {
                    let longest = self.end.saturating_sub(at + 1).min(10_000);
                    if longest < 500 {
                        return None;
                    }
                    let duration = Some(ms(draw.range(5, longest / 100) * 100));
                    self.down(&machine);
                    return Some(vec![fault(
                        at,
                        FaultAction::Pause {
                            machine,
                            process,
                            duration,
                        },
                    )]);
                }
                let mut out = vec![fault(
                    at,
                    FaultAction::Kill {
                        machine: machine.clone(),
                        process: process.clone(),
                    },
                )];
                if restart {
                    // Before monit can have declared the machine failed and terminated it.
                    let latest = self.detect_ms.saturating_sub(700).max(300);
                    let back = at + draw.range(3, latest / 100) * 100;
                    if back >= self.end {
                        return None;
                    }
                    out.push(fault(
                        back,
                        FaultAction::Restart {
                            machine: machine.clone(),
                            process,
                        },
                    ));
                }
                self.down(&machine);
                Some(out)
            }
            Kind::Partition | Kind::Oneway => {
                let n = draw.range(2, 4) as usize;
                let mut machines = self.machines(n, draw);
                let split = draw.range(1, n as u64 - 1) as usize;
                let rest = machines.split_off(split);
                // A fault that never heals would eat the recovery time.
                let heal_after = Some(self.heal(at, draw)?);
                if kind == Kind::Partition {
                    let mut groups = vec![machines, rest];
                    // Now and then a three-way split.
                    if groups[1].len() >= 2 && draw.chance(0.25) {
                        let third = groups[1].split_off(1);
                        groups.push(third);
                    }
                    self.disturb_across(&groups);
                    Some(vec![fault(
                        at,
                        FaultAction::Partition { groups, heal_after },
                    )])
                } else {
                    self.disturb_across(&[machines.clone(), rest.clone()]);
                    Some(vec![fault(
                        at,
                        FaultAction::PartitionOneway {
                            from: machines,
                            to: rest,
                            heal_after,
                        },
                    )])
                }
            }
            Kind::Latency | Kind::Loss => {
                let n = draw.range(2, 4) as usize;
                let mut a = self.machines(n, draw);
                let split = draw.range(1, n as u64 - 1) as usize;
                let b = a.split_off(split);
                let heal_after = Some(self.heal(at, draw)?);
                self.disturb_across(&[a.clone(), b.clone()]);
                let between = [a, b];
                let action = if kind == Kind::Latency {
                    // 10 ms to 400 ms one way: slow, but a round trip stays under monit's
                    // poll timeout.
                    FaultAction::Latency {
                        between,
                        latency: ms(draw.range(1, 40) * 10),
                        heal_after,
                    }
                } else {
                    // 5% to 30% in steps of 5%: lossy, not a partition.
                    FaultAction::Loss {
                        between,
                        rate: draw.range(1, 6) as f64 / 20.0,
                        heal_after,
                    }
                };
                Some(vec![fault(at, action)])
            }
            Kind::LaunchFails | Kind::SlowBoot => {
                if room < 2 || self.monit_down {
                    return None;
                }
                let machine = draw.pick(&self.targets())?.to_string();
                let crash_at = at + draw.range(10, 100) * 100;
                if crash_at >= self.end {
                    return None;
                }
                self.down(&machine);
                self.cloud_drawn = true;
                let cloud = if kind == Kind::LaunchFails {
                    FaultAction::LaunchFails {
                        count: draw.range(1, 2) as u32,
                    }
                } else {
                    FaultAction::SlowBoot {
                        extra: SimDuration::from_secs(draw.range(5, 20)),
                        count: 1,
                    }
                };
                Some(vec![
                    fault(at, cloud),
                    fault(crash_at, FaultAction::Crash { machine }),
                ])
            }
        }
    }
}
