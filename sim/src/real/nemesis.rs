//! The scenario's faults in the real world: signals to processes by PID, rules in the
//! run's own nftables table, cloud faults armed in the control plane. Each fault is logged
//! with the time it took effect (checked, not assumed: a killed process is gone, a
//! restarted one listens); one that never did fails the run, as in the lab.

use std::collections::BTreeMap;
use std::time::Duration;

use failover_local::Rule;
use nix::sys::signal::Signal;
use scenario::{Fault, FaultAction};

use super::world::World;
use crate::nemesis::FaultRecord;
use crate::trace::Event;

enum Step {
    Apply(usize),
    Heal(usize),
}

pub struct RealNemesis {
    faults: Vec<Fault>,
    timeline: Vec<(Duration, Step)>,
    next: usize,
    pub records: Vec<FaultRecord>,
    rules: BTreeMap<usize, Vec<Rule>>,
}

/// How long a process may take to obey a signal (a SIGTERMed redis waits up to 10 s for
/// its replicas, then saves).
const OBEY_WITHIN: Duration = Duration::from_secs(15);

impl RealNemesis {
    pub fn new(faults: &[Fault]) -> Self {
        let mut timeline = Vec::new();
        for (i, f) in faults.iter().enumerate() {
            let at = f.at.to_std();
            timeline.push((at, Step::Apply(i)));
            if let Some(h) = f.action.heals_after() {
                timeline.push((at + h.to_std(), Step::Heal(i)));
            }
        }
        // As the lab's nemesis: file order at equal times, applies before heals.
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
        RealNemesis {
            faults: faults.to_vec(),
            timeline,
            next: 0,
            records,
            rules: BTreeMap::new(),
        }
    }

    pub fn any_took_effect(&self) -> bool {
        self.records.iter().any(|r| r.took_effect_ms.is_some())
    }

    /// When the next apply or heal is due (scenario time), if any is left.
    pub fn next_due(&self) -> Option<Duration> {
        self.timeline.get(self.next).map(|(at, _)| *at)
    }

    /// Applies and heals what is due by now.
    pub async fn act(&mut self, world: &World) {
        while let Some((at, step)) = self.timeline.get(self.next) {
            if *at > world.now() {
                break;
            }
            let step = match step {
                Step::Apply(i) => Step::Apply(*i),
                Step::Heal(i) => Step::Heal(*i),
            };
            self.next += 1;
            match step {
                Step::Apply(i) => {
                    world.record(
                        "nemesis",
                        Event::FaultScheduled {
                            fault: i,
                            kind: self.records[i].kind.clone(),
                        },
                    );
                    match self.apply(world, i).await {
                        Ok((machine, process, detail)) => {
                            self.took_effect(world, i, machine, process, detail)
                        }
                        Err(why) => self.no_effect(world, i, why),
                    }
                }
                Step::Heal(i) => match self.heal(world, i).await {
                    Ok(()) => {
                        self.records[i].healed_ms = Some(world.now_ms());
                        world.record(
                            "nemesis",
                            Event::FaultHealed {
                                fault: i,
                                kind: self.records[i].kind.clone(),
                            },
                        );
                        world.log(format!("fault {i} ({}) healed", self.records[i].kind));
                    }
                    Err(why) => self.no_effect(world, i, why),
                },
            }
        }
    }

    fn took_effect(
        &mut self,
        world: &World,
        i: usize,
        machine: Option<String>,
        process: Option<String>,
        detail: Option<String>,
    ) {
        // Cloud faults take effect later, at the launch that consumes them.
        if machine.is_none() && process.is_none() && detail.is_none() {
            return;
        }
        self.records[i].took_effect_ms = Some(world.now_ms());
        world.log(format!(
            "fault {i} ({}) took effect{}{}",
            self.records[i].kind,
            machine
                .as_ref()
                .map(|m| format!(" on {m}"))
                .unwrap_or_default(),
            process
                .as_ref()
                .map(|p| format!(" {p}"))
                .unwrap_or_default(),
        ));
        world.record(
            "nemesis",
            Event::FaultTookEffect {
                fault: i,
                kind: self.records[i].kind.clone(),
                machine,
                process,
                detail,
            },
        );
    }

