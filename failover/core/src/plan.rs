//! Recovery plans as data: the seed's bash script's step lists, one named step per line,
//! and the concrete operations a step becomes once the plan knows its machines.

use serde::{Deserialize, Serialize};

use crate::layout::{MachineInfo, MachineRole};

/// One named step of a recovery plan, as the seed wrote them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// Stop polling the failed machine (the controller's own bookkeeping).
    Unmonitor,
    /// Take the failed redis machine's servers out of every healthy redis proxy.
    UnregisterRedis,
    /// Fence the failed redis machine: its servers in maintenance on every monitored
    /// proxy, so none routes to it once a replica is promoted. Unlike `UnregisterRedis` it
    /// does not wait for `del server`, which haproxy refuses while sessions are attached
    /// (about a minute after a silent death): maint alone stops routing.
    FenceRedis,
    /// Make the surviving redis machine master on every port where it is a replica.
    PromoteSurvivor,
    /// Terminate the failed machine's instance.
    Terminate,
    /// Launch a replacement from the image of the failed machine's role.
    Launch,
    /// Wait until the replacement's servers answer (boot, then redis or haproxy up).
    WaitReachable,
    /// Make the replacement redis a replica of the survivor on every port.
    MakeReplica,
    /// Add the replacement redis to every healthy redis proxy (as backup, checks on).
    RegisterRedis,
    /// Give a replacement haproxy the redis servers the controller knows (master first).
    ConfigureHaproxy,
    /// Point the app's haproxy at the replacement haproxy (the seed did this by hand).
    PointApp,
    /// Start polling the replacement.
    Monitor,
}

impl StepKind {
    /// Steps the controller carries out itself, without the shell.
    pub fn is_internal(self) -> bool {
        matches!(self, StepKind::Unmonitor | StepKind::Monitor)
    }
}

/// The seed's `failed_redis`: the same list for a failed master and a failed replica.
pub const FAILED_REDIS: &[StepKind] = &[
    StepKind::Unmonitor,
    StepKind::UnregisterRedis,
    StepKind::PromoteSurvivor,
    StepKind::Terminate,
    StepKind::Launch,
    StepKind::WaitReachable,
    StepKind::MakeReplica,
    StepKind::RegisterRedis,
    StepKind::Monitor,
];

/// The safe policy's `failed_redis`: fenced (maint on every proxy) before the promotion,
/// the old master's machine terminated right after it, and the servers deleted last, once
/// haproxy allows it, so the promotion never waits on `del server`.
pub const SAFE_FAILED_REDIS: &[StepKind] = &[
    StepKind::Unmonitor,
    StepKind::FenceRedis,
    StepKind::PromoteSurvivor,
    StepKind::Terminate,
    StepKind::Launch,
    StepKind::WaitReachable,
    StepKind::MakeReplica,
    StepKind::RegisterRedis,
    StepKind::Monitor,
    StepKind::UnregisterRedis,
];

/// The seed's `failed_haproxy`, with its manual step 5 (DNS / the app's haproxy) automated.
pub const FAILED_HAPROXY: &[StepKind] = &[
    StepKind::Unmonitor,
    StepKind::Terminate,
    StepKind::Launch,
    StepKind::WaitReachable,
    StepKind::ConfigureHaproxy,
    StepKind::PointApp,
    StepKind::Monitor,
];

/// A step made concrete: everything the shell needs to carry it out. Every operation is
/// idempotent, so a step can be retried, and re-run after a controller restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operation {
    /// `set server B/S state maint` + `del server B/S` on each proxy, for each backend.
    Unregister {
        proxies: Vec<String>,
        backends: Vec<String>,
        server: String,
    },
    /// `set server B/S state maint` on each proxy, for each backend.
    Fence {
        proxies: Vec<String>,
        backends: Vec<String>,
        server: String,
    },
    /// `REPLICAOF NO ONE` on each port.
    Promote {
        addr: String,
        ports: Vec<u16>,
    },
    Terminate {
        machine: MachineInfo,
    },
    Launch {
        role: MachineRole,
        token: String,
    },
    /// Poll until every port answers (redis PING, or haproxy's runtime API).
    WaitReachable {
        machine: MachineInfo,
        ports: Vec<u16>,
    },
    /// `REPLICAOF master port` on each port.
    MakeReplica {
        addr: String,
        master_addr: String,
        ports: Vec<u16>,
    },
    /// On each proxy, for each (backend, port): add the server as a checked backup.
    Register {
        proxies: Vec<String>,
        backends: Vec<(String, u16)>,
        server: String,
        addr: String,
    },
    /// Add these servers to the new proxy: (backend, server name, address, port), each as
    /// a checked backup, in order (the master of each port first). They come from the
    /// controller's own picture, not from another proxy, so a proxy can be rebuilt even
    /// when no other proxy is left.
    ConfigureHaproxy {
        addr: String,
        servers: Vec<(String, String, String, u16)>,
    },
    /// `set server B/S addr ...` on the app's haproxy, for each (backend, port).
    PointApp {
        app_addr: String,
        backends: Vec<(String, u16)>,
        server: String,
        addr: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanKind {
    FailedRedis,
    FailedHaproxy,
}

/// A recovery plan in progress; serializable so a restarted controller resumes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: u64,
    pub kind: PlanKind,
    pub steps: Vec<StepKind>,
    pub failed: MachineInfo,
    /// The machine of the same role that takes over: a redis plan needs one (it promotes
    /// it); a proxy plan does not.
    #[serde(default)]
    pub survivor: Option<MachineInfo>,
    /// The app haproxy's server name that pointed at the failed proxy.
    #[serde(default)]
    pub app_slot: Option<String>,
    /// Bound by the Launch step.
    pub replacement: Option<MachineInfo>,
    /// Index of the next step to run; `steps.len()` when done.
    pub next: usize,
    /// Failed attempts of the current step, which set its backoff (waits for cloud
    /// capacity are not counted: they have their own fixed wait).
    pub attempts: u32,
    /// The current step may not start before this time (backoff after a failure). Like
    /// every time here, on the current controller process's clock: a restore moves it.
    pub not_before_ms: u64,
    /// The current step was handed to the shell and has not finished.
    pub in_flight: bool,
    pub started_ms: u64,
    #[serde(default)]
    pub finished_ms: Option<u64>,
}

impl Plan {
    pub fn is_done(&self) -> bool {
        self.next >= self.steps.len()
    }

    pub fn current(&self) -> Option<StepKind> {
        self.steps.get(self.next).copied()
    }
}
