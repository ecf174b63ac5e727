//! Promotion by data (the safe policy): which replica takes over a failed master. The
//! seed promotes "the remaining redis", whatever it holds; after a replacement was just
//! launched, or a link has been down a while, that can be an empty machine or one far
//! behind, and every acknowledged write it lacks is lost. The safe policy promotes the
//! reachable replica with the largest replication offset, never a freshly launched one
//! that has not finished a sync, never one whose link has been down longer than a bound.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ServerError;
use crate::observation::RedisStatus;

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

/// What the controller has learnt of one redis server from its polls, for promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replication {
    pub reachable: bool,
    pub synced: bool,
    pub offset: u64,
    /// When a poll first found its link down, while it has stayed down.
    pub link_down_since_ms: Option<u64>,
}

impl Replication {
    /// A server of the deployment the controller started from: in sync, as far as it
    /// knows (its polls say otherwise within a cycle).
    pub fn in_deployment() -> Self {
        Replication {
            reachable: true,
            synced: true,
            offset: 0,
            link_down_since_ms: None,
        }
    }

    /// A freshly launched server: empty until a poll finds its link up (which redis reports
    /// only once the first sync has loaded).
    pub fn launched() -> Self {
        Replication {
            synced: false,
            ..Self::in_deployment()
        }
    }

    /// Takes in one poll's answer at `now_ms`.
    pub fn observe(&mut self, now_ms: u64, result: &Result<RedisStatus, ServerError>) {
        match result {
            Ok(RedisStatus::Master { offset }) => {
                *self = Replication {
                    reachable: true,
                    synced: true,
                    offset: *offset,
                    link_down_since_ms: None,
                };
            }
            Ok(RedisStatus::Replica {
                link_up, offset, ..
            }) => {
                self.reachable = true;
                self.offset = *offset;
                if *link_up {
                    self.synced = true;
                    self.link_down_since_ms = None;
                } else if self.link_down_since_ms.is_none() {
                    self.link_down_since_ms = Some(now_ms);
                }
            }
            Err(_) => self.reachable = false,
        }
    }
}

/// A machine as a candidate for the given ports: every one of its servers there must be
/// eligible, so the worst of them counts; its offsets add up (they are compared only with
/// other machines' for the same ports). A port never polled counts as unreachable.
pub fn candidate(
    machine: &str,
    servers: &BTreeMap<u16, Replication>,
    ports: &[u16],
    now_ms: u64,
) -> Candidate {
    let mut c = Candidate {
        machine: machine.to_string(),
        reachable: true,
        synced: true,
        offset: 0,
        link_down_ms: 0,
    };
    for port in ports {
        let Some(r) = servers.get(port) else {
            c.reachable = false;
            continue;
        };
        c.reachable &= r.reachable;
        c.synced &= r.synced;
        c.offset = c.offset.saturating_add(r.offset);
        let down = r.link_down_since_ms.map_or(0, |t| now_ms.saturating_sub(t));
        c.link_down_ms = c.link_down_ms.max(down);
    }
    c
}
