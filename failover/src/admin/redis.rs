//! Commands the controller sends to one redis server: the health poll (PING, then
//! INFO replication), promotion, re-pointing a replica, and cutting clients off.
//!
//! Each call opens a fresh connection: calls are rare (a poll per second, a handful per
//! failover), and a fresh connection never inherits a half-read reply from a call that
//! timed out.

use std::time::Duration;

use redis_protocol::resp2::types::OwnedFrame;

use super::{bounded, AdminError};
use crate::effects::Connector;
use crate::observation::RedisStatus;
use crate::resp::{render, RespConnection, RespError};

/// The admin client of redis servers, reached through `connector`.
pub struct RedisAdmin<C> {
    connector: C,
    timeout: Duration,
}

impl<C: Connector> RedisAdmin<C> {
    /// `timeout` bounds each call as a whole: connect plus every command it sends.
    pub fn new(connector: C, timeout: Duration) -> Self {
        Self { connector, timeout }
    }

    /// PING (must answer `+PONG`), then INFO replication, parsed.
    pub async fn status(&self, host: &str, port: u16) -> Result<RedisStatus, AdminError> {
        bounded(host, port, "PING; INFO replication", self.timeout, async {
            let mut conn = self.open(host, port).await?;
            let pong = command(&mut conn, host, port, &["PING"]).await?;
            if !matches!(&pong, OwnedFrame::SimpleString(s) if s == b"PONG") {
                return Err(AdminError::unexpected(host, port, "PING", &render(&pong)));
            }
            let args = ["INFO", "replication"];
            let info = command(&mut conn, host, port, &args).await?;
            let OwnedFrame::BulkString(text) = &info else {
                return Err(AdminError::unexpected(
                    host,
                    port,
                    "INFO replication",
                    &render(&info),
                ));
            };
            let text = String::from_utf8_lossy(text);
            parse_replication(&text)
                .ok_or_else(|| AdminError::unexpected(host, port, "INFO replication", &text))
        })
        .await
    }

    /// `REPLICAOF NO ONE`: the server becomes a master and keeps its data.
    pub async fn promote(&self, host: &str, port: u16) -> Result<(), AdminError> {
        let args = ["REPLICAOF", "NO", "ONE"];
        let reply = self.one(host, port, &args).await?;
        match &reply {
            OwnedFrame::SimpleString(s) if s == b"OK" => Ok(()),
            _ => Err(AdminError::unexpected(
                host,
                port,
                &args.join(" "),
                &render(&reply),
            )),
        }
    }

    /// `REPLICAOF master_host master_port`. Asking again for the same master is success
    /// (redis says `OK Already connected to specified master`), so a retried plan step
    /// does not fail on its own earlier success.
    pub async fn replicate(
        &self,
        host: &str,
        port: u16,
        master_host: &str,
        master_port: u16,
    ) -> Result<(), AdminError> {
        let master_port = master_port.to_string();
        let args = ["REPLICAOF", master_host, master_port.as_str()];
        let reply = self.one(host, port, &args).await?;
        match &reply {
            OwnedFrame::SimpleString(s)
                if s == b"OK" || s == b"OK Already connected to specified master" =>
            {
                Ok(())
            }
            _ => Err(AdminError::unexpected(
                host,
                port,
                &args.join(" "),
                &render(&reply),
            )),
        }
    }

    /// `CLIENT KILL TYPE normal`, so the clients of a demoted server reconnect (through
    /// haproxy, to the new master). Returns how many clients redis closed.
    pub async fn client_kill_normal(&self, host: &str, port: u16) -> Result<i64, AdminError> {
        let args = ["CLIENT", "KILL", "TYPE", "normal"];
        let reply = self.one(host, port, &args).await?;
        match reply {
            OwnedFrame::Integer(n) => Ok(n),
            other => Err(AdminError::unexpected(
                host,
                port,
                &args.join(" "),
                &render(&other),
            )),
        }
    }

    /// One command on a fresh connection, bounded by the timeout.
    async fn one(&self, host: &str, port: u16, args: &[&str]) -> Result<OwnedFrame, AdminError> {
        let what = args.join(" ");
        bounded(host, port, &what, self.timeout, async {
            let mut conn = self.open(host, port).await?;
            command(&mut conn, host, port, args).await
        })
        .await
    }

    async fn open(&self, host: &str, port: u16) -> Result<RespConnection<C::Stream>, AdminError> {
        match self.connector.connect(host, port).await {
            Ok(stream) => Ok(RespConnection::new(stream)),
            Err(source) => Err(AdminError::Connect {
                host: host.to_string(),
                port,
                source,
            }),
        }
    }
}

/// Sends one command and maps the client's errors to ones naming the server and command.
async fn command<S>(
    conn: &mut RespConnection<S>,
    host: &str,
    port: u16,
    args: &[&str],
) -> Result<OwnedFrame, AdminError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let command = args.join(" ");
    conn.command(args).await.map_err(|e| match e {
        RespError::Io(source) => AdminError::Io {
            host: host.to_string(),
            port,
            command,
            source,
        },
        RespError::Closed => AdminError::Closed {
            host: host.to_string(),
            port,
            command,
        },
        RespError::Protocol(what) => {
            AdminError::unexpected(host, port, &command, &format!("not RESP2: {what}"))
        }
    })
}

/// Parses the replication section of INFO; `None` when a field the status needs is
/// missing or malformed, or the role is neither master nor slave.
pub fn parse_replication(text: &str) -> Option<RedisStatus> {
    let field = |key: &str| {
        text.lines()
            .filter_map(|l| l.trim_end_matches('\r').split_once(':'))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    };
    match field("role")? {
        "master" => Some(RedisStatus::Master {
            offset: field("master_repl_offset")?.parse().ok()?,
        }),
        "slave" => Some(RedisStatus::Replica {
            master_host: field("master_host")?.to_string(),
            master_port: field("master_port")?.parse().ok()?,
            link_up: field("master_link_status")? == "up",
            offset: field("slave_repl_offset")?.parse().ok()?,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_master_and_replica_sections() {
        let master =
            "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:74\r\n";
        assert_eq!(
            parse_replication(master),
            Some(RedisStatus::Master { offset: 74 })
        );
        let replica = "# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:9001\r\nmaster_link_status:down\r\nslave_repl_offset:12\r\n";
        assert_eq!(
            parse_replication(replica),
            Some(RedisStatus::Replica {
                master_host: "10.0.0.1".into(),
                master_port: 9001,
                link_up: false,
                offset: 12
            })
        );
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for text in [
            "",
            "role:sentinel",
            "role:master",
            "role:slave\r\nmaster_port:x",
        ] {
            assert_eq!(parse_replication(text), None, "{text:?}");
        }
    }
}
