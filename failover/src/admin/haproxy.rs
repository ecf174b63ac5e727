//! Commands the controller sends to one haproxy's runtime API (stats socket, level admin):
//! reading server states, and idempotent compound operations to remove, add and re-address
//! servers of a backend.
//!
//! The API answers one command per connection (see [`crate::runtime_api`]). A lone "\n"
//! is success; any other text for a command that should succeed is an error carrying the
//! text. Reply texts are haproxy 2.6's, as listed in `real-behaviour.md`; they are compared
//! with trailing newlines trimmed because their count differs between commands.

use std::time::Duration;

use tokio::time::Instant;

use super::{bounded, stat, AdminError};
use crate::effects::Connector;
use crate::observation::ServerStat;
use crate::runtime_api::runtime_command;

/// One row of `show servers state <backend>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRow {
    pub name: String,
    pub addr: String,
    pub port: u16,
    /// `srv_op_state`: 0 stopped, 1 starting, 2 running, 3 stopping.
    pub op_state: u8,
    /// `srv_admin_state` bitmask: 0x01 forced maint, 0x08 forced drain, 0x20 maint from DNS.
    pub admin_state: u32,
}

/// A dynamic server's health-check settings (`check inter .. fall .. rise ..`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckParams {
    pub inter_ms: u64,
    pub fall: u32,
    pub rise: u32,
}

/// The admin client of haproxy runtime APIs, all listening on `api_port`.
pub struct HaproxyAdmin<C> {
    connector: C,
    api_port: u16,
    timeout: Duration,
}

/// The columns of a `show stat` server row that tell whether the checks have decided.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StatRow {
    status: String,
    /// `check_health`, `check_rise`, `check_fall`; `None` when the server has no active
    /// checks (haproxy leaves them empty).
    health: Option<(u32, u32, u32)>,
}

/// How often `add_server` looks at the checks while the new server is draining: often
/// enough to add little to the decision time, rare enough to be no load on haproxy.
const DECISION_POLL: Duration = Duration::from_millis(100);

/// How long after `state maint` a `del server` waits. A session whose connect was refused
/// goes on retrying the same server, maintenance or not (`retries 3`, a 1 s turnaround
/// before each: EOF 3 s after its first connect), and during a turnaround haproxy 2.6.12
/// counts it as attached to no server, so `del server` succeeds; the retry then uses the
/// freed server and the binary segfaults once the memory is reused (by the `add server`
/// of a replacement, say). Measured on the real binary with five such sessions, then del,
/// then three adds: 12 crashes in 20 tries with no wait, 5 in 12 after 1.2 s, 2 in 12
/// after 2 s, none in 20 after 3.2 s (`failover/local/tests/haproxy_delete.rs` guards it;
/// it crashed haproxy1 in a CI run of failoverd's real-process tests). So: the three
/// retries' turnarounds and a margin for haproxy's timers.
pub const TURNAROUND_WAIT: Duration = Duration::from_millis(3200);

impl<C: Connector> HaproxyAdmin<C> {
    /// `timeout` bounds each runtime-API command (connect, send, read to EOF).
    pub fn new(connector: C, api_port: u16, timeout: Duration) -> Self {
        Self {
            connector,
            api_port,
            timeout,
        }
    }

    /// `show servers state <backend>`, parsed by the header's column names.
    pub async fn servers(&self, host: &str, backend: &str) -> Result<Vec<ServerRow>, AdminError> {
        let command = format!("show servers state {backend}");
        let reply = self.command(host, &command).await?;
        parse_servers_state(&reply, backend)
            .ok_or_else(|| AdminError::unexpected(host, self.api_port, &command, &reply))
    }

    /// The `status` column of `show stat` for `backend/server` ("UP", "DOWN 1/2", "MAINT",
    /// ...), or `None` when haproxy has no such server.
    pub async fn status(
        &self,
        host: &str,
        backend: &str,
        server: &str,
    ) -> Result<Option<String>, AdminError> {
        Ok(self
            .stat_row(host, backend, server)
            .await?
            .map(|r| r.status))
    }

    /// Whether the runtime API answers: `show stat` must come back with its CSV header.
    pub async fn ping(&self, host: &str) -> Result<(), AdminError> {
        self.server_stats(host).await.map(|_| ())
    }

