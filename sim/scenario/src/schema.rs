//! A scenario as the lab uses it, and the reference for people writing scenario files: each
//! field's doc comment says what the TOML key means and what it defaults to.
//!
//! The tables here (`[topology]`, `[workload]`, `[expect]`, `[failover]`) are read straight
//! from TOML; the top level (with its [`Status`]) and the `[[faults]]` go through the file
//! form in [`crate::file`] so that each fault kind and status gets its own checks and
//! messages.
//!
//! Every number has a bound, so an accepted file runs in bounded time and memory:
//! `duration` at most 1h (any duration at most 24h); `topology.tick` 1ms to 10ms,
//! `topology.latency` at most 10s, `topology.redis_ports` 1 to 32; `workload.clients` 1 to
//! 1000, `workload.rate` 1 to 10000, `workload.timeout` at most 60s; `failover.policy`
//! `"seed"` or `"safe"`, `failover.interval` 10ms to 10m, `failover.fail_count` 1 to 100; a cloud fault's `count` 1 to 100. The file
//! itself is at most 4 MiB. The constants are in `validate.rs`.

pub use failover_core::config::Policy;
use failover_core::layout::Topology as LabTopology;

use serde::{Deserialize, Serialize};

use crate::duration::SimDuration;
use crate::fault::Fault;

/// One scenario: how long the lab runs, under which seed, with which load and faults.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// `description`: one line for reports (optional, default empty).
    pub description: String,
    /// `status` and `reason`: whether the run passes at its pinned seed (required).
    pub status: Status,
    /// `duration`: simulated time the run lasts (required), e.g. `"2m"`.
    pub duration: SimDuration,
    /// `seed`: the pinned seed (required, 0 to 2^63-1); `failover-sim --seed` overrides it.
    pub seed: u64,
    /// `[topology]`: the simulated network (optional).
    pub topology: Topology,
    /// `[workload]`: the app's clients (optional).
    pub workload: Workload,
    /// `[failover]`: settings of the failover controller (optional).
    pub failover: FailoverSettings,
    /// `[expect]`: what the checkers must find for the run to pass (optional).
    pub expect: Expect,
    /// `[[faults]]`: what the nemesis does and when, in file order.
    pub faults: Vec<Fault>,
}

/// `status`: what a run at the pinned seed is expected to give. Required in a file, with no
/// default, so that every scenario says whether its failure is news: a scenario written
/// without one fails to load rather than being taken for either.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// `status = "must-pass"`: every expectation met and every fault taken effect. A
    /// failure is a regression. Takes no `reason` (what it checks is its `description`):
    /// a reason left over from a fixed weakness would tell the next reader something false.
    MustPass,
    /// `status = "known-weakness"` with `reason = "..."` (non-empty): an expectation fails
    /// today, for the reason given. A run that starts passing is news too (the weakness is
    /// fixed, or the scenario no longer reaches it) and must be looked at.
    KnownWeakness {
        /// What the weakness is, in a line.
        reason: String,
    },
}

impl Status {
    /// The values `status` takes, in the order messages list them.
    pub const NAMES: [&'static str; 2] = ["must-pass", "known-weakness"];

    /// The value of `status` in a file.
    pub fn name(&self) -> &'static str {
        match self {
            Status::MustPass => Self::NAMES[0],
            Status::KnownWeakness { .. } => Self::NAMES[1],
        }
    }

    /// The known weakness's reason; `None` for must-pass.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Status::MustPass => None,
            Status::KnownWeakness { reason } => Some(reason),
        }
    }
}

/// `[topology]`: the seed lab's network and how many redis servers each redis machine
/// holds. The machines are always the seed's six; everything else about them (ports,
/// processes, proxies) is derived from [`Topology::lab`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Topology {
    /// `latency`: one-way latency between any two machines (default `"1ms"`).
    pub latency: SimDuration,
    /// `tick`: the simulation's step (default `"1ms"`; at least 1ms, since tokio timers are
    /// whole milliseconds).
    pub tick: SimDuration,
    /// `redis_ports`: redis servers per redis machine, on ports 9001 to 9000 + N, served by
    /// the proxies on 8001 to 8000 + N and by the app's haproxy on 7001 to 7000 + N
    /// (default 2, the seed's; 1 to 32, see
    /// [`failover_core::layout::Topology::REDIS_PORTS`]).
    pub redis_ports: u16,
}

impl Topology {
    /// The lab's machines and ports. Panics if `redis_ports` is out of range, which a
    /// parsed scenario never is.
    pub fn lab(&self) -> LabTopology {
        LabTopology::with_redis_ports(self.redis_ports)
            .unwrap_or_else(|e| panic!("an unchecked scenario topology: {e}"))
    }
}

impl Default for Topology {
    fn default() -> Self {
        Topology {
            latency: SimDuration::from_millis(1),
            tick: SimDuration::from_millis(1),
            redis_ports: LabTopology::seed().redis_ports,
        }
    }
}

