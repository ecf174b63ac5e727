//! The commands a client can send, with redis 7.0's arity rules and error texts.
//!
//! `execute` is synchronous and changes only the server state; what needs time (WAIT,
//! becoming a replica link, closing after QUIT) is returned as an [`Outcome`] for the
//! connection loop to carry out.

use redis_protocol::resp2::types::OwnedFrame;
use tokio::time::Instant;

use super::info;
use super::keyspace::{frame_list, parse_i64};
use super::persistence;
use super::state::{LinkState, MasterLink, Server};

use crate::trace::{record, Event};

pub enum Outcome {
    Reply(OwnedFrame),
    /// Reply, then close the connection (QUIT).
    ReplyAndClose(OwnedFrame),
    /// WAIT: block until `replicas` acknowledged `offset`, or `timeout_ms` passes (0: forever).
    Wait {
        replicas: i64,
        timeout_ms: u64,
        offset: u64,
    },
    /// PSYNC/SYNC: the connection becomes a replica's link.
    Psync {
        replid: String,
        offset: i64,
    },
    /// CLIENT KILL TYPE normal: kill the other normal clients, reply how many.
    KillNormalClients,
}

/// Per-connection state that commands read or change.
pub struct ClientState {
    pub id: u64,
    pub peer_ip: String,
    /// The replication offset right after this client's last write (for WAIT).
    pub last_write_offset: u64,
    /// Set by REPLCONF listening-port, for a connection that turns into a replica.
    pub listening_port: Option<u16>,
}

fn ok() -> OwnedFrame {
    OwnedFrame::SimpleString(b"OK".to_vec())
}

fn err(text: impl Into<String>) -> OwnedFrame {
    OwnedFrame::Error(text.into())
}

fn lower(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).to_ascii_lowercase()
}

/// Redis's arity (negative: at least that many, command name included) and whether the
/// command writes.
fn command_spec(name: &str) -> Option<(i64, bool)> {
    Some(match name {
        "ping" => (-1, false),
        "echo" => (2, false),
        "get" => (2, false),
        "set" => (-3, true),
        "del" => (-2, true),
        "incr" => (2, true),
        "rpush" => (-3, true),
        "lrange" => (4, false),
        "dbsize" => (1, false),
        "flushall" => (-1, true),
        "info" => (-1, false),
        "role" => (1, false),
        "replicaof" | "slaveof" => (3, false),
        "wait" => (3, false),
        "config" => (-2, false),
        "client" => (-2, false),
        "quit" => (-1, false),
        "select" => (2, false),
        "replconf" => (-1, false),
        "psync" => (-3, false),
        "sync" => (1, false),
        "save" => (1, false),
        "bgsave" => (-1, false),
        "lastsave" => (1, false),
        _ => return None,
    })
}

pub fn execute(server: &mut Server, client: &mut ClientState, args: &[Vec<u8>]) -> Outcome {
    let name = lower(&args[0]);
    let Some((arity, is_write)) = command_spec(&name) else {
        let mut text = format!(
            "ERR unknown command '{}', with args beginning with: ",
            String::from_utf8_lossy(&args[0])
        );
        for a in &args[1..] {
            text.push_str(&format!("'{}' ", String::from_utf8_lossy(a)));
        }
        return Outcome::Reply(err(text));
    };
    let argc = args.len() as i64;
    if (arity > 0 && argc != arity) || (arity < 0 && argc < -arity) {
        return Outcome::Reply(err(format!(
            "ERR wrong number of arguments for '{name}' command"
        )));
    }
    if is_write {
        if server.is_replica() {
            return Outcome::Reply(err("READONLY You can't write against a read only replica."));
        }
        if server.config.min_replicas_to_write > 0
            && server.good_replicas(Instant::now()) < server.config.min_replicas_to_write
        {
            return Outcome::Reply(err("NOREPLICAS Not enough good replicas to write."));
        }
    }
    let outcome = run(server, client, &name, args);
    // Like redis, propagate only what changed the data ("dirty"): not an error, not a SET NX
    // that did nothing, not a DEL that found no key.
    let dirty = !matches!(
        outcome,
        Outcome::Reply(OwnedFrame::Error(_) | OwnedFrame::Null | OwnedFrame::Integer(0))
    );
    if is_write && dirty {
        if !server.wrote_as_master {
            server.wrote_as_master = true;
            record(
                &server.machine,
                Event::WriteAccepted {
                    port: server.config.port,
                },
            );
        }
        server.dirty += persistence::changes(args);
        server.propagate(args);
        client.last_write_offset = server.master_repl_offset;
    }
    outcome
}

