//! The nemesis: applies a scenario's faults at their simulated times and heals them later.
//!
//! Every fault is logged to the trace when it is scheduled to act and when it *took
//! effect*; a fault that never took effect (a kill sent to a crashed machine, a cloud fault
//! with no launch after it) makes the run fail, so a test cannot pass because its fault
//! silently never fired.
//!
//! Network faults act through the lab's [`crate::lab::network::Network`].

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use crate::cloud::CloudFaults;
use crate::lab::Lab;
use crate::machine::ProcessCommand;
use crate::trace::{record, Event};
use scenario::{Fault, FaultAction};

use crate::lab::network::Reason;

pub use judge::fault_record::FaultRecord;

enum Step {
    Apply(usize),
    Heal(usize),
}

pub struct Nemesis {
    faults: Vec<Fault>,
    timeline: Vec<(Duration, Step)>,
    next: usize,
    records: Vec<FaultRecord>,
    /// Process commands sent and not yet confirmed: (machine, command) → the faults that
    /// sent it, oldest first. A queue, not one index: two faults may send the same command
    /// before the machine answers the first (two kills at the same time), and each answer
    /// belongs to the fault whose command it answers.
    pending: BTreeMap<(String, String), VecDeque<usize>>,
    /// The last command that acted on each (machine, process): (fault, verb, when), so a
    /// command without effect can say which fault got there first.
    last_acted: BTreeMap<(String, String), (usize, &'static str, u64)>,
    /// Whether some fault has taken effect yet (asked every step, so kept, not searched).
    any_effect: bool,
    pub cloud: CloudFaults,
}

impl Nemesis {
    pub fn new(faults: &[Fault]) -> Self {
        let mut timeline = Vec::new();
        for (i, f) in faults.iter().enumerate() {
            let at = f.at.to_std();
            timeline.push((at, Step::Apply(i)));
            if let Some(h) = f.action.heals_after() {
                timeline.push((at + h.to_std(), Step::Heal(i)));
            }
        }
        // Stable: faults at the same time act in file order, applies before heals.
        timeline.sort_by_key(|(t, s)| (*t, matches!(s, Step::Heal(_))));
        let records = faults
            .iter()
            .enumerate()
            .map(|(i, f)| FaultRecord {
                index: i,
                kind: f.action.kind().to_string(),
                at_ms: f.at.as_millis(),
                took_effect_ms: None,
                healed_ms: None,
                problem: None,
            })
            .collect();
        Self {
            faults: faults.to_vec(),
            timeline,
            next: 0,
            records,
            pending: BTreeMap::new(),
            any_effect: false,
            last_acted: BTreeMap::new(),
            cloud: CloudFaults::default(),
        }
    }

    /// Applies what is due by now; call before each step.
    pub fn before_step(&mut self, lab: &mut Lab) {
        let now = lab.sim.elapsed();
        while let Some((at, step)) = self.timeline.get(self.next) {
            if *at > now {
                break;
            }
            match *step {
                Step::Apply(i) => self.apply(lab, i, now),
                Step::Heal(i) => self.heal(lab, i, now),
            }
            self.next += 1;
        }
        lab.network.step(&lab.sim, now);
    }