/// `[workload]`: the app's clients, which write and read through the app's local haproxy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workload {
    /// `clients`: concurrent clients (default 4, at least 1).
    pub clients: u32,
    /// `rate`: operations per second, all clients together (default 100, at least 1).
    pub rate: u32,
    /// `ports`: the app's local haproxy ports the clients use, spread over the clients
    /// (client `i` uses `ports[i % len]`; default every app port of the topology, 7001 to
    /// 7000 + `redis_ports`, which are also the only valid ones).
    pub ports: Vec<u16>,
    /// `timeout`: per-operation client timeout (default `"1s"`); an operation that times out
    /// is recorded as unknown.
    pub timeout: SimDuration,
    /// `start`: when the clients start (default `"10s"`, once the replicas have synced).
    pub start: SimDuration,
    /// `stop`: when the clients stop issuing operations (optional). Absent, it is 10s before
    /// the end of the run (but not before `start`), which leaves time for operations in
    /// flight to finish before the checkers read the final state. See [`Workload::stop_at`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<SimDuration>,
    /// `mix`: relative weights of the operations (default write 40, read 30, incr 15,
    /// rpush 15).
    pub mix: Mix,
}

impl Workload {
    /// How long before the end of the run the clients stop when `stop` is absent.
    pub const SETTLE: SimDuration = SimDuration::from_secs(10);

    /// When the clients stop in a run of `duration`: `stop`, or `duration - 10s` but not
    /// before `start`.
    pub fn stop_at(&self, duration: SimDuration) -> SimDuration {
        self.stop
            .unwrap_or_else(|| duration.saturating_sub(Self::SETTLE).max(self.start))
    }
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            clients: 4,
            rate: 100,
            ports: LabTopology::seed().app_ports(),
            timeout: SimDuration::from_secs(1),
            start: SimDuration::from_secs(10),
            stop: None,
            mix: Mix::default(),
        }
    }
}

/// `mix`: relative weights of the operations. A weight left out of a written `mix` is 0
/// (so `mix = { write = 1 }` means writes only); a `mix` left out altogether is the seed's
/// 40/30/15/15. At least one weight must be above 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    /// `write`: SET of a fresh value.
    #[serde(default)]
    pub write: u32,
    /// `read`: GET of a written key.
    #[serde(default)]
    pub read: u32,
    /// `incr`: INCR of a counter.
    #[serde(default)]
    pub incr: u32,
    /// `rpush`: RPUSH onto a list.
    #[serde(default)]
    pub rpush: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            write: 40,
            read: 30,
            incr: 15,
            rpush: 15,
        }
    }
}

/// `[expect]`: bounds the checkers enforce (a later issue). Every bound is optional; an
/// absent bound is not checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Expect {
    /// `max_lost_writes`: acknowledged writes that may be missing at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_lost_writes: Option<u64>,
    /// `max_failed_requests`: operations that may fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_failed_requests: Option<u64>,
    /// `max_unavailability`: the longest window with no successful operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_unavailability: Option<SimDuration>,
    /// `max_total_unavailability`: all unavailability windows added up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_total_unavailability: Option<SimDuration>,
    /// `redundancy_within`: full redundancy (a master and a synced replica behind both
    /// haproxies) must be back within this long after the last fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redundancy_within: Option<SimDuration>,
    /// `max_split_brain`: the longest time two masters may both accept writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_split_brain: Option<SimDuration>,
    /// `max_false_failovers`: failovers of a redis machine that was serving (no crash,
    /// kill, stop or pause of it in effect, and a proxy could reach it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_false_failovers: Option<u64>,
}

/// `[failover]`: settings of the failover controller on monit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FailoverSettings {
    /// `policy`: the failover design the lab runs, `"safe"` (the default) or `"seed"` (the
    /// seed as written: monit's cycle with a 5 s connect timeout and its tests one after
    /// another, haproxy checks `inter 5s fall 3`, the bash script's step order).
    #[serde(with = "policy_name")]
    pub policy: Policy,
    /// `interval`: monit's cycle, the time between detection cycles (10ms to 10m). Default
    /// `"1s"` under `safe`; `"120s"` under `seed` (Debian's `set daemon 120`), where it
    /// counts from the end of a cycle's last test, as monit sleeps between cycles.
    pub interval: SimDuration,
    /// `fail_count`: failed cycles in a row before a resource counts as failed (default 3,
    /// the seed's "3 cycles"; 1 to 100).
    pub fail_count: u32,
}

/// `policy` as its name, so a wrong one is told the valid names (toml's own message for a
/// bad enum value is "wanted string or table").
mod policy_name {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Policy;

    pub fn serialize<S: Serializer>(policy: &Policy, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(policy.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Policy, D::Error> {
        let name = String::deserialize(d)?;
        Policy::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                let valid: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
                D::Error::custom(format!(
                    "unknown policy '{}'; valid policies: {}",
                    crate::error::printable(&name),
                    valid.join(", ")
                ))
            })
    }
}

impl FailoverSettings {
    /// The interval a file that does not set one gets under `policy`.
    pub const fn default_interval(policy: Policy) -> SimDuration {
        match policy {
            Policy::Seed => {
                SimDuration::from_millis(failover_core::config::ControllerConfig::MONIT_CYCLE_MS)
            }
            Policy::Safe => SimDuration::from_secs(1),
        }
    }

    /// The defaults of `policy`.
    pub fn of(policy: Policy) -> Self {
        FailoverSettings {
            policy,
            interval: Self::default_interval(policy),
            fail_count: 3,
        }
    }
}

impl Default for FailoverSettings {
    fn default() -> Self {
        Self::of(Policy::default())
    }
}
