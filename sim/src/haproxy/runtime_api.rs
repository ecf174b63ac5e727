//! The runtime API (stats socket, level admin) on a TCP port, non-interactive: read one
//! command line, write the reply, close. Reply texts are haproxy 2.6.12's, byte for byte
//! where observed (see `real-behaviour.md`); bad input never panics, it gets haproxy's own
//! error text.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;
use turmoil::net::{TcpListener, TcpStream};

use super::check::check_loop;
use super::config::Server;
use super::state::{now, Shared, State};
use super::stats;
use crate::machine::ProcessCtx;
use crate::trace::{record, Event};

/// The reply to a command haproxy does not know. Real haproxy lists the commands closest
/// to what was typed; the model always lists the ones haproxy 2.6.12 offered for `foo bar`.
pub const UNKNOWN_COMMAND: &str =
    "Unknown command, but maybe one of the following ones is a better match:
  clear acl [@<ver>] <acl>                : clear the contents of this acl
  get var <name>                          : retrieve contents of a process-wide variable
  operator                                : lower the level of the current CLI session to operator
  trace [<module>|0] [cmd [args...]]      : manage live tracing (empty to list, 0 to stop all)
  user                                    : lower the level of the current CLI session to user
  help [<command>]                        : list matching or all commands
  prompt                                  : toggle interactive mode with prompt
  quit                                    : disconnect

";

const SET_SERVER_USAGE: &str = "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n\n";

/// What a command asks of the process besides its reply: dynamic servers need check tasks.
enum Effect {
    None,
    StartChecks(u64),
}

/// Serves the runtime API on `port` until the process dies.
pub(crate) async fn runtime_api_loop(state: Shared, port: u16, ctx: ProcessCtx) {
    let listener = match TcpListener::bind(("0.0.0.0", port)).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(port, error = %e, "cannot bind the runtime API");
            return;
        }
    };
    // Check tasks of servers added at run time live here, so a kill aborts them too.
    let mut checks = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        while checks.try_join_next().is_some() {}
        // One connection at a time, as haproxy's CLI applet answers it in order.
        if let Some(uid) = serve(&state, stream, &ctx).await {
            checks.spawn_local(check_loop(state.clone(), uid, Duration::ZERO, ctx.clone()));
        }
    }
}

async fn serve(state: &Shared, mut stream: TcpStream, ctx: &ProcessCtx) -> Option<u64> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    // Bounded by a generous line length so a garbage sender cannot grow memory forever.
    while line.len() < 64 * 1024 {
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => line.push(byte[0]),
        }
    }
    ctx.running().await;
    let command = String::from_utf8_lossy(&line).trim().to_string();
    if command.is_empty() {
        return None;
    }
    let (reply, effect) = execute(&mut state.borrow_mut(), &command);
    // Commands that change something belong in the trace; `show` ones are only read.
    if command.trim_start().starts_with("show") {
        tracing::debug!(at = ?now(), %command, "runtime API");
    } else {
        let proxy = state.borrow().config.name.clone();
        let reply = reply.trim_end().to_string();
        record(
            &proxy,
            Event::RuntimeApi {
                command: command.clone(),
                reply,
            },
        );
    }
    let _ = stream.write_all(reply.as_bytes()).await;
    match effect {
        Effect::None => None,
        Effect::StartChecks(uid) => Some(uid),
    }
}

/// Runs one command against the state and returns haproxy's reply.
pub fn execute_command(state: &mut State, command: &str) -> String {
    execute(state, command).0
}

