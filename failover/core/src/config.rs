//! The controller's settings and the deployment it starts from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::layout::{Layout, MachineInfo};
use crate::plan::{StepKind, FAILED_HAPROXY, FAILED_REDIS};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControllerConfig {
    /// Time between detection cycles (monit's poll interval).
    pub interval_ms: u64,
    /// Failed cycles in a row before a machine is declared failed (the seed's 3).
    pub fail_count: u32,
    /// How long one poll may take; below `interval_ms` so a cycle's results are in before
    /// the next cycle starts.
    pub poll_timeout_ms: u64,
    /// Backoff of a failed step: doubles from min to max.
    pub retry_min_ms: u64,
    pub retry_max_ms: u64,
    /// How long WaitReachable waits for a new machine before the step fails (and is retried).
    pub reachable_timeout_ms: u64,
    /// Health checks of servers the controller adds to haproxy.
    pub check_inter_ms: u64,
    pub check_fall: u32,
    pub check_rise: u32,
    /// The recovery plans, as lists of named steps.
    pub failed_redis: Vec<StepKind>,
    pub failed_haproxy: Vec<StepKind>,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            interval_ms: 1000,
            fail_count: 3,
            poll_timeout_ms: 800,
            retry_min_ms: 1000,
            retry_max_ms: 30_000,
            reachable_timeout_ms: 600_000,
            check_inter_ms: 1000,
            check_fall: 3,
            check_rise: 2,
            failed_redis: FAILED_REDIS.to_vec(),
            failed_haproxy: FAILED_HAPROXY.to_vec(),
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
const REDIS_ORDER: &[(StepKind, StepKind)] = &[
    (StepKind::Unmonitor, StepKind::PromoteSurvivor),
    (StepKind::UnregisterRedis, StepKind::PromoteSurvivor),
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
    pub fn validate(&self) -> Result<(), String> {
        if self.fail_count == 0 || self.interval_ms == 0 {
            return Err("interval_ms and fail_count must be at least 1".into());
        }
        if self.poll_timeout_ms >= self.interval_ms {
            return Err(format!(
                "poll_timeout_ms ({}) must be below interval_ms ({}) so that a cycle's polls end before the next cycle",
                self.poll_timeout_ms, self.interval_ms
            ));
        }
        check_plan(
            "failed_redis",
            &self.failed_redis,
            FAILED_REDIS,
            REDIS_ORDER,
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
) -> Result<(), String> {
    let mut sorted = plan.to_vec();
    sorted.sort();
    let mut want = seed.to_vec();
    want.sort();
    if sorted != want {
        return Err(format!(
            "{name} must list each of these steps once: {seed:?}; it lists {plan:?}"
        ));
    }
    let at = |k: StepKind| plan.iter().position(|s| *s == k);
    for (a, b) in order {
        if let (Some(i), Some(j)) = (at(*a), at(*b)) {
            if i > j {
                return Err(format!("{name}: {a:?} must come before {b:?}"));
            }
        }
    }
    Ok(())
}
