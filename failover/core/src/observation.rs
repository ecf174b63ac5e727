//! What the shell tells the controller: the world as polled, and how actions went.

use serde::{Deserialize, Serialize};

use crate::layout::MachineInfo;

/// A redis server's answer to the health poll (PING, then INFO replication).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RedisStatus {
    Master {
        offset: u64,
    },
    Replica {
        master_host: String,
        master_port: u16,
        link_up: bool,
        offset: u64,
    },
}

/// What a step produced, when it produces something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepOutput {
    Done,
    /// A new machine was launched (or found already launched for this plan's token).
    Launched(MachineInfo),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Observation {
    /// A new detection cycle starts.
    Tick,
    /// One redis server's poll: its status, or why it did not answer.
    RedisPolled {
        machine: String,
        port: u16,
        result: Result<RedisStatus, String>,
    },
    /// One haproxy's poll (its runtime API answered `show stat`, or not).
    HaproxyPolled {
        machine: String,
        result: Result<(), String>,
    },
    /// A step of a recovery plan finished.
    StepFinished {
        plan: u64,
        step: usize,
        result: Result<StepOutput, String>,
    },
}