    fn no_effect(&mut self, world: &World, i: usize, why: String) {
        world.log(format!(
            "fault {i} ({}) had no effect: {why}",
            self.records[i].kind
        ));
        self.records[i].problem = Some(why.clone());
        world.record(
            "nemesis",
            Event::FaultHadNoEffect {
                fault: i,
                kind: self.records[i].kind.clone(),
                why,
            },
        );
    }

    /// A cloud fault consumed by a launch.
    pub fn cloud_took_effect(&mut self, world: &World, i: usize, at: Duration) {
        if self.records[i].took_effect_ms.is_none() {
            self.records[i].took_effect_ms = Some(at.as_millis() as u64);
            world.log(format!(
                "fault {i} ({}) took effect at a launch",
                self.records[i].kind
            ));
            world.record(
                "nemesis",
                Event::FaultTookEffect {
                    fault: i,
                    kind: self.records[i].kind.clone(),
                    machine: None,
                    process: None,
                    detail: Some("launch".into()),
                },
            );
        }
    }

    /// What did it: (machine, process, detail); an error says why nothing happened.
    async fn apply(
        &mut self,
        world: &World,
        i: usize,
    ) -> Result<(Option<String>, Option<String>, Option<String>), String> {
        let action = self.faults[i].action.clone();
        let one = |m: &str, p: &str| (Some(m.to_string()), Some(p.to_string()), None);
        match &action {
            FaultAction::Crash { machine } => {
                world.crash(machine).await?;
                Ok((Some(machine.clone()), None, None))
            }
            FaultAction::Kill { machine, process } => {
                world
                    .end_process(machine, process, Signal::SIGKILL, OBEY_WITHIN)
                    .await?;
                Ok(one(machine, process))
            }
            FaultAction::Stop { machine, process } => {
                world
                    .end_process(machine, process, Signal::SIGTERM, OBEY_WITHIN)
                    .await?;
                Ok(one(machine, process))
            }
            FaultAction::Restart { machine, process } => {
                world.restart_process(machine, process).await?;
                Ok(one(machine, process))
            }
            FaultAction::Pause {
                machine, process, ..
            } => {
                world.freeze(machine, process, true)?;
                Ok(one(machine, process))
            }
            FaultAction::Partition { groups, .. } => {
                let mut rules = Vec::new();
                for (gi, g) in groups.iter().enumerate() {
                    for h in &groups[gi + 1..] {
                        for a in world.ips(g) {
                            for b in world.ips(h) {
                                rules.extend(world.table().cut(a, b).map_err(|e| e.to_string())?);
                            }
                        }
                    }
                }
                self.rules.insert(i, rules);
                Ok((None, None, Some(format!("{groups:?}"))))
            }
            FaultAction::PartitionOneway { from, to, .. } => {
                let mut rules = Vec::new();
                for a in world.ips(from) {
                    for b in world.ips(to) {
                        rules.push(world.table().cut_one_way(a, b).map_err(|e| e.to_string())?);
                    }
                }
                self.rules.insert(i, rules);
                Ok((None, None, Some(format!("{from:?} -> {to:?}"))))
            }
            FaultAction::Loss { between, rate, .. } => {
                let mut rules = Vec::new();
                for a in world.ips(&between[0]) {
                    for b in world.ips(&between[1]) {
                        rules.extend(
                            world
                                .table()
                                .lossy(a, b, *rate)
                                .map_err(|e| e.to_string())?,
                        );
                    }
                }
                self.rules.insert(i, rules);
                Ok((None, None, Some(format!("{between:?} rate {rate}"))))
            }
            FaultAction::Latency { .. } => {
                Err("latency faults are refused in the real world (no netem)".into())
            }
            FaultAction::LaunchFails { count } => {
                let mut state = world.cloud.state.borrow_mut();
                for _ in 0..*count {
                    state.arm_launch_failure(i);
                }
                Ok((None, None, None))
            }
            FaultAction::SlowBoot { extra, count } => {
                let mut state = world.cloud.state.borrow_mut();
                for _ in 0..*count {
                    state.arm_slow_boot(i, extra.to_std());
                }
                Ok((None, None, None))
            }
        }
    }

    async fn heal(&mut self, world: &World, i: usize) -> Result<(), String> {
        match &self.faults[i].action {
            FaultAction::Pause {
                machine, process, ..
            } => world.freeze(machine, process, false),
            _ => {
                for r in self.rules.remove(&i).unwrap_or_default() {
                    world.table().remove(r).map_err(|e| e.to_string())?;
                }
                Ok(())
            }
        }
    }
}