    /// Every server row of `show stat` (not the FRONTEND and BACKEND rows): what this proxy
    /// sees of each server, as the controller's quorum reads it.
    pub async fn server_stats(&self, host: &str) -> Result<Vec<ServerStat>, AdminError> {
        let reply = self.command(host, "show stat").await?;
        stat::parse_stat_csv(&reply)
            .map(|rows| stat::server_stats(&rows))
            .ok_or_else(|| AdminError::unexpected(host, self.api_port, "show stat", &reply))
    }

    /// Stops routing to `server` in every backend of every proxy at once: maintenance
    /// (which also closes its sessions when it has `on-marked-down shutdown-sessions`). A
    /// server that is gone counts as fenced, so a retried step succeeds. Deleting it is
    /// left to [`remove_everywhere`](Self::remove_everywhere), which waits out the retries.
    pub async fn fence_everywhere(
        &self,
        hosts: &[String],
        backends: &[String],
        server: &str,
    ) -> Result<(), AdminError> {
        for host in hosts {
            for backend in backends {
                self.maintain(host, backend, server).await?;
            }
        }
        Ok(())
    }

    /// Takes `backend/server` out for good: maintenance, the connect retries' turnarounds,
    /// then `del server` (see [`TURNAROUND_WAIT`]). A server that is already gone counts
    /// as removed, so a retried step succeeds.
    pub async fn remove_server(
        &self,
        host: &str,
        backend: &str,
        server: &str,
    ) -> Result<(), AdminError> {
        self.remove_everywhere(&[host.to_string()], &[backend.to_string()], server)
            .await
    }

    /// [`remove_server`](Self::remove_server) on every proxy and backend at once: every
    /// proxy stops routing first, then one wait for all, not one per server. Once every
    /// server is gone, a retried call waits no more.
    pub async fn remove_everywhere(
        &self,
        hosts: &[String],
        backends: &[String],
        server: &str,
    ) -> Result<(), AdminError> {
        // Waits whenever a server is still there, even one already in maintenance: a
        // fence step may have set it a moment ago, and haproxy does not say when.
        let mut present = false;
        for host in hosts {
            for backend in backends {
                present |= self.status(host, backend, server).await?.is_some();
                self.maintain(host, backend, server).await?;
            }
        }
        if present {
            tokio::time::sleep(TURNAROUND_WAIT).await;
        }
        for host in hosts {
            for backend in backends {
                self.delete_server(host, backend, server).await?;
            }
        }
        Ok(())
    }

    /// `set server B/S state maint`: no new session goes to it, and its sessions are closed
    /// when it has `on-marked-down shutdown-sessions`. A server that is gone is fine.
    async fn maintain(&self, host: &str, backend: &str, server: &str) -> Result<(), AdminError> {
        let maint = format!("set server {backend}/{server} state maint");
        let reply = self.command(host, &maint).await?;
        match reply.trim_end() {
            "" if reply == "\n" => Ok(()),
            "No such server." => Ok(()),
            _ => Err(AdminError::unexpected(host, self.api_port, &maint, &reply)),
        }
    }

    /// `del server B/S`; refused while sessions are attached. Only ever
    /// [`TURNAROUND_WAIT`] after [`maintain`](Self::maintain).
    async fn delete_server(
        &self,
        host: &str,
        backend: &str,
        server: &str,
    ) -> Result<(), AdminError> {
        let del = format!("del server {backend}/{server}");
        let reply = self.command(host, &del).await?;
        match reply.trim_end() {
            "Server deleted." | "No such server." => Ok(()),
            _ => Err(AdminError::unexpected(host, self.api_port, &del, &reply)),
        }
    }

