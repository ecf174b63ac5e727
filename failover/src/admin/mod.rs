//! The admin clients through which the controller acts on the world: redis servers
//! ([`redis`]) and haproxy runtime APIs ([`haproxy`]; [`stat`] reads `show stat`). Both are generic over a
//! [`Connector`](crate::effects::Connector), so the lab drives them over turmoil and
//! `failoverd` over tokio.
//!
//! Every call is bounded by the timeout the client was built with, and a reply the client
//! did not expect is an [`AdminError`] naming the server, the command and the reply text:
//! the controller records it and decides, it never panics on what a server said.

pub mod haproxy;
pub mod redis;
pub mod stat;

use std::future::Future;
use std::time::Duration;

pub use haproxy::{CheckParams, HaproxyAdmin, ServerRow};
pub use redis::RedisAdmin;

use crate::error::ServerError;

/// Why an admin call failed. Each variant names the server (`host:port`) so that a trace
/// of failed steps reads without context.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        host: String,
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("{host}:{port} did not finish `{what}` within {after:?}")]
    Timeout {
        host: String,
        port: u16,
        what: String,
        after: Duration,
    },
    #[error("{host}:{port} answered `{command}` with {reply:?}")]
    UnexpectedReply {
        host: String,
        port: u16,
        command: String,
        reply: String,
    },
    #[error("{host}:{port} closed the connection before answering `{command}`")]
    Closed {
        host: String,
        port: u16,
        command: String,
    },
    #[error("i/o error on {host}:{port} during `{command}`: {source}")]
    Io {
        host: String,
        port: u16,
        command: String,
        #[source]
        source: std::io::Error,
    },
}

impl AdminError {
    /// A reply that is not what `command` should get.
    pub(crate) fn unexpected(host: &str, port: u16, command: &str, reply: &str) -> Self {
        AdminError::UnexpectedReply {
            host: host.to_string(),
            port,
            command: command.to_string(),
            reply: reply.to_string(),
        }
    }
}

/// The serializable form the controller is told: the same texts, the `std::io::Error`
/// sources kept as text.
impl From<AdminError> for ServerError {
    fn from(e: AdminError) -> Self {
        let server = |host: &str, port: u16| format!("{host}:{port}");
        match e {
            AdminError::Connect { host, port, source } => ServerError::Connect {
                server: server(&host, port),
                reason: source.to_string(),
            },
            AdminError::Timeout {
                host,
                port,
                what,
                after,
            } => ServerError::Timeout {
                server: server(&host, port),
                what,
                after_ms: after.as_millis() as u64,
            },
            AdminError::UnexpectedReply {
                host,
                port,
                command,
                reply,
            } => ServerError::Protocol {
                server: server(&host, port),
                command,
                reply,
            },
            AdminError::Closed {
                host,
                port,
                command,
            } => ServerError::Closed {
                server: server(&host, port),
                command,
            },
            AdminError::Io {
                host,
                port,
                command,
                source,
            } => ServerError::Io {
                server: server(&host, port),
                command,
                reason: source.to_string(),
            },
        }
    }
}

/// Runs `call` (connect included) under `after`, naming `what` if it runs out. The
/// deadline covers the whole exchange, so a server that accepts and never answers costs
/// the caller at most `after`.
pub(crate) async fn bounded<T>(
    host: &str,
    port: u16,
    what: &str,
    after: Duration,
    call: impl Future<Output = Result<T, AdminError>>,
) -> Result<T, AdminError> {
    match tokio::time::timeout(after, call).await {
        Ok(result) => result,
        Err(_) => Err(AdminError::Timeout {
            host: host.to_string(),
            port,
            what: what.to_string(),
            after,
        }),
    }
}