    /// Collects the machines' reports of process commands; call after each step.
    pub fn after_step(&mut self, lab: &mut Lab) {
        // Machines report only commands we sent; with none outstanding there is nothing.
        if self.pending.is_empty() {
            return;
        }
        for (name, machine) in &lab.machines {
            for event in machine.control.drain_events() {
                let (what, process) = command_parts(&event.command);
                let key = (name.clone(), format!("{what} {process}"));
                let Some(waiting) = self.pending.get_mut(&key) else {
                    continue;
                };
                let Some(i) = waiting.pop_front() else {
                    continue;
                };
                if waiting.is_empty() {
                    self.pending.remove(&key);
                }
                let at_ms = event.at.as_millis() as u64;
                let process_key = (name.clone(), process.clone());
                let before = self.last_acted.get(&process_key).copied();
                if event.took_effect {
                    self.last_acted.insert(process_key, (i, what, at_ms));
                }
                let record = &mut self.records[i];
                if event.took_effect {
                    if record.took_effect_ms.is_none() {
                        record.took_effect_ms = Some(at_ms);
                        self.any_effect = true;
                        record_event(Event::FaultTookEffect {
                            fault: i,
                            kind: record.kind.clone(),
                            machine: Some(name.clone()),
                            process: Some(process.to_string()),
                            detail: None,
                        });
                    } else {
                        record.healed_ms = Some(at_ms);
                        record_event(Event::FaultHealed {
                            fault: i,
                            kind: record.kind.clone(),
                        });
                    }
                } else {
                    let why = no_effect(what, &process, name, before);
                    record.problem = Some(why.clone());
                    record_event(Event::FaultHadNoEffect {
                        fault: i,
                        kind: record.kind.clone(),
                        why,
                    });
                }
            }
        }
    }

    /// A fault the nemesis applied itself took effect now: on `machine` (a crash), or as
    /// `detail` says (network faults).
    fn took_effect(
        &mut self,
        i: usize,
        now: Duration,
        machine: Option<&str>,
        detail: Option<String>,
    ) {
        self.records[i].took_effect_ms = Some(now.as_millis() as u64);
        self.any_effect = true;
        record_event(Event::FaultTookEffect {
            fault: i,
            kind: self.records[i].kind.clone(),
            machine: machine.map(str::to_string),
            process: None,
            detail,
        });
    }

    fn send(&mut self, lab: &Lab, i: usize, machine: &str, command: ProcessCommand) {
        let Some(handle) = lab.machines.get(machine) else {
            self.records[i].problem = Some(format!("no machine named {machine}"));
            return;
        };
        if !lab.is_alive(machine) {
            self.records[i].problem = Some(format!(
                "{machine} is dead: its processes cannot be commanded"
            ));
            return;
        }
        let (what, process) = command_parts(&command);
        self.pending
            .entry((machine.to_string(), format!("{what} {process}")))
            .or_default()
            .push_back(i);
        handle.control.send(command);
    }

    fn apply(&mut self, lab: &mut Lab, i: usize, now: Duration) {
        let action = self.faults[i].action.clone();
        record_event(Event::FaultScheduled {
            fault: i,
            kind: action.kind().to_string(),
        });
        match &action {
            FaultAction::Crash { machine } => {
                if lab.kill_machine(machine) {
                    self.took_effect(i, now, Some(machine), None);
                } else {
                    self.records[i].problem = Some(format!("{machine} was not alive to crash"));
                }
            }
            FaultAction::Kill { machine, process } => {
                self.send(lab, i, machine, ProcessCommand::Kill(process.clone()))
            }
            FaultAction::Stop { machine, process } => {
                self.send(lab, i, machine, ProcessCommand::Terminate(process.clone()))
            }
            FaultAction::Restart { machine, process } => {
                self.send(lab, i, machine, ProcessCommand::Start(process.clone()))
            }
            FaultAction::Pause {
                machine, process, ..
            } => self.send(lab, i, machine, ProcessCommand::Pause(process.clone())),
            FaultAction::Partition { groups, .. } => {
                for (gi, g) in groups.iter().enumerate() {
                    for h in &groups[gi + 1..] {
                        for a in ips(lab, g) {
                            for b in ips(lab, h) {
                                lab.network.hold(&lab.sim, a, b, Reason::Fault(i));
                            }
                        }
                    }
                }
                self.took_effect(i, now, None, Some(format!("{groups:?}")));
            }
            FaultAction::PartitionOneway { from, to, .. } => {
                for a in ips(lab, from) {
                    for b in ips(lab, to) {
                        lab.network.block_oneway(&lab.sim, a, b, i);
                    }
                }
                self.took_effect(i, now, None, Some(format!("{from:?} -> {to:?}")));
            }
            FaultAction::Latency {
                between, latency, ..
            } => {
                for a in ips(lab, &between[0]) {
                    for b in ips(lab, &between[1]) {
                        lab.network.set_latency(&lab.sim, a, b, latency.to_std(), i);
                    }
                }
                let detail = format!("{between:?} {}ms", latency.as_millis());
                self.took_effect(i, now, None, Some(detail));
            }
            FaultAction::Loss { between, rate, .. } => {
                for a in ips(lab, &between[0]) {
                    for b in ips(lab, &between[1]) {
                        lab.network.lossy(&lab.sim, a, b, *rate, i);
                    }
                }
                self.took_effect(i, now, None, Some(format!("{between:?} rate {rate}")));
            }
            FaultAction::LaunchFails { count } => {
                for _ in 0..*count {
                    self.cloud.failing_launches.push(i);
                }
            }
            FaultAction::SlowBoot { extra, count } => {
                for _ in 0..*count {
                    self.cloud.slow_boots.push((i, extra.to_std()));
                }
            }
        }
    }

