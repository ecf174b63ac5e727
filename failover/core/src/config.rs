//! The controller's settings and the deployment it starts from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::budget::BudgetConfig;
use crate::error::ConfigError;
use crate::layout::{Layout, MachineInfo};
use crate::plan::{StepKind, FAILED_HAPROXY, FAILED_REDIS, SAFE_FAILED_REDIS};

/// Which failover design a deployment runs: the seed's as written, or the safe one. A
/// typed value wherever it crosses a boundary (scenario files, the lab, reports), never
/// a string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// The seed as written: monit's cycle (Debian's 120 s) with a 5 s connect timeout and
    /// tests one after another, 3 cycles in a row, haproxy checks `inter 5s fall 3`, the
    /// bash script's step order. Kept so that what the seed's design loses is measured.
    Seed,
    /// The library's own design, the default.
    #[default]
    Safe,
}

impl Policy {
    /// Every policy, in the order reports and messages list them.
    pub const ALL: [Policy; 2] = [Policy::Seed, Policy::Safe];

    /// The name a scenario file and a report use.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Seed => "seed",
            Policy::Safe => "safe",
        }
    }
}

/// Which replica a failed master's plan promotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Promotion {
    /// The seed's "the remaining redis": the first other machine whose polls succeed.
    AnySurvivor,
    /// The reachable, synced replica with the largest offset whose link has been down at
    /// most `max_link_down_ms` (see [`crate::promotion`]); none, and nothing is promoted.
    ByData { max_link_down_ms: u64 },
}

/// How a detection cycle sends its polls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PollOrder {
    /// Every poll at the cycle's start; the cycle closes when the next one is due, every
    /// `interval_ms` (what the lab's controller has done from the start).
    #[default]
    AtOnce,
    /// One poll after another, each waiting for the previous answer or its timeout, as
    /// monit runs a cycle's tests; the next cycle starts `interval_ms` after the last
    /// answer (monit sleeps `set daemon` seconds between cycles), so a cycle with silent
    /// machines lasts longer by their timeouts.
    OneAfterAnother,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControllerConfig {
    /// Time between detection cycles (monit's poll interval).
    pub interval_ms: u64,
    /// Whether a cycle's polls go out together or one after another.
    pub polls: PollOrder,
    /// Failed cycles in a row before a machine is declared failed (the seed's 3).
    pub fail_count: u32,
    /// How long one poll may take; below `interval_ms` so a cycle's results are in before
    /// the next cycle starts.
    pub poll_timeout_ms: u64,
    /// Backoff of a failed step: doubles from min to max.
    pub retry_min_ms: u64,
    pub retry_max_ms: u64,
    /// The wait before launching again after the cloud had no capacity (EC2's
    /// InsufficientInstanceCapacity). Fixed, not the doubling backoff: a shortage is not
    /// a fault that more attempts in a row make likelier to pass, retrying within
    /// seconds only spends API calls, and EC2 advises waiting minutes. Not bounded in
    /// count either: the plan cannot go on without the machine and there is no other
    /// instance type or zone to fall back to, so giving up would only leave the
    /// deployment without redundancy until someone noticed; every wait is reported (a
    /// `StepFailed` event) so someone can.
    pub capacity_retry_ms: u64,
    /// How long WaitReachable waits for a new machine before the step fails (and is retried).
    pub reachable_timeout_ms: u64,
    /// Health checks of servers the controller adds to haproxy.
    pub check_inter_ms: u64,
    pub check_fall: u32,
    pub check_rise: u32,
    /// The recovery plans, as lists of named steps.
    pub failed_redis: Vec<StepKind>,
    pub failed_haproxy: Vec<StepKind>,
    /// A redis machine is failed only when the haproxies' `show stat` agrees with monit
    /// (see [`crate::quorum`]). Off, monit alone decides, as in the seed.
    pub quorum: bool,
    /// Which replica takes over a failed master.
    pub promotion: Promotion,
    /// No second failover of a port within a window, bounded launches (see
    /// [`crate::budget`]); `None`: no bound, as in the seed.
    pub budget: Option<BudgetConfig>,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            interval_ms: 1000,
            polls: PollOrder::AtOnce,
            fail_count: 3,
            poll_timeout_ms: 800,
            retry_min_ms: 1000,
            retry_max_ms: 30_000,
            capacity_retry_ms: 30_000,
            reachable_timeout_ms: 600_000,
            check_inter_ms: 1000,
            check_fall: 3,
            check_rise: 2,
            failed_redis: FAILED_REDIS.to_vec(),
            failed_haproxy: FAILED_HAPROXY.to_vec(),
            quorum: true,
            promotion: Promotion::ByData {
                max_link_down_ms: Self::MAX_LINK_DOWN_MS,
            },
            budget: Some(BudgetConfig::default()),
        }
    }
}

impl ControllerConfig {
    /// Debian's monit: `set daemon 120`.
    pub const MONIT_CYCLE_MS: u64 = 120_000;
    /// monit's default connection timeout.
    pub const MONIT_TIMEOUT_MS: u64 = 5_000;
    /// The seed's haproxy checks: "three unsuccessful attempts each in 5 seconds".
    pub const SEED_CHECK_INTER_MS: u64 = 5_000;
    /// The longest a replica's link may have been down for it to be promoted: well above
    /// a detection's few seconds (a killed master's replica sees its link go at once),
    /// well below the minutes after which it may miss any amount.
    pub const MAX_LINK_DOWN_MS: u64 = 30_000;

