//! Anti-flapping and bounded launches (the safe policy). A controller that fails a port
//! over, sees the new master fail too, and fails it back, can flap for as long as the
//! fault lasts; one that launches a machine for every failure can launch without end when
//! the fault is its own (a monitor cut off from everything). So: no second failover of
//! the same port within `window_ms`, and at most `launches_per_hour` launches in any hour.
//! A refusal is an event and an alert for a person, never a retry loop.
//!
//! Times are the controller's clock (ms); a restored controller moves them with
//! [`Budget::rebase`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One hour, the launch budget's window.
pub const HOUR_MS: u64 = 3_600_000;

/// The bounds, part of the controller's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// No second failover of a port within this long of the last.
    pub window_ms: u64,
    /// Launches allowed in any hour.
    pub launches_per_hour: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            window_ms: 300_000,
            launches_per_hour: 6,
        }
    }
}

/// Why the budget refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    #[error("port {port} failed over {since_ms} ms ago; no second failover within {window_ms} ms")]
    Flapping {
        port: u16,
        since_ms: u64,
        window_ms: u64,
    },
    #[error("{launches} launches in the last hour; the budget is {launches_per_hour}")]
    LaunchBudget {
        launches: usize,
        launches_per_hour: u32,
    },
}

/// What has been spent: the last failover of each port, and recent launches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    failovers: BTreeMap<u16, u64>,
    launches: Vec<u64>,
}

impl Budget {
    /// Whether `port` may fail over at `now_ms`.
    pub fn may_fail_over(
        &self,
        config: &BudgetConfig,
        port: u16,
        now_ms: u64,
    ) -> Result<(), Refusal> {
        match self.failovers.get(&port) {
            Some(&last) if now_ms.saturating_sub(last) < config.window_ms => {
                Err(Refusal::Flapping {
                    port,
                    since_ms: now_ms.saturating_sub(last),
                    window_ms: config.window_ms,
                })
            }
            _ => Ok(()),
        }
    }

    pub fn failed_over(&mut self, port: u16, now_ms: u64) {
        self.failovers.insert(port, now_ms);
    }

    /// Whether a launch at `now_ms` stays within the hour's budget.
    pub fn may_launch(&self, config: &BudgetConfig, now_ms: u64) -> Result<(), Refusal> {
        let launches = self.launches_within_hour(now_ms);
        if launches >= config.launches_per_hour as usize {
            Err(Refusal::LaunchBudget {
                launches,
                launches_per_hour: config.launches_per_hour,
            })
        } else {
            Ok(())
        }
    }

    /// Records a launch; launches older than an hour are forgotten, so the record stays
    /// bounded.
    pub fn launched(&mut self, now_ms: u64) {
        self.launches
            .retain(|t| now_ms.saturating_sub(*t) < HOUR_MS);
        self.launches.push(now_ms);
    }

    fn launches_within_hour(&self, now_ms: u64) -> usize {
        self.launches
            .iter()
            .filter(|t| now_ms.saturating_sub(**t) < HOUR_MS)
            .count()
    }

    /// Moves every time onto a new clock (see `Controller::restore`).
    pub fn rebase(&mut self, rebase: impl Fn(u64) -> u64) {
        for t in self.failovers.values_mut().chain(self.launches.iter_mut()) {
            *t = rebase(*t);
        }
    }
}
