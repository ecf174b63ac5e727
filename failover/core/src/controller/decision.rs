//! The decision: once monit has failed a machine, whether to fail it over now and to
//! whom. Under the seed profile monit alone decides and "the remaining redis" takes over;
//! the safe policy also asks the proxies ([`crate::quorum`]), picks the replica by its data
//! ([`crate::promotion`]) and keeps within the budget ([`crate::budget`]). A machine not
//! failed over is an event ([`Event::CannotRecover`]), said once.

use super::{Action, Controller};
use crate::config::Promotion;
use crate::event::{Event, Unrecoverable};
use crate::layout::{MachineInfo, MachineRole};
use crate::promotion;
use crate::quorum::{self, ProxyView, Verdict};

impl Controller {
    /// The survivor that takes over `failed` (none for a proxy, whose plan rebuilds from
    /// the controller's own picture and needs no other proxy alive), or why not now.
    pub(super) fn decide(
        &self,
        now_ms: u64,
        failed: &MachineInfo,
    ) -> Result<Option<MachineInfo>, Unrecoverable> {
        if failed.role == MachineRole::Redis && self.config.quorum {
            self.quorum(failed)?;
        }
        let ports = self.mastered_ports(failed);
        if let Some(budget) = &self.config.budget {
            for &port in &ports {
                self.budget
                    .may_fail_over(budget, port, now_ms)
                    .map_err(Unrecoverable::Budget)?;
            }
            self.budget
                .may_launch(budget, now_ms)
                .map_err(Unrecoverable::Budget)?;
        }
        match (failed.role, self.config.promotion) {
            (MachineRole::Haproxy, _) => Ok(self.first_healthy(failed)),
            // A failed replica's plan promotes nobody: the master stays and takes the
            // replacement as its replica.
            (MachineRole::Redis, Promotion::ByData { max_link_down_ms }) if !ports.is_empty() => {
                self.by_data(now_ms, failed, &ports, max_link_down_ms)
                    .map(Some)
            }
            (MachineRole::Redis, _) => self
                .first_healthy(failed)
                .map(Some)
                .ok_or(Unrecoverable::NoSurvivor { role: failed.role }),
        }
    }

    /// Says once why `name` is not failed over. monit may fail a machine before the
    /// proxies' checks have seen it fail (they run on their own clock), so a disagreement
    /// is said only once the proxies have had time to decide: `fall` checks, each up to
    /// two intervals (a check that times out costs its own interval and the next). Until
    /// then it is the normal wait for the proxies, not news for a person.
    pub(super) fn hold(&mut self, name: &str, why: Unrecoverable, out: &mut Vec<Action>) {
        let waiting_for_proxies = matches!(
            why,
            Unrecoverable::MonitorCutOff { .. } | Unrecoverable::Unconfirmed
        );
        let c = &self.config;
        let failing_ms = u64::from(self.machines[name].failures.saturating_sub(c.fail_count))
            .saturating_mul(c.interval_ms);
        let proxies_decide_ms = 2 * u64::from(c.check_fall) * c.check_inter_ms;
        if waiting_for_proxies && failing_ms < proxies_decide_ms {
            return;
        }
        if self.reported.insert(name.to_string()) {
            out.push(Action::Event(Event::CannotRecover {
                machine: name.to_string(),
                why,
            }));
        }
    }

    /// Records the failover and the launch its plan is about to make.
    pub(super) fn spend_budget(&mut self, now_ms: u64, failed: &MachineInfo) {
        if self.config.budget.is_some() {
            for port in self.mastered_ports(failed) {
                self.budget.failed_over(port, now_ms);
            }
            self.budget.launched(now_ms);
        }
    }

    /// Whether the proxies agree that `failed`'s servers on the ports monit found failing
    /// are unusable.
    fn quorum(&self, failed: &MachineInfo) -> Result<(), Unrecoverable> {
        let backends: Vec<String> = self.machines[&failed.name]
            .failed_ports
            .iter()
            .map(|p| self.layout.backend(*p))
            .collect();
        let views: Vec<(String, ProxyView)> = self
            .machines
            .values()
            .filter(|m| m.monitored && m.info.role == MachineRole::Haproxy)
            .map(|m| {
                let stats = self.views.get(&m.info.name).map(Vec::as_slice);
                let view = quorum::view_of(stats, &failed.name, &backends);
                (m.info.name.clone(), view)
            })
            .collect();
        let votes: Vec<ProxyView> = views.iter().map(|(_, v)| *v).collect();
        match quorum::judge(true, &votes) {
            Verdict::Failed | Verdict::Alive => Ok(()),
            Verdict::MonitorCutOff => Err(Unrecoverable::MonitorCutOff {
                proxies: views
                    .into_iter()
                    .filter(|(_, v)| *v == ProxyView::Usable)
                    .map(|(name, _)| name)
                    .collect(),
            }),
            Verdict::Unconfirmed => Err(Unrecoverable::Unconfirmed),
        }
    }

    /// The eligible replica with the most data for `ports`.
    fn by_data(
        &self,
        now_ms: u64,
        failed: &MachineInfo,
        ports: &[u16],
        max_link_down_ms: u64,
    ) -> Result<MachineInfo, Unrecoverable> {
        let candidates: Vec<promotion::Candidate> = self
            .others(failed)
            .map(|m| {
                let servers = self.replication.get(&m.name).cloned().unwrap_or_default();
                promotion::candidate(&m.name, &servers, ports, now_ms)
            })
            .collect();
        match promotion::choose(&candidates, max_link_down_ms) {
            Some(chosen) => Ok(self.machines[&chosen.machine].info.clone()),
            None => Err(Unrecoverable::NoEligibleReplica {
                rejected: candidates
                    .iter()
                    .filter_map(|c| {
                        let why = c.eligible(max_link_down_ms).err()?;
                        Some((c.machine.clone(), why))
                    })
                    .collect(),
            }),
        }
    }

    /// The seed's choice: the first other machine of the role whose polls succeed.
    fn first_healthy(&self, failed: &MachineInfo) -> Option<MachineInfo> {
        self.others(failed)
            .find(|m| self.machines[&m.name].failures == 0)
            .cloned()
    }

    /// The other monitored machines of `failed`'s role that no plan is busy with.
    fn others<'a>(&'a self, failed: &'a MachineInfo) -> impl Iterator<Item = &'a MachineInfo> {
        self.machines
            .values()
            .filter(move |m| {
                m.monitored
                    && m.info.role == failed.role
                    && m.info.name != failed.name
                    && !self.in_a_plan(&m.info.name)
            })
            .map(|m| &m.info)
    }

    /// The ports of which `failed` is master.
    fn mastered_ports(&self, failed: &MachineInfo) -> Vec<u16> {
        self.masters
            .iter()
            .filter(|(_, m)| **m == failed.name)
            .map(|(p, _)| *p)
            .collect()
    }
}
