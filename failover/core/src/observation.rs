//! What the shell tells the controller: the world as polled, and how actions went.

use serde::{Deserialize, Serialize};

use crate::error::{ServerError, StepError};
use crate::event::ServerStatus;
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

/// One server row of an haproxy's `show stat`: what that proxy sees of one redis server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStat {
    pub backend: String,
    pub server: String,
    pub status: ServerStatus,
    /// UP but its last checks failed (`UP 1/3`): haproxy's count toward DOWN has begun.
    pub checks_failing: bool,
}

/// What a step produced, when it produces something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepOutput {
    Done,
    /// A new machine was launched (or found already launched for this plan's token).
    Launched(MachineInfo),
}

/// What the shell saw: a poll's answer or a step's result. Time is not an observation:
/// the controller says when it next needs to act
/// ([`Controller::next_deadline`](crate::controller::Controller::next_deadline)) and is
/// woken with [`Controller::handle_timeout`](crate::controller::Controller::handle_timeout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Observation {
    /// One redis server's poll: its status, or why it did not answer.
    RedisPolled {
        machine: String,
        port: u16,
        result: Result<RedisStatus, ServerError>,
    },
    /// One haproxy's poll: the server rows of its `show stat`, or why it did not answer.
    HaproxyPolled {
        machine: String,
        result: Result<Vec<ServerStat>, ServerError>,
    },
    /// A step of a recovery plan finished.
    StepFinished {
        plan: u64,
        step: usize,
        result: Result<StepOutput, StepError>,
    },
}