    fn heal(&mut self, lab: &mut Lab, i: usize, now: Duration) {
        let action = self.faults[i].action.clone();
        match &action {
            FaultAction::Pause {
                machine, process, ..
            } => {
                self.send(lab, i, machine, ProcessCommand::Resume(process.clone()));
            }
            _ => {
                lab.network.heal(&lab.sim, i);
                self.records[i].healed_ms = Some(now.as_millis() as u64);
                record_event(Event::FaultHealed {
                    fault: i,
                    kind: action.kind().to_string(),
                });
            }
        }
    }

    /// A cloud fault was consumed by a launch (called by the simulated EC2).
    pub fn cloud_fault_took_effect(&mut self, i: usize, now: Duration) {
        if self.records[i].took_effect_ms.is_none() {
            self.took_effect(i, now, None, Some("launch".to_string()));
        }
    }

    /// Whether any fault has taken effect yet.
    pub fn any_took_effect(&self) -> bool {
        self.any_effect
    }

    /// Every fault's record, for the report.
    pub fn records(&self) -> &[FaultRecord] {
        &self.records
    }

    /// Faults that never took effect, with why, once the run is over.
    pub fn problems(&self) -> Vec<String> {
        self.records
            .iter()
            .filter(|r| r.took_effect_ms.is_none())
            .map(|r| {
                let why = r.problem.clone().unwrap_or_else(|| match r.kind.as_str() {
                    "launch-fails" | "slow-boot" => "no instance was launched after it".to_string(),
                    _ => "it was never confirmed by the machine".to_string(),
                });
                format!(
                    "fault {} ({}) scheduled at {} never took effect: {why}",
                    r.index,
                    r.kind,
                    scenario::SimDuration::from_millis(r.at_ms)
                )
            })
            .collect()
    }
}

fn ips(lab: &Lab, machines: &[String]) -> Vec<std::net::IpAddr> {
    machines
        .iter()
        .filter_map(|m| lab.machines.get(m).map(|h| h.ip))
        .collect()
}

/// Why `what process` on `machine` changed nothing, and which earlier fault's command
/// left the process that way.
fn no_effect(
    what: &str,
    process: &str,
    machine: &str,
    before: Option<(usize, &str, u64)>,
) -> String {
    let state = match what {
        "start" => "it was already running",
        "resume" => "it was not paused",
        _ => "it was not running",
    };
    let cause = match before {
        Some((fault, verb, at_ms)) => {
            let done = match verb {
                "kill" => "killed",
                "stop" => "stopped",
                "start" => "started",
                "pause" => "paused",
                _ => "resumed",
            };
            format!(
                " (fault {fault} {done} it at {})",
                scenario::SimDuration::from_millis(at_ms)
            )
        }
        None => String::new(),
    };
    format!("{what} {process} on {machine} had no effect: {state}{cause}")
}

fn command_parts(command: &ProcessCommand) -> (&'static str, String) {
    let (verb, process) = command.parts();
    (verb, process.to_string())
}

/// The nemesis's own events carry "nemesis" as their source.
fn record_event(event: Event) {
    record("nemesis", event);
}
