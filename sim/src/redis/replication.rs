//! Asynchronous replication as redis 7.0 does it, over the simulated network.
//!
//! Master side ([`serve_replica`]): a connection that sends PSYNC becomes a replica link.
//! If the replica's history (replication id and offset) is in our backlog, it continues
//! (+CONTINUE); otherwise it waits for the shared diskless full sync (Debian: 5 s delay),
//! receives a snapshot whose transfer time grows with the data, then the command stream.
//!
//! Replica side ([`replica_link_task`]): connects to the master named by REPLICAOF,
//! handshakes (PING, REPLCONF, PSYNC with its own id and offset, which is what allows a
//! demoted master to resync partially), applies the stream, acks once a second, and retries
//! about once a second after losing the link. It never promotes itself.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{sleep, sleep_until, timeout, Instant};
use turmoil::net::TcpStream;

use super::commands::ClientState;
use super::keyspace::Keyspace;
use super::persistence;
use super::protocol::{encode_args, CommandReader, Incoming};
use super::server::transfer_time;
use super::state::{LinkState, ReplicaEntry, Shared};
use crate::machine::ProcessCtx;
use crate::trace::{record, Event};

fn args(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

// ---------------------------------------------------------------- master side

#[allow(clippy::too_many_arguments)]
pub async fn serve_replica(
    server: Shared,
    ctx: ProcessCtx,
    stream: TcpStream,
    client: &ClientState,
    replid: String,
    offset: i64,
    pending: Vec<u8>,
) {
    let id = client.id;
    let (mut rd, mut wr) = stream.into_split();
    let partial = {
        let mut s = server.borrow_mut();
        let partial = s.can_partial_resync(&replid, offset);
        s.ensure_backlog();
        s.replicas.insert(
            id,
            ReplicaEntry {
                ip: client.peer_ip.clone(),
                listening_port: client.listening_port.unwrap_or(0),
                state: "wait_bgsave",
                ack_offset: 0,
                last_ack: Instant::now(),
            },
        );
        partial
    };
    let result = async {
        let mut cursor;
        if partial {
            let (reply, bytes) = {
                let s = server.borrow();
                let bytes = s.stream_from(offset as u64).unwrap_or_default();
                (format!("+CONTINUE {}\r\n", s.replid), bytes)
            };
            wr.write_all(reply.as_bytes()).await?;
            wr.write_all(&bytes).await?;
            cursor = offset as u64 + bytes.len() as u64;
            set_state(&server, id, "online");
            record(
                &ctx.machine,
                Event::PartialResyncAccepted {
                    port: server.borrow().config.port,
                },
            );
        } else {
            // Join the full sync that is about to start, or schedule one.
            let start = {
                let mut s = server.borrow_mut();
                let now = Instant::now();
                match s.pending_sync_at {
                    Some(at) if at >= now => at,
                    _ => {
                        let at = now + s.config.diskless_sync_delay;
                        s.pending_sync_at = Some(at);
                        at
                    }
                }
            };
            sleep_until(start).await;
            ctx.running().await;
            let (header, payload, snapshot_offset, transfer) = {
                let mut s = server.borrow_mut();
                let payload: Vec<u8> = s
                    .data
                    .to_commands()
                    .iter()
                    .flat_map(|c| encode_args(c))
                    .collect();
                // The stream after a snapshot starts with SELECT, counted in offsets.
                s.need_select = true;
                let transfer = transfer_time(&s.config, s.data.snapshot_size());
                (
                    format!("+FULLRESYNC {} {}\r\n", s.replid, s.master_repl_offset),
                    payload,
                    s.master_repl_offset,
                    transfer,
                )
            };
            wr.write_all(header.as_bytes()).await?;
            set_state(&server, id, "send_bulk");
            sleep(transfer).await;
            wr.write_all(format!("${}\r\n", payload.len()).as_bytes())
                .await?;
            wr.write_all(&payload).await?;
            cursor = snapshot_offset + 1;
            set_state(&server, id, "online");
            record(
                &ctx.machine,
                Event::FullSyncSent {
                    port: server.borrow().config.port,
                    bytes: payload.len(),
                },
            );
        }
        stream_to_replica(&server, &ctx, id, &mut rd, &mut wr, &mut cursor, pending).await
    }
    .await;
    if let Err(e) = result {
        record(
            &ctx.machine,
            Event::ReplicaLost {
                port: server.borrow().config.port,
                error: e.to_string(),
            },
        );
    }
    server.borrow_mut().replicas.remove(&id);
}

fn set_state(server: &Shared, id: u64, state: &'static str) {
    if let Some(r) = server.borrow_mut().replicas.get_mut(&id) {
        r.state = state;
        r.last_ack = Instant::now();
    }
}

async fn stream_to_replica(
    server: &Shared,
    ctx: &ProcessCtx,
    id: u64,
    rd: &mut turmoil::net::tcp::OwnedReadHalf,
    wr: &mut turmoil::net::tcp::OwnedWriteHalf,
    cursor: &mut u64,
    pending: Vec<u8>,
) -> std::io::Result<()> {
    let mut acks = CommandReader::with_buffered(pending);
    let mut offsets = server.borrow().offset_tx.subscribe();
    let repl_timeout = server.borrow().config.repl_timeout;
    // One timer, moved as acks arrive, instead of a new one per loop turn.
    let timer = sleep_until(Instant::now() + repl_timeout);
    tokio::pin!(timer);
    loop {
        ctx.running().await;
        let bytes = {
            let s = server.borrow();
            if !s.replicas.contains_key(&id) {
                return Ok(()); // We became a replica ourselves: drop our replicas.
            }
            s.stream_from(*cursor)
        };
        let Some(bytes) = bytes else {
            return Err(std::io::Error::other("replica fell out of the backlog"));
        };
        if !bytes.is_empty() {
            wr.write_all(&bytes).await?;
            *cursor += bytes.len() as u64;
        }
        let last_ack = server.borrow().replicas.get(&id).map(|r| r.last_ack);
        let deadline = last_ack.unwrap_or_else(Instant::now) + repl_timeout;
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        tokio::select! {
            biased;
            incoming = acks.next(rd) => match incoming? {
                Incoming::Command(cmd, _) => {
                    if cmd.len() == 3 && cmd[0].eq_ignore_ascii_case(b"replconf") && cmd[1].eq_ignore_ascii_case(b"ack") {
                        let offset = std::str::from_utf8(&cmd[2]).ok().and_then(|o| o.parse().ok()).unwrap_or(0);
                        let mut s = server.borrow_mut();
                        if let Some(r) = s.replicas.get_mut(&id) {
                            r.ack_offset = offset;
                            r.last_ack = Instant::now();
                        }
                        let acks = s.ack_tx.get() + 1;
                        s.ack_tx.set(acks);
                    }
                }
                Incoming::Closed => return Ok(()),
                Incoming::ProtocolError(e) => return Err(std::io::Error::other(e)),
            },
            _ = offsets.changed() => {}
            _ = &mut timer => {
                return Err(std::io::Error::other("timeout: no ack from replica"));
            }
        }
    }
}

/// WAIT: how many replicas acknowledged `offset`, waiting up to `timeout_ms` (0: forever)
/// for `wanted` of them. Like redis, asks the replicas for an ack right away (GETACK).
pub async fn wait(server: &Shared, wanted: i64, timeout_ms: u64, offset: u64) -> i64 {
    let count = |server: &Shared| {
        server
            .borrow()
            .replicas
            .values()
            .filter(|r| r.state == "online" && r.ack_offset >= offset)
            .count() as i64
    };
    if count(server) >= wanted {
        return count(server);
    }
    let mut acks = {
        let mut s = server.borrow_mut();
        s.append_stream(&encode_args(&args(&["REPLCONF", "GETACK", "*"])));
        s.ack_tx.subscribe()
    };
    let deadline = (timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(timeout_ms));
    loop {
        if count(server) >= wanted {
            return count(server);
        }
        match deadline {
            Some(d) => {
                if timeout(d.saturating_duration_since(Instant::now()), acks.changed())
                    .await
                    .is_err()
                {
                    return count(server);
                }
            }
            None => {
                acks.changed().await;
            }
        }
    }
}

/// Once a second, like redis's replicationCron: ping replicas every `repl-ping-replica-period`.
pub async fn cron(server: Shared, ctx: ProcessCtx) {
    let mut since_ping = Duration::ZERO;
    loop {
        sleep(Duration::from_secs(1)).await;
        ctx.running().await;
        since_ping += Duration::from_secs(1);
        let mut s = server.borrow_mut();
        if since_ping >= s.config.repl_ping_period {
            since_ping = Duration::ZERO;
            if !s.is_replica() && !s.replicas.is_empty() {
                s.append_stream(&encode_args(&args(&["PING"])));
            }
        }
    }
}

// ---------------------------------------------------------------- replica side

/// Keeps the link to whichever master REPLICAOF named, reconnecting about once a second.
pub async fn replica_link_task(server: Shared, ctx: ProcessCtx) {
    let mut generations = server.borrow().link_tx.subscribe();
    loop {
        ctx.running().await;
        let target = server
            .borrow()
            .master
            .as_ref()
            .map(|m| (m.host.clone(), m.port, m.generation));
        let Some((host, port, generation)) = target else {
            generations.changed().await;
            continue;
        };
        let result = tokio::select! {
            biased;
            _ = generations.changed() => continue,
            r = run_link(&server, &ctx, &host, port, generation) => r,
        };
        {
            let mut s = server.borrow_mut();
            if let Some(link) = s.master.as_mut().filter(|m| m.generation == generation) {
                if link.state == LinkState::Connected {
                    link.down_since = Some(Instant::now());
                }
                link.state = LinkState::Connect;
            }
        }
        if let Err(e) = result {
            let master = format!("{host}:{port}");
            let port = server.borrow().config.port;
            record(
                &ctx.machine,
                Event::LinkDown {
                    port,
                    master,
                    error: e.to_string(),
                },
            );
        }
        tokio::select! {
            biased;
            _ = generations.changed() => {}
            _ = sleep(Duration::from_secs(1)) => {}
        }
    }
}

fn set_link(server: &Shared, generation: u64, f: impl FnOnce(&mut super::state::MasterLink)) {
    if let Some(link) = server
        .borrow_mut()
        .master
        .as_mut()
        .filter(|m| m.generation == generation)
    {
        f(link);
    }
}

async fn run_link(
    server: &Shared,
    ctx: &ProcessCtx,
    host: &str,
    port: u16,
    generation: u64,
) -> std::io::Result<()> {
    let repl_timeout = server.borrow().config.repl_timeout;
    let my_port = server.borrow().config.port;
    set_link(server, generation, |l| l.state = LinkState::Connecting);
    let mut stream = timeout(repl_timeout, TcpStream::connect((host, port)))
        .await
        .map_err(|_| std::io::Error::other("timeout connecting to the master"))??;
    set_link(server, generation, |l| l.state = LinkState::Handshake);
    let mut reader = CommandReader::default();
    let mut buf = Vec::new();
    let step = |cmd: Vec<Vec<u8>>| encode_args(&cmd);
    let handshake = async {
        stream.write_all(&step(args(&["PING"]))).await?;
        read_line(&mut stream, &mut buf).await?;
        stream
            .write_all(&step(args(&[
                "REPLCONF",
                "listening-port",
                &my_port.to_string(),
            ])))
            .await?;
        read_line(&mut stream, &mut buf).await?;
        stream
            .write_all(&step(args(&["REPLCONF", "capa", "eof", "capa", "psync2"])))
            .await?;
        read_line(&mut stream, &mut buf).await?;
        let (replid, offset) = {
            let s = server.borrow();
            (s.replid.clone(), s.master_repl_offset + 1)
        };
        stream
            .write_all(&step(args(&["PSYNC", &replid, &offset.to_string()])))
            .await?;
        read_line(&mut stream, &mut buf).await
    };
    let reply = timeout(repl_timeout, handshake)
        .await
        .map_err(|_| std::io::Error::other("timeout during the handshake"))??;
    let words: Vec<&str> = reply.split_whitespace().collect();
    match words.as_slice() {
        ["+FULLRESYNC", replid, offset] => {
            let offset: u64 = offset.parse().map_err(std::io::Error::other)?;
            set_link(server, generation, |l| l.state = LinkState::Sync);
            let snapshot = timeout(repl_timeout, read_bulk(&mut stream, &mut buf))
                .await
                .map_err(|_| std::io::Error::other("timeout receiving the snapshot"))??;
            let mut data = Keyspace::default();
            let mut snap = CommandReader::with_buffered(snapshot);
            while let Some(Incoming::Command(cmd, _)) = snap.parse()? {
                apply(&mut data, &cmd);
            }
            let mut s = server.borrow_mut();
            s.data = data;
            s.replid = replid.to_string();
            s.replid2 = "0".repeat(40);
            s.second_repl_offset = -1;
            s.master_repl_offset = offset;
            s.backlog = None;
            s.ensure_backlog();
            persistence::store_synced(&s);
            record(
                &ctx.machine,
                Event::SyncFinished {
                    port: my_port,
                    partial: false,
                },
            );
        }
        ["+CONTINUE", rest @ ..] => {
            let mut s = server.borrow_mut();
            if let Some(new_id) = rest.first() {
                if *new_id != s.replid {
                    s.shift_replid();
                    s.replid = new_id.to_string();
                }
            }
            s.ensure_backlog();
            record(
                &ctx.machine,
                Event::SyncFinished {
                    port: my_port,
                    partial: true,
                },
            );
        }
        _ => {
            return Err(std::io::Error::other(format!(
                "unexpected PSYNC reply {reply:?}"
            )))
        }
    }
    set_link(server, generation, |l| {
        l.state = LinkState::Connected;
        l.last_io = Some(Instant::now());
        l.down_since = None;
    });
    reader = CommandReader::with_buffered(
        std::mem::take(&mut buf)
            .into_iter()
            .chain(reader.take_buffered())
            .collect(),
    );
    let (mut rd, mut wr) = stream.into_split();
    let mut ack_tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_io = Instant::now();
    let timer = sleep_until(last_io + repl_timeout);
    tokio::pin!(timer);
    loop {
        ctx.running().await;
        if timer.deadline() != last_io + repl_timeout {
            timer.as_mut().reset(last_io + repl_timeout);
        }
        tokio::select! {
            biased;
            incoming = reader.next(&mut rd) => match incoming? {
                Incoming::Command(cmd, _) => {
                    ctx.running().await;
                    last_io = Instant::now();
                    let getack = cmd.len() >= 2 && cmd[0].eq_ignore_ascii_case(b"replconf") && cmd[1].eq_ignore_ascii_case(b"getack");
                    let offset = {
                        let mut s = server.borrow_mut();
                        if !getack {
                            apply(&mut s.data, &cmd);
                            s.dirty += persistence::changes(&cmd);
                        }
                        s.append_stream(&encode_args(&cmd));
                        s.master_repl_offset
                    };
                    set_link(server, generation, |l| l.last_io = Some(last_io));
                    if getack {
                        wr.write_all(&step(args(&["REPLCONF", "ACK", &offset.to_string()]))).await?;
                    }
                }
                Incoming::Closed => return Err(std::io::Error::other("the master closed the connection")),
                Incoming::ProtocolError(e) => return Err(std::io::Error::other(e)),
            },
            _ = ack_tick.tick() => {
                let offset = server.borrow().master_repl_offset;
                wr.write_all(&step(args(&["REPLCONF", "ACK", &offset.to_string()]))).await?;
            }
            _ = &mut timer => {
                return Err(std::io::Error::other("timeout: no data from master"));
            }
        }
    }
}

/// Applies one command of the replication stream (or of a snapshot) to the data.
pub fn apply(data: &mut Keyspace, cmd: &[Vec<u8>]) {
    let name = String::from_utf8_lossy(&cmd[0]).to_ascii_lowercase();
    let _ = match (name.as_str(), cmd.len()) {
        ("set", n) if n >= 3 => {
            data.set(&cmd[1], &cmd[2]);
            Ok(())
        }
        ("del", _) => {
            for k in &cmd[1..] {
                data.del(k);
            }
            Ok(())
        }
        ("incr", 2) => data.incr_by(&cmd[1], 1).map(drop),
        ("rpush", n) if n >= 3 => data.rpush(&cmd[1], &cmd[2..]).map(drop),
        ("flushall", _) => {
            data.clear();
            Ok(())
        }
        _ => Ok(()), // PING, SELECT, REPLCONF: nothing to change in the data.
    };
}

/// Reads one `+...` / `-...` line of the handshake (the bytes after it stay in `buf`).
async fn read_line(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<String> {
    loop {
        if let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=nl).collect();
            return Ok(String::from_utf8_lossy(&line).trim_end().to_string());
        }
        fill(stream, buf).await?;
    }
}

/// Reads the snapshot: `$<len>\r\n` then `len` bytes.
async fn read_bulk(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Vec<u8>> {
    let header = read_line(stream, buf).await?;
    let len: usize = header
        .strip_prefix('$')
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad snapshot header {header:?}")))?;
    while buf.len() < len {
        fill(stream, buf).await?;
    }
    Ok(buf.drain(..len).collect())
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(std::io::Error::other("the master closed the connection"));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}
