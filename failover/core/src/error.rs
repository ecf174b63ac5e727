//! Why things fail, as types: what the shell reports back (a poll, a step), what the
//! controller finds missing before a step can run, and what is wrong with a configuration
//! or a saved state. The controller decides on the kind (a capacity shortage waits longer
//! than a refused connection); people read the `Display` texts, in logs and traces.
//!
//! Serializable because failures travel inside the saved state's events and the lab's
//! traces; so no `std::io::Error` here, only its text.

use serde::{Deserialize, Serialize};

use crate::plan::StepKind;

/// A conversation with one server (a redis server, a haproxy runtime API) that did not
/// give the answer asked for. Polls and steps talk to the same servers and fail the same
/// ways. `server` is `host:port`, so a trace of failures reads without context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum ServerError {
    /// The connection was not opened: refused, unreachable, reset during the handshake.
    #[error("cannot connect to {server}: {reason}")]
    Connect { server: String, reason: String },
    /// No complete answer in time. A partitioned or dead machine looks like this.
    #[error("{server} did not finish `{what}` within {after_ms} ms")]
    Timeout {
        server: String,
        what: String,
        after_ms: u64,
    },
    /// The server answered, but not what the command should get (an error reply, a
    /// malformed or unexpected one).
    #[error("{server} answered `{command}` with {reply:?}")]
    Protocol {
        server: String,
        command: String,
        reply: String,
    },
    #[error("{server} closed the connection before answering `{command}`")]
    Closed { server: String, command: String },
    #[error("i/o error on {server} during `{command}`: {reason}")]
    Io {
        server: String,
        command: String,
        reason: String,
    },
}

/// A failed call to the cloud's API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum CloudError {
    /// EC2's `InsufficientInstanceCapacity`: none of the instance type is free in the
    /// zone now. It passes; EC2 advises trying again a few minutes later.
    #[error("InsufficientInstanceCapacity: {0}")]
    Capacity(String),
    #[error("no such instance: {0}")]
    NotFound(String),
    #[error("cloud error: {0}")]
    Other(String),
}

/// Why the controller did not hand a plan's current step to the shell yet: something the
/// step needs is not there. The step is retried with backoff, like a failed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum NotReady {
    #[error("step {step:?} needs a surviving machine; this plan has none")]
    NoSurvivor { step: StepKind },
    #[error("step {step:?} needs the replacement, which is not launched")]
    NotLaunched { step: StepKind },
    /// Registration waits until the machine answered once (WaitReachable), so haproxy
    /// never gets a server nobody has seen working.
    #[error("{machine} has not been seen healthy yet")]
    NotSeenHealthy { machine: String },
    #[error("no app server points at {machine}")]
    NoAppSlot { machine: String },
    #[error("{step:?} is carried out by the controller itself")]
    Internal { step: StepKind },
}

/// Why a step of a recovery plan failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum StepError {
    /// A redis or haproxy admin command failed.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The cloud refused or failed; a capacity shortage has its own retry policy.
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// The new machine did not answer on every port within `reachable_timeout_ms`.
    #[error("{machine} not reachable after {after_ms} ms: {last}")]
    NotReachable {
        machine: String,
        after_ms: u64,
        last: ServerError,
    },
    #[error("{machine} has no instance id to terminate")]
    NoInstanceId { machine: String },
    #[error(transparent)]
    NotReady(#[from] NotReady),
}

impl StepError {
    /// A shortage that passes by itself: waiting is the remedy, not backing off harder.
    pub fn is_capacity(&self) -> bool {
        matches!(self, StepError::Cloud(CloudError::Capacity(_)))
    }
}

/// A configuration the controller refuses to start with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigError {
    #[error("{setting} must be at least 1")]
    Zero { setting: String },
    #[error("poll_timeout_ms ({poll_timeout_ms}) must be below interval_ms ({interval_ms}) so that a cycle's polls end before the next cycle")]
    PollTimeout {
        poll_timeout_ms: u64,
        interval_ms: u64,
    },
    #[error("{plan} must list each of these steps once: {expected:?}; it lists {listed:?}")]
    Steps {
        plan: String,
        expected: Vec<StepKind>,
        listed: Vec<StepKind>,
    },
    /// The order would break a promise (a second master, a server registered unseen).
    #[error("{plan}: {first:?} must come before {then:?}")]
    Order {
        plan: String,
        first: StepKind,
        then: StepKind,
    },
}

/// A saved state the controller cannot resume from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum RestoreError {
    #[error("the saved controller state is unreadable: {0}")]
    Unreadable(String),
}

/// Why a controller did not start: its configuration, or the state it was to resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Restore(#[from] RestoreError),
}