    /// Adds `backend/server` at `addr:port` (an IP address) with health checks and
    /// enables it without the re-enabling pitfall: `state ready` straight away would mark
    /// it UP before any check ran, routing clients to it even if it is a replica. So the
    /// server first goes to `drain` (checked, but given no new traffic) until its checks
    /// have decided, then `ready`: a DOWN server then stays DOWN, an UP one serves.
    ///
    /// A server of that name already present counts as added (a retried step). If the
    /// checks have not decided after a deadline derived from `check`, the server is left
    /// draining and the call fails with a timeout; calling again resumes.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_server(
        &self,
        host: &str,
        backend: &str,
        server: &str,
        addr: &str,
        port: u16,
        backup: bool,
        check: &CheckParams,
    ) -> Result<(), AdminError> {
        let target = format!("{backend}/{server}");
        let add = format!(
            "add server {target} {addr}:{port} check inter {} fall {} rise {}{} on-marked-down shutdown-sessions",
            check.inter_ms,
            check.fall,
            check.rise,
            if backup { " backup" } else { "" }
        );
        let reply = self.command(host, &add).await?;
        match reply.trim_end() {
            "New server registered." | "Already exists a server with the same name in backend." => {
            }
            _ => return Err(AdminError::unexpected(host, self.api_port, &add, &reply)),
        }
        self.expect_empty(host, &format!("enable health {target}"))
            .await?;
        self.expect_empty(host, &format!("set server {target} state drain"))
            .await?;
        self.wait_checks_decided(host, backend, server, check)
            .await?;
        self.expect_empty(host, &format!("set server {target} state ready"))
            .await
    }

    /// `set server B/S addr IP port P`. haproxy answers with what changed (or that
    /// nothing needed to), never with a lone "\n".
    pub async fn set_addr(
        &self,
        host: &str,
        backend: &str,
        server: &str,
        addr: &str,
        port: u16,
    ) -> Result<(), AdminError> {
        let command = format!("set server {backend}/{server} addr {addr} port {port}");
        let reply = self.command(host, &command).await?;
        let text = reply.trim_end();
        let changed = (text.starts_with("IP changed from ")
            || text.starts_with("no need to change the addr"))
            && text.ends_with(" by 'stats socket command'");
        if changed {
            Ok(())
        } else {
            Err(AdminError::unexpected(
                host,
                self.api_port,
                &command,
                &reply,
            ))
        }
    }

    /// Polls `show stat` until the server's checks have decided, or a deadline passes.
    ///
    /// Leaving maintenance puts the health counter at `rise` (haproxy's own behaviour),
    /// so "decided" is the counter at either end: 0 (DOWN after `fall` failed checks) or
    /// `rise + fall - 1` (fully UP). With `fall 1` the full value equals the starting one,
    /// so UP then also needs two intervals, time for a check to have run.
    async fn wait_checks_decided(
        &self,
        host: &str,
        backend: &str,
        server: &str,
        check: &CheckParams,
    ) -> Result<(), AdminError> {
        let inter = Duration::from_millis(check.inter_ms.max(1));
        // A failed check by layer-7 timeout costs about two intervals (the timeout is
        // `inter`, then the next check waits `inter`); allow every step of the counter.
        let budget = inter * 2 * (check.rise + check.fall + 1);
        let start = Instant::now();
        loop {
            let Some(row) = self.stat_row(host, backend, server).await? else {
                return Err(AdminError::unexpected(
                    host,
                    self.api_port,
                    "show stat",
                    &format!("no row for {backend}/{server}"),
                ));
            };
            if decided(&row, start.elapsed() >= inter * 2) {
                return Ok(());
            }
            if start.elapsed() >= budget {
                return Err(AdminError::Timeout {
                    host: host.to_string(),
                    port: self.api_port,
                    what: format!(
                        "health checks of {backend}/{server} to decide (last status {:?})",
                        row.status
                    ),
                    after: budget,
                });
            }
            tokio::time::sleep(DECISION_POLL).await;
        }
    }

    async fn stat_row(
        &self,
        host: &str,
        backend: &str,
        server: &str,
    ) -> Result<Option<StatRow>, AdminError> {
        let reply = self.command(host, "show stat").await?;
        parse_stat(&reply, backend, server)
            .ok_or_else(|| AdminError::unexpected(host, self.api_port, "show stat", &reply))
    }

    /// A command whose success reply is a lone "\n".
    async fn expect_empty(&self, host: &str, command: &str) -> Result<(), AdminError> {
        let reply = self.command(host, command).await?;
        if reply == "\n" {
            Ok(())
        } else {
            Err(AdminError::unexpected(host, self.api_port, command, &reply))
        }
    }

    /// One command on a fresh connection, bounded by the timeout; the raw reply.
    async fn command(&self, host: &str, command: &str) -> Result<String, AdminError> {
        let port = self.api_port;
        bounded(host, port, command, self.timeout, async {
            let stream =
                self.connector
                    .connect(host, port)
                    .await
                    .map_err(|source| AdminError::Connect {
                        host: host.to_string(),
                        port,
                        source,
                    })?;
            let reply =
                runtime_command(stream, command)
                    .await
                    .map_err(|source| AdminError::Io {
                        host: host.to_string(),
                        port,
                        command: command.to_string(),
                        source,
                    })?;
            // haproxy always says something, even "\n"; nothing means it went away.
            if reply.is_empty() {
                return Err(AdminError::Closed {
                    host: host.to_string(),
                    port,
                    command: command.to_string(),
                });
            }
            Ok(reply)
        })
        .await
    }
}

