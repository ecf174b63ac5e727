//! The redis-server process: accepts connections and runs each client's commands.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use failover::resp::encode_frame;
use redis_protocol::resp2::types::OwnedFrame;
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use turmoil::net::{TcpListener, TcpStream};

use super::commands::{execute, ClientState, Outcome};
use super::config::RedisConfig;
use super::persistence;
use super::protocol::{CommandReader, Incoming};
use super::replication;
use super::state::{ClientEntry, Server, Shared};
use crate::machine::ProcessCtx;
use crate::trace::{record, Event};

/// Runs one redis-server process until it is killed, or stopped (SIGTERM: it saves its
/// final snapshot, then exits).
pub async fn run_redis(config: RedisConfig, ctx: ProcessCtx) {
    let port = config.port;
    let mut state = Server::new(config, ctx.seed);
    state.machine = ctx.machine.clone();
    state.disk = ctx.disk.clone();
    ctx.catch_sigterm();
    let server: Shared = Rc::new(RefCell::new(state));
    let listener = match TcpListener::bind(("0.0.0.0", port)).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(machine = %ctx.machine, port, error = %e, "redis could not bind");
            return;
        }
    };
    persistence::load(&mut server.borrow_mut());
    record(&ctx.machine, Event::RedisReady { port });
    let mut tasks = JoinSet::new();
    tasks.spawn_local(replication::replica_link_task(server.clone(), ctx.clone()));
    tasks.spawn_local(replication::cron(server.clone(), ctx.clone()));
    tasks.spawn_local(persistence::cron(server.clone(), ctx.clone()));
    loop {
        tokio::select! {
            biased;
            _ = ctx.sigterm() => {
                persistence::shutdown(&server).await;
                // Returning drops every task and socket: clients and replicas see EOF.
                return;
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                tasks.spawn_local(client_connection(server.clone(), ctx.clone(), stream, peer.ip().to_string()));
            }
        }
    }
}

async fn client_connection(server: Shared, ctx: ProcessCtx, stream: TcpStream, peer_ip: String) {
    let kill = Rc::new(Notify::new());
    let mut client = {
        let mut s = server.borrow_mut();
        let id = s.next_id();
        s.clients.insert(id, ClientEntry { kill: kill.clone() });
        ClientState {
            id,
            peer_ip,
            last_write_offset: 0,
            listening_port: None,
        }
    };
    let id = client.id;
    let became_replica = serve(&server, &ctx, &mut client, stream, &kill).await;
    if !became_replica {
        server.borrow_mut().clients.remove(&id);
    }
}

/// Answers commands until the client leaves or is killed. Returns true when the connection
/// was handed over to replication.
async fn serve(
    server: &Shared,
    ctx: &ProcessCtx,
    client: &mut ClientState,
    mut stream: TcpStream,
    kill: &Notify,
) -> bool {
    let mut reader = CommandReader::default();
    loop {
        ctx.running().await;
        let incoming = tokio::select! {
            biased;
            _ = kill.notified() => return false,
            r = reader.next(&mut stream) => r,
        };
        // What arrived while the process was frozen waits in the socket until it thaws.
        ctx.running().await;
        let args = match incoming {
            Ok(Incoming::Command(args, _)) => args,
            Ok(Incoming::Closed) | Err(_) => return false,
            Ok(Incoming::ProtocolError(text)) => {
                let _ = write(&mut stream, &OwnedFrame::Error(format!("ERR {text}"))).await;
                return false;
            }
        };
        let outcome = execute(&mut server.borrow_mut(), client, &args);
        let reply = match outcome {
            Outcome::Reply(reply) => reply,
            Outcome::ReplyAndClose(reply) => {
                let _ = write(&mut stream, &reply).await;
                return false;
            }
            Outcome::KillNormalClients => {
                let mut s = server.borrow_mut();
                let victims: Vec<u64> = s
                    .clients
                    .keys()
                    .copied()
                    .filter(|c| *c != client.id)
                    .collect();
                for v in &victims {
                    if let Some(entry) = s.clients.remove(v) {
                        entry.kill.notify_one();
                    }
                }
                OwnedFrame::Integer(victims.len() as i64)
            }
            Outcome::Wait {
                replicas,
                timeout_ms,
                offset,
            } => OwnedFrame::Integer(replication::wait(server, replicas, timeout_ms, offset).await),
            Outcome::Psync { replid, offset } => {
                server.borrow_mut().clients.remove(&client.id);
                let pending = reader.take_buffered();
                replication::serve_replica(
                    server.clone(),
                    ctx.clone(),
                    stream,
                    client,
                    replid,
                    offset,
                    pending,
                )
                .await;
                return true;
            }
        };
        if write(&mut stream, &reply).await.is_err() {
            return false;
        }
    }
}

async fn write(stream: &mut TcpStream, frame: &OwnedFrame) -> std::io::Result<()> {
    stream.write_all(&encode_frame(frame)).await
}

/// How long a transfer of `bytes` takes at the configured full-sync speed.
pub fn transfer_time(config: &RedisConfig, bytes: usize) -> Duration {
    let ms = (bytes as u64).saturating_mul(1000) / config.sync_bytes_per_second.max(1);
    Duration::from_millis(ms.max(1))
}
