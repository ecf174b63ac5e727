//! Events: what happened, as typed values. The controller emits its own (a machine failed,
//! a plan started, a step failed); a world records what its machines did (a redis promoted,
//! an haproxy server marked DOWN, a fault took effect). Checkers read these values, never
//! log text, so log lines can change freely; `trace.jsonl` and failoverd's audit log are
//! renderings of them.
//!
//! Who an event happened to (the machine, "nemesis", "ec2", "controller") travels beside
//! it, in the trace entry; the event says what happened.

use serde::{Deserialize, Serialize};

use crate::budget::Refusal;
use crate::error::StepError;
use crate::layout::MachineRole;
use crate::plan::{PlanKind, StepKind};
use crate::promotion::Ineligible;

/// Where an haproxy server went: haproxy logs "is UP", "is DOWN" and "is going DOWN for
/// maintenance".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerStatus {
    Up,
    Down,
    Maint,
}

/// Why a machine monit failed is not failed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unrecoverable {
    /// No other healthy machine of its role is left to take over.
    NoSurvivor { role: MachineRole },
    /// Proxies still route to it: monit is the one cut off (see `crate::quorum`).
    MonitorCutOff { proxies: Vec<String> },
    /// No proxy answered, so nobody confirms monit's view.
    Unconfirmed,
    /// No replica may be promoted (see `crate::promotion`): each one and why not.
    NoEligibleReplica { rejected: Vec<(String, Ineligible)> },
    /// The anti-flapping window or the launch budget refuses (see `crate::budget`).
    Budget(Refusal),
}

impl std::fmt::Display for Unrecoverable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unrecoverable::NoSurvivor { role } => {
                write!(f, "no healthy {} machine is left to take over", role.name())
            }
            Unrecoverable::MonitorCutOff { proxies } => write!(
                f,
                "monit's polls fail but {} still route to it: monit is cut off",
                proxies.join(", ")
            ),
            Unrecoverable::Unconfirmed => {
                write!(f, "monit's polls fail and no haproxy answered to confirm")
            }
            Unrecoverable::NoEligibleReplica { rejected } => {
                write!(f, "no replica may be promoted:")?;
                for (machine, why) in rejected {
                    write!(f, " {machine} ({why:?})")?;
                }
                Ok(())
            }
            Unrecoverable::Budget(refusal) => write!(f, "{refusal}"),
        }
    }
}

impl Unrecoverable {
    /// A short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Unrecoverable::NoSurvivor { .. } => "no-survivor",
            Unrecoverable::MonitorCutOff { .. } => "monitor-cut-off",
            Unrecoverable::Unconfirmed => "unconfirmed",
            Unrecoverable::NoEligibleReplica { .. } => "no-eligible-replica",
            Unrecoverable::Budget(Refusal::Flapping { .. }) => "flapping",
            Unrecoverable::Budget(Refusal::LaunchBudget { .. }) => "launch-budget",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    // The controller's decisions.
    /// A machine failed `failures` detection cycles in a row.
    MachineFailed {
        machine: String,
        failures: u32,
    },
    /// A machine monit failed is not failed over now: an alert for a person (failoverd
    /// counts it), said once until the reason goes away.
    CannotRecover {
        machine: String,
        why: Unrecoverable,
    },
    PlanStarted {
        plan: u64,
        kind: PlanKind,
        failed: String,
        survivor: Option<String>,
    },
    StepStarted {
        plan: u64,
        step: usize,
        kind: StepKind,
    },
    StepDone {
        plan: u64,
        step: usize,
        kind: StepKind,
    },
    StepFailed {
        plan: u64,
        step: usize,
        kind: StepKind,
        error: StepError,
        retry_in_ms: u64,
    },
    PlanFinished {
        plan: u64,
        replacement: Option<String>,
    },
    /// A restarted controller resumed from its saved state.
    Resumed {
        plans: usize,
    },
    /// The controller could not start (bad settings, unreadable state).
    ControllerCannotStart {
        error: String,
    },

    // Redis servers.
    RedisReady {
        port: u16,
    },
    /// The first write a server accepted since it became master.
    WriteAccepted {
        port: u16,
    },
    /// `REPLICAOF NO ONE` on a replica.
    Promoted {
        port: u16,
    },
    /// `REPLICAOF host port`: the server is now a replica of `master` (`host:port`).
    ReplicaOf {
        port: u16,
        master: String,
    },
    /// A replica's link to its master is up again, after a full or a partial sync.
    SyncFinished {
        port: u16,
        partial: bool,
    },
    /// A replica lost its link to its master.
    LinkDown {
        port: u16,
        master: String,
        error: String,
    },
    /// A master accepted a replica's PSYNC as a partial resync.
    PartialResyncAccepted {
        port: u16,
    },
    /// A master sent a replica a full sync of `bytes`.
    FullSyncSent {
        port: u16,
        bytes: usize,
    },
    /// A master lost its connection with a replica.
    ReplicaLost {
        port: u16,
        error: String,
    },
    /// A server saved an RDB snapshot of `keys` keys to its machine's disk (a save rule,
    /// SAVE, BGSAVE, or the final snapshot of a SIGTERM).
    SnapshotSaved {
        port: u16,
        keys: usize,
    },
    /// A starting server loaded the snapshot on its machine's disk.
    SnapshotLoaded {
        port: u16,
        keys: usize,
    },

    // Haproxy.
    HaproxyStarted,
    /// A server changed state: haproxy's "Server B/S is UP|DOWN, reason: ..." line.
    ServerState {
        backend: String,
        server: String,
        status: ServerStatus,
        reason: String,
        active_left: usize,
        backup_left: usize,
    },
    /// Sessions of a server closed because it went DOWN or into maint.
    SessionsShutDown {
        server: String,
        sessions: usize,
    },
    /// One runtime-API command and its reply.
    RuntimeApi {
        command: String,
        reply: String,
    },

    // Machines and their processes.
    /// A process command (kill, stop, start, pause, resume) reached the machine's supervisor.
    ProcessCommand {
        command: String,
        process: String,
        took_effect: bool,
    },

    // The nemesis.
    FaultScheduled {
        fault: usize,
        kind: String,
    },
    FaultTookEffect {
        fault: usize,
        kind: String,
        /// The machine it acted on, when it acts on one.
        machine: Option<String>,
        process: Option<String>,
        detail: Option<String>,
    },
    FaultHealed {
        fault: usize,
        kind: String,
    },
    FaultHadNoEffect {
        fault: usize,
        kind: String,
        why: String,
    },

    // The cloud.
    InstanceLaunched {
        instance: String,
        name: String,
        addr: String,
        role: MachineRole,
        token: String,
        running_ms: u64,
        boot_ms: u64,
    },
    /// A launch with a token already used returned the same instance.
    LaunchRepeated {
        instance: String,
        name: String,
        token: String,
    },
    LaunchFailed {
        role: MachineRole,
        token: String,
        fault: Option<usize>,
        error: String,
    },
    InstanceTerminating {
        instance: String,
        name: String,
    },
    /// A terminated instance's machine is gone.
    InstanceTerminated {
        instance: String,
        name: String,
    },
    MachineBooted {
        instance: String,
        name: String,
        role: MachineRole,
        after_ms: u64,
    },

    // The world itself.
    /// The simulation (or the real-process world) stopped early.
    WorldStopped {
        error: String,
    },
}