fn decided(row: &StatRow, waited_two_intervals: bool) -> bool {
    if row.status.contains('/') {
        return false;
    }
    match row.health {
        Some((health, rise, fall)) => {
            let full = rise + fall - 1;
            health == 0 || (health == full && (fall > 1 || waited_two_intervals))
        }
        None => false,
    }
}

/// Parses `show servers state`: a version line, a `# `-header naming the columns, rows.
/// `None` when the reply is not that (e.g. `Can't find backend.`).
fn parse_servers_state(reply: &str, backend: &str) -> Option<Vec<ServerRow>> {
    let mut lines = reply.lines();
    if lines.next()? != "1" {
        return None;
    }
    let header: Vec<&str> = lines.next()?.strip_prefix("# ")?.split(' ').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (be, name, addr, op, admin, port) = (
        col("be_name")?,
        col("srv_name")?,
        col("srv_addr")?,
        col("srv_op_state")?,
        col("srv_admin_state")?,
        col("srv_port")?,
    );
    let mut rows = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split(' ').collect();
        if f.get(be)? != &backend {
            continue;
        }
        rows.push(ServerRow {
            name: f.get(name)?.to_string(),
            addr: f.get(addr)?.to_string(),
            port: f.get(port)?.parse().ok()?,
            op_state: f.get(op)?.parse().ok()?,
            admin_state: f.get(admin)?.parse().ok()?,
        });
    }
    Some(rows)
}

/// Finds `backend/server` in `show stat`'s CSV by the header's column names. `None` when
/// the reply is not that CSV; `Some(None)` when it has no such row.
fn parse_stat(reply: &str, backend: &str, server: &str) -> Option<Option<StatRow>> {
    let rows = stat::parse_stat_csv(reply)?;
    let Some(row) = stat::find(&rows, backend, server) else {
        return Some(None);
    };
    let num = |name: &str| stat::col(row, name).parse::<u32>().ok();
    let health = match (num("check_health"), num("check_rise"), num("check_fall")) {
        (Some(h), Some(r), Some(f)) if r >= 1 && f >= 1 => Some((h, r, f)),
        _ => None,
    };
    Some(Some(StatRow {
        status: stat::col(row, "status").to_string(),
        health,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_state_by_header_names() {
        let reply = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n3 be 1 s1 10.0.0.1 2 8 1 1 5 6 3 4 6 0 0 0 - 9001 -\n\n";
        assert_eq!(
            parse_servers_state(reply, "be"),
            Some(vec![ServerRow {
                name: "s1".into(),
                addr: "10.0.0.1".into(),
                port: 9001,
                op_state: 2,
                admin_state: 8
            }])
        );
        assert_eq!(parse_servers_state("Can't find backend.\n\n", "be"), None);
        assert_eq!(parse_servers_state("1\n# be_name\nx\n", "be"), None);
    }

    #[test]
    fn decided_only_at_either_end_of_the_counter() {
        let row = |status: &str, h| StatRow {
            status: status.into(),
            health: Some((h, 2, 3)),
        };
        assert!(!decided(&row("UP 1/3", 2), true));
        assert!(!decided(&row("DRAIN", 2), true));
        assert!(decided(&row("DRAIN", 4), false));
        assert!(decided(&row("DOWN", 0), false));
        assert!(!decided(&row("DOWN 1/2", 1), true));
        let fall1 = StatRow {
            status: "DRAIN".into(),
            health: Some((2, 2, 1)),
        };
        assert!(!decided(&fall1, false));
        assert!(decided(&fall1, true));
    }
}
