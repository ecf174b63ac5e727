//! A fault: one thing the nemesis does to the lab at one simulated time.
//!
//! In a file each fault is a `[[faults]]` table with `at`, `kind` and the fields of that
//! kind; [`crate::file`] turns those tables into these values and back.

use crate::duration::SimDuration;

/// One scheduled fault.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// `at`: when the fault takes effect, from the start of the run (required; before
    /// the end of the run).
    pub at: SimDuration,
    /// `kind` and the fields of that kind.
    pub action: FaultAction,
}

/// What a fault does. Machine names are the topology's (see [`crate::Topology::lab`]); a
/// fault that heals (`heal_after`, `for`) must heal before the end of the run, and without
/// it the fault lasts until the end.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultAction {
    /// `kind = "crash"`, `machine`: the machine dies silently; its peers hear nothing and
    /// hang until their own timeouts.
    Crash { machine: String },
    /// `kind = "kill"`, `machine`, `process`: SIGKILL of one process (`redis-<port>` for
    /// each redis port of the topology on redis machines, e.g. `redis-9001`; `haproxy` on
    /// haproxy1, haproxy2, app); the machine closes its connections.
    Kill { machine: String, process: String },
    /// `kind = "stop"`, `machine`, `process`: SIGTERM of one process (what `systemctl stop`
    /// sends), on the same processes as `kill`. A redis server waits for its replicas to
    /// catch up (up to 10 s), saves its snapshot to the machine's disk, then exits; other
    /// processes exit at once.
    Stop { machine: String, process: String },
    /// `kind = "restart"`, `machine`, `process`: start a killed or stopped process again on
    /// the same machine; a redis loads the last snapshot on the machine's disk (Debian's
    /// `save 3600 1 300 100 60 10000`, no AOF), so it comes back with what its last save
    /// or stop saved, or empty if neither happened.
    Restart { machine: String, process: String },
    /// `kind = "pause"`, `machine`, `process`, `for` (optional): SIGSTOP, then SIGCONT after
    /// `for`; the process accepts connections but answers nothing meanwhile.
    Pause {
        machine: String,
        process: String,
        duration: Option<SimDuration>,
    },
    /// `kind = "partition"`, `groups` (two or more disjoint, non-empty lists of machines),
    /// `heal_after` (optional): traffic between machines of different groups is held both
    /// ways; machines in no group are unaffected.
    Partition {
        groups: Vec<Vec<String>>,
        heal_after: Option<SimDuration>,
    },
    /// `kind = "partition-oneway"`, `from`, `to`, `heal_after` (optional): packets from
    /// `from` to `to` are held; the other direction still flows.
    PartitionOneway {
        from: Vec<String>,
        to: Vec<String>,
        heal_after: Option<SimDuration>,
    },
    /// `kind = "latency"`, `between` (exactly two groups), `latency`, `heal_after`
    /// (optional): one-way latency between the groups becomes `latency`.
    Latency {
        between: [Vec<String>; 2],
        latency: SimDuration,
        heal_after: Option<SimDuration>,
    },
    /// `kind = "loss"`, `between` (exactly two groups), `rate` (0 < rate < 1),
    /// `heal_after` (optional): that fraction of packets between the groups is dropped.
    Loss {
        between: [Vec<String>; 2],
        rate: f64,
        heal_after: Option<SimDuration>,
    },
    /// `kind = "launch-fails"`, `count` (default 1): the cloud's next `count` launches fail
    /// with InsufficientInstanceCapacity.
    LaunchFails { count: u32 },
    /// `kind = "slow-boot"`, `extra`, `count` (default 1): the next `count` launched
    /// instances take `extra` longer to boot.
    SlowBoot { extra: SimDuration, count: u32 },
}

/// Every `kind`, in the order error messages list them.
pub const FAULT_KINDS: [&str; 11] = [
    "crash",
    "kill",
    "stop",
    "restart",
    "pause",
    "partition",
    "partition-oneway",
    "latency",
    "loss",
    "launch-fails",
    "slow-boot",
];

impl FaultAction {
    /// The `kind` written in a file.
    pub fn kind(&self) -> &'static str {
        match self {
            FaultAction::Crash { .. } => "crash",
            FaultAction::Kill { .. } => "kill",
            FaultAction::Stop { .. } => "stop",
            FaultAction::Restart { .. } => "restart",
            FaultAction::Pause { .. } => "pause",
            FaultAction::Partition { .. } => "partition",
            FaultAction::PartitionOneway { .. } => "partition-oneway",
            FaultAction::Latency { .. } => "latency",
            FaultAction::Loss { .. } => "loss",
            FaultAction::LaunchFails { .. } => "launch-fails",
            FaultAction::SlowBoot { .. } => "slow-boot",
        }
    }

    /// How long after `at` the fault is undone, if it is.
    pub fn heals_after(&self) -> Option<SimDuration> {
        match self {
            FaultAction::Pause { duration, .. } => *duration,
            FaultAction::Partition { heal_after, .. }
            | FaultAction::PartitionOneway { heal_after, .. }
            | FaultAction::Latency { heal_after, .. }
            | FaultAction::Loss { heal_after, .. } => *heal_after,
            _ => None,
        }
    }
}