fn run(server: &mut Server, client: &mut ClientState, name: &str, args: &[Vec<u8>]) -> Outcome {
    use OwnedFrame::*;
    let reply = match name {
        "ping" => match args.get(1) {
            None => SimpleString(b"PONG".to_vec()),
            Some(msg) if args.len() == 2 => BulkString(msg.clone()),
            Some(_) => err("ERR wrong number of arguments for 'ping' command"),
        },
        "echo" => BulkString(args[1].clone()),
        "get" => match server.data.get(&args[1]) {
            Ok(Some(v)) => BulkString(v.clone()),
            Ok(None) => Null,
            Err(e) => err(e),
        },
        "set" => return set(server, args),
        "del" => Integer(args[1..].iter().filter(|k| server.data.del(k)).count() as i64),
        "incr" => match server.data.incr_by(&args[1], 1) {
            Ok(n) => Integer(n),
            Err(e) => err(e),
        },
        "rpush" => match server.data.rpush(&args[1], &args[2..]) {
            Ok(n) => Integer(n as i64),
            Err(e) => err(e),
        },
        "lrange" => match (parse_i64(&args[2]), parse_i64(&args[3])) {
            (Some(start), Some(stop)) => match server.data.lrange(&args[1], start, stop) {
                Ok(items) => frame_list(items),
                Err(e) => err(e),
            },
            _ => err("ERR value is not an integer or out of range"),
        },
        "dbsize" => Integer(server.data.len() as i64),
        "flushall" => {
            server.data.clear();
            // With save rules set, redis saves the empty data set at once.
            if !server.config.save.is_empty() {
                persistence::save(server);
            }
            ok()
        }
        "save" => {
            persistence::save(server);
            ok()
        }
        "bgsave" => {
            // The fork's copy is taken now; the model writes it at once.
            persistence::save(server);
            SimpleString(b"Background saving started".to_vec())
        }
        "lastsave" => Integer(server.lastsave as i64),
        "select" => match parse_i64(&args[1]) {
            Some(0) => ok(),
            Some(n) if (0..16).contains(&n) => {
                err("ERR SELECT is not supported by this model beyond DB 0")
            }
            Some(_) => err("ERR DB index is out of range"),
            None => err("ERR value is not an integer or out of range"),
        },
        "info" => {
            let sections: Vec<String> = args[1..].iter().map(|a| lower(a)).collect();
            BulkString(info::render(server, &sections, Instant::now()).into_bytes())
        }
        "role" => info::role(server, Instant::now()),
        "replicaof" | "slaveof" => replicaof(server, &args[1], &args[2]),
        "wait" => {
            if server.is_replica() {
                err("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
            } else {
                match (parse_i64(&args[1]), parse_i64(&args[2])) {
                    (Some(n), Some(t)) if t >= 0 => {
                        return Outcome::Wait {
                            replicas: n,
                            timeout_ms: t as u64,
                            offset: client.last_write_offset,
                        }
                    }
                    (Some(_), Some(_)) => err("ERR timeout is negative"),
                    _ => err("ERR value is not an integer or out of range"),
                }
            }
        }
        "config" => config(server, args),
        "client" => {
            let sub = lower(&args[1]);
            if sub == "kill" && args.len() == 4 && lower(&args[2]) == "type" {
                match lower(&args[3]).as_str() {
                    "normal" => return Outcome::KillNormalClients,
                    "replica" | "slave" | "master" | "pubsub" => Integer(0),
                    other => err(format!("ERR Unknown client type '{other}'")),
                }
            } else if sub == "id" && args.len() == 2 {
                Integer(client.id as i64)
            } else if sub == "kill" {
                err("ERR syntax error")
            } else {
                err(format!(
                    "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
                    String::from_utf8_lossy(&args[1])
                ))
            }
        }
        "quit" => return Outcome::ReplyAndClose(ok()),
        "replconf" => {
            if args.len() >= 3 && lower(&args[1]) == "listening-port" {
                client.listening_port = std::str::from_utf8(&args[2])
                    .ok()
                    .and_then(|p| p.parse().ok());
            }
            ok()
        }
        "psync" => {
            return Outcome::Psync {
                replid: String::from_utf8_lossy(&args[1]).into_owned(),
                offset: parse_i64(&args[2]).unwrap_or(-1),
            }
        }
        "sync" => {
            return Outcome::Psync {
                replid: "?".into(),
                offset: -1,
            }
        }
        _ => unreachable!("every command in command_spec has a branch"),
    };
    Outcome::Reply(reply)
}

fn set(server: &mut Server, args: &[Vec<u8>]) -> Outcome {
    let (mut nx, mut xx) = (false, false);
    for opt in &args[3..] {
        match lower(opt).as_str() {
            "nx" if !xx => nx = true,
            "xx" if !nx => xx = true,
            _ => return Outcome::Reply(err("ERR syntax error")),
        }
    }
    let exists = server.data.contains(&args[1]);
    if (nx && exists) || (xx && !exists) {
        return Outcome::Reply(OwnedFrame::Null);
    }
    server.data.set(&args[1], &args[2]);
    Outcome::Reply(ok())
}

fn replicaof(server: &mut Server, host: &[u8], port: &[u8]) -> OwnedFrame {
    let host = String::from_utf8_lossy(host).into_owned();
    if host.eq_ignore_ascii_case("no") && lower(port) == "one" {
        if server.is_replica() {
            server.promote();
            record(
                &server.machine,
                Event::Promoted {
                    port: server.config.port,
                },
            );
        }
        return ok();
    }
    let Some(port) = std::str::from_utf8(port)
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|p| *p > 0)
    else {
        return err("ERR Invalid master port");
    };
    if let Some(link) = &server.master {
        if link.host == host && link.port == port {
            return OwnedFrame::SimpleString(b"OK Already connected to specified master".to_vec());
        }
    }
    server.link_generation += 1;
    server.wrote_as_master = false;
    server.master = Some(MasterLink {
        host,
        port,
        state: LinkState::Connect,
        last_io: None,
        down_since: None,
        generation: server.link_generation,
    });
    // A former master's replicas must resync with it too (real redis disconnects them).
    server.replicas.clear();
    server.link_tx.set(server.link_generation);
    let master = format!("{}:{}", link_host(server), port);
    record(
        &server.machine,
        Event::ReplicaOf {
            port: server.config.port,
            master,
        },
    );
    ok()
}