fn execute(state: &mut State, command: &str) -> (String, Effect) {
    let words: Vec<&str> = command.split_whitespace().collect();
    let reply = match words.as_slice() {
        ["show", "servers", "state"] => stats::show_servers_state(state, None).unwrap_or_default(),
        ["show", "servers", "state", b, ..] => stats::show_servers_state(state, Some(b))
            .unwrap_or_else(|| "Can't find backend.\n\n".into()),
        ["show", "stat", ..] => stats::show_stat(state),
        ["set", "server", target, rest @ ..] => set_server(state, target, rest),
        ["set", "server"] => "Require 'backend/server'.\n\n".into(),
        ["add", "server", target, rest @ ..] => return add_server(state, target, rest),
        ["del", "server", target, ..] => del_server(state, target),
        ["shutdown", "sessions", "server", target, ..] => match lookup(state, target) {
            Err(e) => e.into(),
            Ok((bi, si)) => {
                let proxy = state.config.name.clone();
                State::shutdown_sessions(&proxy, &mut state.backends[bi].servers[si]);
                "\n".into()
            }
        },
        ["shutdown", "sessions", "server"] => "Require 'backend/server'.\n\n".into(),
        [verb @ ("enable" | "disable"), what @ ("server" | "health"), target, ..] => {
            match lookup(state, target) {
                Err(e) => e.into(),
                Ok((bi, si)) => {
                    let on = *verb == "enable";
                    if *what == "server" {
                        if on {
                            state.leave_maint(bi, si);
                        } else {
                            state.enter_maint(bi, si);
                        }
                    } else {
                        state.backends[bi].servers[si].check_enabled = on;
                    }
                    "\n".into()
                }
            }
        }
        _ => UNKNOWN_COMMAND.into(),
    };
    (reply, Effect::None)
}

/// Finds `backend/server`, or haproxy's error text.
fn lookup(state: &State, target: &str) -> Result<(usize, usize), &'static str> {
    let Some((b, s)) = target.split_once('/') else {
        return Err("Require 'backend/server'.\n\n");
    };
    let bi = state.backend(b).ok_or("No such backend.\n\n")?;
    let si = state.backends[bi]
        .servers
        .iter()
        .position(|x| x.name == s)
        .ok_or("No such server.\n\n")?;
    Ok((bi, si))
}

fn set_server(state: &mut State, target: &str, rest: &[&str]) -> String {
    let (bi, si) = match lookup(state, target) {
        Ok(found) => found,
        Err(e) => return e.into(),
    };
    match rest {
        ["state", how, ..] => match *how {
            "ready" => {
                state.backends[bi].servers[si].drain = false;
                state.leave_maint(bi, si);
                "\n".into()
            }
            "drain" => {
                state.leave_maint(bi, si);
                state.backends[bi].servers[si].drain = true;
                "\n".into()
            }
            "maint" => {
                state.enter_maint(bi, si);
                "\n".into()
            }
            _ => "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n".into(),
        },
        ["health", how, ..] => match *how {
            "up" => {
                state.force_health(bi, si, true);
                "\n".into()
            }
            // `stopping` is modelled as down (the model has no stopping state).
            "down" | "stopping" => {
                state.force_health(bi, si, false);
                "\n".into()
            }
            _ => "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n".into(),
        },
        ["addr", addr, more @ ..] => set_addr(state, bi, si, addr, more),
        _ => SET_SERVER_USAGE.into(),
    }
}

fn set_addr(state: &mut State, bi: usize, si: usize, addr: &str, more: &[&str]) -> String {
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return format!("Invalid addr '{addr}' by 'stats socket command'\n\n");
    };
    let port = match more {
        ["port", p, ..] => match p.parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => return format!("Invalid port '{p}' by 'stats socket command'\n\n"),
        },
        _ => None,
    };
    let s = &mut state.backends[bi].servers[si];
    // Observed texts: each part says what changed, or that it did not need to.
    let mut parts = Vec::new();
    if ip != s.addr {
        parts.push(format!("IP changed from '{}' to '{ip}'", s.addr));
        s.addr = ip;
    } else {
        parts.push("no need to change the addr".to_string());
    }
    match port {
        Some(p) if p != s.port => {
            parts.push(format!("port changed from '{}' to '{p}'", s.port));
            s.port = p;
        }
        Some(_) => parts.push("no need to change the port".to_string()),
        None => {}
    }
    let msg = parts.join(", ");
    format!("{msg} by 'stats socket command'\n\n")
}

/// Parses a haproxy time value: a number with an optional unit, milliseconds by default.
fn parse_time(v: &str) -> Option<Duration> {
    let digits = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let n: u64 = v[..digits].parse().ok()?;
    match &v[digits..] {
        "" | "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => Some(Duration::from_secs(n * 60)),
        "h" => Some(Duration::from_secs(n * 3600)),
        "us" => Some(Duration::from_micros(n)),
        _ => None,
    }
}