    /// The settings `policy` starts from: [`seed_profile`](Self::seed_profile) or the
    /// safe policy's, the library's defaults (quorum, promotion by data, budget) with the
    /// fenced plan ([`SAFE_FAILED_REDIS`]).
    pub fn profile(policy: Policy) -> Self {
        match policy {
            Policy::Seed => Self::seed_profile(),
            Policy::Safe => Self {
                failed_redis: SAFE_FAILED_REDIS.to_vec(),
                ..Self::default()
            },
        }
    }

    /// The seed as written: monit's cycle, its 5 s connect timeout, tests one after
    /// another, 3 cycles in a row, servers added with `inter 5s fall 3`, the bash script's
    /// step lists.
    pub fn seed_profile() -> Self {
        Self {
            interval_ms: Self::MONIT_CYCLE_MS,
            polls: PollOrder::OneAfterAnother,
            fail_count: 3,
            poll_timeout_ms: Self::MONIT_TIMEOUT_MS,
            check_inter_ms: Self::SEED_CHECK_INTER_MS,
            check_fall: 3,
            quorum: false,
            promotion: Promotion::AnySurvivor,
            budget: None,
            ..Self::default()
        }
    }
}

/// The deployment when the controller first starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    pub layout: Layout,
    /// Every machine to monitor: the redis machines and the redis proxies.
    pub machines: Vec<MachineInfo>,
    /// Which redis machine is master of each port.
    pub masters: BTreeMap<u16, String>,
    /// The app haproxy's server names and the proxy machine each points at.
    pub app_slots: BTreeMap<String, String>,
}

/// Orders a recovery plan must respect: the first step before the second.
/// Besides these, the step that stops routing to the old master (`FenceRedis` where the
/// plan has it, else `UnregisterRedis`) comes before `PromoteSurvivor`.
const REDIS_ORDER: &[(StepKind, StepKind)] = &[
    (StepKind::Unmonitor, StepKind::PromoteSurvivor),
    (StepKind::Launch, StepKind::WaitReachable),
    (StepKind::WaitReachable, StepKind::MakeReplica),
    (StepKind::WaitReachable, StepKind::RegisterRedis),
    (StepKind::MakeReplica, StepKind::Monitor),
];
const HAPROXY_ORDER: &[(StepKind, StepKind)] = &[
    (StepKind::Unmonitor, StepKind::Terminate),
    (StepKind::Launch, StepKind::WaitReachable),
    (StepKind::WaitReachable, StepKind::ConfigureHaproxy),
    (StepKind::ConfigureHaproxy, StepKind::PointApp),
    (StepKind::PointApp, StepKind::Monitor),
];

impl ControllerConfig {
    /// Checks the settings and the plans: each plan holds each of its role's steps once,
    /// in an order that keeps the controller's promises (never a second master, never a
    /// server registered before it was seen healthy).
    pub fn validate(&self) -> Result<(), ConfigError> {
        // A zero wait would have the controller ask to be woken at the time it already is,
        // over and over, and a simulated clock would never move on.
        let positive = [
            ("interval_ms", self.interval_ms),
            ("fail_count", u64::from(self.fail_count)),
            ("retry_min_ms", self.retry_min_ms),
            ("capacity_retry_ms", self.capacity_retry_ms),
            // No launch at all would leave every failed machine unreplaced.
            (
                "budget.launches_per_hour",
                self.budget.map_or(1, |b| u64::from(b.launches_per_hour)),
            ),
        ];
        if let Some((setting, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Zero {
                setting: setting.to_string(),
            });
        }
        // Polls one after another wait for each other, so a cycle may outlast its interval.
        if self.polls == PollOrder::AtOnce && self.poll_timeout_ms >= self.interval_ms {
            return Err(ConfigError::PollTimeout {
                poll_timeout_ms: self.poll_timeout_ms,
                interval_ms: self.interval_ms,
            });
        }
        let fenced = self.failed_redis.contains(&StepKind::FenceRedis);
        let (redis_steps, stop_routing) = if fenced {
            (SAFE_FAILED_REDIS, StepKind::FenceRedis)
        } else {
            (FAILED_REDIS, StepKind::UnregisterRedis)
        };
        let mut redis_order = REDIS_ORDER.to_vec();
        redis_order.push((stop_routing, StepKind::PromoteSurvivor));
        check_plan(
            "failed_redis",
            &self.failed_redis,
            redis_steps,
            &redis_order,
        )?;
        check_plan(
            "failed_haproxy",
            &self.failed_haproxy,
            FAILED_HAPROXY,
            HAPROXY_ORDER,
        )
    }
}

fn check_plan(
    name: &str,
    plan: &[StepKind],
    seed: &[StepKind],
    order: &[(StepKind, StepKind)],
) -> Result<(), ConfigError> {
    let mut sorted = plan.to_vec();
    sorted.sort();
    let mut want = seed.to_vec();
    want.sort();
    if sorted != want {
        return Err(ConfigError::Steps {
            plan: name.to_string(),
            expected: seed.to_vec(),
            listed: plan.to_vec(),
        });
    }
    let at = |k: StepKind| plan.iter().position(|s| *s == k);
    for (a, b) in order {
        if let (Some(i), Some(j)) = (at(*a), at(*b)) {
            if i > j {
                return Err(ConfigError::Order {
                    plan: name.to_string(),
                    first: *a,
                    then: *b,
                });
            }
        }
    }
    Ok(())
}