fn link_host(server: &Server) -> &str {
    server
        .master
        .as_ref()
        .map(|m| m.host.as_str())
        .unwrap_or("")
}

fn config(server: &mut Server, args: &[Vec<u8>]) -> OwnedFrame {
    let sub = lower(&args[1]);
    match sub.as_str() {
        "get" if args.len() >= 3 => {
            let mut out = Vec::new();
            let params = [
                ("min-replicas-max-lag", server.config.min_replicas_max_lag),
                ("min-replicas-to-write", server.config.min_replicas_to_write),
                (
                    "repl-diskless-sync-delay",
                    server.config.diskless_sync_delay.as_secs() as i64,
                ),
                ("repl-timeout", server.config.repl_timeout.as_secs() as i64),
            ];
            for pattern in &args[2..] {
                let pattern = lower(pattern);
                for (name, value) in params {
                    if glob_match(&pattern, name) && !out.iter().any(|(n, _)| *n == name) {
                        out.push((name, value));
                    }
                }
            }
            out.sort();
            OwnedFrame::Array(
                out.into_iter()
                    .flat_map(|(n, v)| {
                        [
                            OwnedFrame::BulkString(n.as_bytes().to_vec()),
                            OwnedFrame::BulkString(v.to_string().into_bytes()),
                        ]
                    })
                    .collect(),
            )
        }
        "set" if args.len() >= 4 && args.len().is_multiple_of(2) => {
            for pair in args[2..].chunks(2) {
                let name = lower(&pair[0]);
                let slot = match name.as_str() {
                    "min-replicas-to-write" | "min-slaves-to-write" => {
                        &mut server.config.min_replicas_to_write
                    }
                    "min-replicas-max-lag" | "min-slaves-max-lag" => {
                        &mut server.config.min_replicas_max_lag
                    }
                    _ => {
                        return err(format!(
                            "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                        ))
                    }
                };
                match parse_i64(&pair[1]).filter(|v| *v >= 0) {
                    Some(v) => *slot = v,
                    None => {
                        return err(format!(
                            "ERR CONFIG SET failed (possibly related to argument '{name}') - argument couldn't be parsed into an integer"
                        ))
                    }
                }
            }
            ok()
        }
        "get" | "set" => err(format!(
            "ERR wrong number of arguments for 'config|{sub}' command"
        )),
        _ => err(format!(
            "ERR unknown subcommand '{}'. Try CONFIG HELP.",
            String::from_utf8_lossy(&args[1])
        )),
    }
}

/// Redis's glob for CONFIG GET: `*` and `?` only, which is all its parameters need.
fn glob_match(pattern: &str, name: &str) -> bool {
    fn rec(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => rec(&p[1..], n) || (!n.is_empty() && rec(p, &n[1..])),
            (Some(b'?'), Some(_)) => rec(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => rec(&p[1..], &n[1..]),
            _ => false,
        }
    }
    rec(pattern.as_bytes(), name.as_bytes())
}