fn add_server(state: &mut State, target: &str, rest: &[&str]) -> (String, Effect) {
    let fail = |s: String| (s, Effect::None);
    let Some((b, name)) = target.split_once('/') else {
        return fail("Require 'backend/server'.\n\n".into());
    };
    // Observed: this error ends with a single newline, unlike most.
    let Some(bi) = state.backend(b) else {
        return fail("No such backend.\n".into());
    };
    if state.backends[bi].servers.iter().any(|s| s.name == name) {
        return fail("Already exists a server with the same name in backend.\n\n".into());
    }
    let Some((addr, kws)) = rest.split_first() else {
        return fail("'server' expects <name> and <addr>[:<port>] as arguments.\n\n".into());
    };
    let Ok(sock) = addr.parse::<SocketAddr>() else {
        return fail(format!("Invalid address '{addr}'.\n\n"));
    };
    let mut server = Server::new(name, &sock.ip().to_string(), sock.port());
    let mut i = 0;
    while i < kws.len() {
        let kw = kws[i];
        let value = kws.get(i + 1).copied();
        let time = |v: Option<&str>| -> Result<Duration, String> {
            let v = v.ok_or_else(|| format!("'{kw}' expects an argument.\n\n"))?;
            parse_time(v).filter(|d| !d.is_zero()).ok_or(format!(
                "'{kw}' expects a positive delay in milliseconds.\n\n"
            ))
        };
        let count = |v: Option<&str>| -> Result<u32, String> {
            let v = v.ok_or_else(|| format!("'{kw}' expects an argument.\n\n"))?;
            v.parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(format!("'{kw}' expects a strictly positive integer.\n\n"))
        };
        let step = match kw {
            "check" => {
                server.check = true;
                Ok(1)
            }
            "backup" => {
                server.backup = true;
                Ok(1)
            }
            "inter" => time(value).map(|d| server.inter = d).map(|_| 2),
            "fastinter" => time(value).map(|d| server.fastinter = Some(d)).map(|_| 2),
            "downinter" => time(value).map(|d| server.downinter = Some(d)).map(|_| 2),
            "fall" => count(value).map(|n| server.fall = n).map(|_| 2),
            "rise" => count(value).map(|n| server.rise = n).map(|_| 2),
            "on-marked-down" => match value {
                Some("shutdown-sessions") => {
                    server.on_marked_down_shutdown_sessions = true;
                    Ok(2)
                }
                _ => Err("'on-marked-down' expects 'shutdown-sessions' but got ''.\n\n".into()),
            },
            "on-marked-up" => match value {
                Some("shutdown-backup-sessions") => {
                    server.on_marked_up_shutdown_backup_sessions = true;
                    Ok(2)
                }
                _ => {
                    Err("'on-marked-up' expects 'shutdown-backup-sessions' but got ''.\n\n".into())
                }
            },
            _ => Err(format!("unknown keyword '{kw}'.\n\n")),
        };
        match step {
            Ok(n) => i += n,
            Err(e) => return fail(e),
        }
    }
    let uid = state.add_server(bi, &server, sock.ip());
    tracing::debug!(at = ?now(), backend = b, server = name, "New server registered.");
    let effect = if server.check {
        Effect::StartChecks(uid)
    } else {
        Effect::None
    };
    ("New server registered.\n\n".into(), effect)
}

fn del_server(state: &mut State, target: &str) -> String {
    let (bi, si) = match lookup(state, target) {
        // Observed: `del server` errors end with a single newline.
        Err(e) => return e.trim_end_matches('\n').to_string() + "\n",
        Ok(found) => found,
    };
    let s = &state.backends[bi].servers[si];
    if !s.maint {
        return "Only servers in maintenance mode can be deleted.\n".into();
    }
    if !s.sessions.is_empty() {
        return "Server still has connections attached to it, cannot remove it.\n".into();
    }
    state.backends[bi].servers.remove(si);
    "Server deleted.\n".into()
}
