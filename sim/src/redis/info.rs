//! INFO and ROLE: the fields and formats of redis 7.0, which haproxy checks and the
//! controller parse. Lines end in CRLF as real redis sends them.

use redis_protocol::resp2::types::OwnedFrame;
use tokio::time::Instant;

use super::state::{LinkState, Server};

pub fn render(server: &Server, sections: &[String], now: Instant) -> String {
    let all = sections.is_empty()
        || sections
            .iter()
            .any(|s| s == "all" || s == "default" || s == "everything");
    let wants = |name: &str| all || sections.iter().any(|s| s == name);
    let mut parts = Vec::new();
    if wants("server") {
        parts.push(server_section(server, now));
    }
    if wants("replication") {
        parts.push(replication(server, now));
    }
    if wants("keyspace") {
        let mut s = String::from("# Keyspace\r\n");
        if !server.data.is_empty() {
            s.push_str(&format!(
                "db0:keys={},expires=0,avg_ttl=0\r\n",
                server.data.len()
            ));
        }
        parts.push(s);
    }
    parts.join("\r\n")
}

fn server_section(server: &Server, now: Instant) -> String {
    format!(
        "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nprocess_id:1\r\nrun_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\n",
        server.replid,
        server.config.port,
        now.saturating_duration_since(server.started).as_secs()
    )
}

pub fn replication(server: &Server, now: Instant) -> String {
    let mut s = String::from("# Replication\r\n");
    let mut line = |k: &str, v: String| {
        s.push_str(k);
        s.push(':');
        s.push_str(&v);
        s.push_str("\r\n");
    };
    match &server.master {
        None => line("role", "master".into()),
        Some(link) => {
            let up = link.state == LinkState::Connected;
            line("role", "slave".into());
            line("master_host", link.host.clone());
            line("master_port", link.port.to_string());
            line("master_link_status", if up { "up" } else { "down" }.into());
            let last_io = match (up, link.last_io) {
                (true, Some(t)) => now.saturating_duration_since(t).as_secs() as i64,
                _ => -1,
            };
            line("master_last_io_seconds_ago", last_io.to_string());
            line(
                "master_sync_in_progress",
                u8::from(link.state == LinkState::Sync).to_string(),
            );
            line(
                "slave_read_repl_offset",
                server.master_repl_offset.to_string(),
            );
            line("slave_repl_offset", server.master_repl_offset.to_string());
            if !up {
                let since = link
                    .down_since
                    .map(|t| now.saturating_duration_since(t).as_secs() as i64)
                    .unwrap_or(-1);
                line("master_link_down_since_seconds", since.to_string());
            }
            line("slave_priority", "100".into());
            line("slave_read_only", "1".into());
            line("replica_announced", "1".into());
        }
    }
    line("connected_slaves", server.replicas.len().to_string());
    if server.config.min_replicas_to_write > 0 && server.config.min_replicas_max_lag > 0 {
        line(
            "min_slaves_good_slaves",
            server.good_replicas(now).to_string(),
        );
    }
    for (i, r) in server.replicas.values().enumerate() {
        line(
            &format!("slave{i}"),
            format!(
                "ip={},port={},state={},offset={},lag={}",
                r.ip,
                r.listening_port,
                r.state,
                r.ack_offset,
                now.saturating_duration_since(r.last_ack).as_secs()
            ),
        );
    }
    line("master_failover_state", "no-failover".into());
    line("master_replid", server.replid.clone());
    line("master_replid2", server.replid2.clone());
    line("master_repl_offset", server.master_repl_offset.to_string());
    line("second_repl_offset", server.second_repl_offset.to_string());
    let (active, first, histlen) = match &server.backlog {
        Some(b) => (1, b.first_byte_offset, b.bytes.len()),
        None => (0, 0, 0),
    };
    line("repl_backlog_active", active.to_string());
    line("repl_backlog_size", server.config.backlog_size.to_string());
    line("repl_backlog_first_byte_offset", first.to_string());
    line("repl_backlog_histlen", histlen.to_string());
    s
}

pub fn role(server: &Server, _now: Instant) -> OwnedFrame {
    use OwnedFrame::*;
    let bulk = |s: String| BulkString(s.into_bytes());
    match &server.master {
        None => Array(vec![
            bulk("master".into()),
            Integer(server.master_repl_offset as i64),
            Array(
                server
                    .replicas
                    .values()
                    .filter(|r| r.state == "online")
                    .map(|r| {
                        Array(vec![
                            bulk(r.ip.clone()),
                            bulk(r.listening_port.to_string()),
                            bulk(r.ack_offset.to_string()),
                        ])
                    })
                    .collect(),
            ),
        ]),
        Some(link) => Array(vec![
            bulk("slave".into()),
            bulk(link.host.clone()),
            Integer(link.port as i64),
            bulk(link.state.as_str().into()),
            Integer(if link.state == LinkState::Connected {
                server.master_repl_offset as i64
            } else {
                -1
            }),
        ]),
    }
}
