//! The TCP proxy: one accept loop per frontend, one task per session.
//!
//! A new client is accepted even when the backend has no usable server; it is then closed at
//! once (the client reads EOF, haproxy logs `<NOSRV> ... SC`). A failed server connect also
//! closes the client (haproxy's retries and redispatch are not modelled). Bytes are relayed
//! both ways; EOF from either side closes both (a half-close becomes a full close). The
//! session's idle timeout is `min(timeout client, timeout server)`, reset by data in either
//! direction. A session registers with its server so that a server marked DOWN (with
//! `on-marked-down shutdown-sessions`) can close it.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, timeout, Instant};
use turmoil::net::{TcpListener, TcpStream};

use super::state::{now, Shared};
use crate::machine::ProcessCtx;

/// Accepts clients on `port` for `backend` until the process dies.
pub(crate) async fn frontend_loop(
    state: Shared,
    frontend: String,
    port: u16,
    backend: String,
    ctx: ProcessCtx,
) {
    let listener = match TcpListener::bind(("0.0.0.0", port)).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(%frontend, port, error = %e, "cannot bind frontend");
            return;
        }
    };
    // Sessions live in this loop's set: aborting the loop aborts them and drops sockets.
    let mut sessions = JoinSet::new();
    loop {
        let Ok((client, peer)) = listener.accept().await else {
            continue;
        };
        // The kernel accepted; a frozen haproxy does nothing more.
        ctx.running().await;
        while sessions.try_join_next().is_some() {}
        let picked = state.borrow().pick(&backend);
        let Some((uid, addr)) = picked else {
            tracing::info!(at = ?now(), %frontend, %peer, "{frontend} {backend}/<NOSRV> SC");
            drop(client);
            continue;
        };
        sessions.spawn_local(session(state.clone(), client, uid, addr, ctx.clone()));
    }
}

async fn session(
    state: Shared,
    client: TcpStream,
    uid: u64,
    addr: std::net::SocketAddr,
    ctx: ProcessCtx,
) {
    let (connect_timeout, idle) = {
        let st = state.borrow();
        let c = &st.config;
        (c.timeout_connect, c.timeout_client.min(c.timeout_server))
    };
    let server = match timeout(connect_timeout, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        _ => {
            tracing::info!(at = ?now(), %addr, "server connect failed, closing client (SC)");
            return;
        }
    };
    let Some((sid, kill)) = state.borrow_mut().open_session(uid) else {
        return;
    };
    relay(client, server, &kill, idle, &ctx).await;
    state.borrow_mut().close_session(uid, sid);
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    kill: &tokio::sync::Notify,
    idle: Duration,
    ctx: &ProcessCtx,
) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let mut cbuf = vec![0u8; 16 * 1024];
    let mut sbuf = vec![0u8; 16 * 1024];
    // One timer, pushed back on traffic, rather than a new one per chunk relayed.
    let timer = sleep_until(Instant::now() + idle);
    tokio::pin!(timer);
    loop {
        tokio::select! {
            biased;
            _ = kill.notified() => return,
            _ = &mut timer => return,
            r = cr.read(&mut cbuf) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                ctx.running().await;
                if sw.write_all(&cbuf[..n]).await.is_err() { return; }
            }
            r = sr.read(&mut sbuf) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                ctx.running().await;
                if cw.write_all(&sbuf[..n]).await.is_err() { return; }
            }
        }
        timer.as_mut().reset(Instant::now() + idle);
    }
}
