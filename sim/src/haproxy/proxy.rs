//! The TCP proxy: one accept loop per frontend, one task per session.
//!
//! A new client is accepted even when the backend has no usable server; it is then closed
//! at once (the client reads EOF, haproxy logs `<NOSRV> ... SC`). Otherwise the session is
//! attached to the server picked for it at once, and stays attached until it ends: while
//! haproxy connects (with its retries, see [`super::connect`]), while it relays, and while
//! a half-closed session waits for the server's side. That is what makes `del server`
//! refuse (`Server still has connections attached to it`).
//!
//! Relaying follows haproxy 2.6's stream in TCP mode: a FIN from one side is passed on
//! (`shutw` of the other side) and the other direction goes on until its own FIN, so a
//! client that sends then shuts its write side still gets every reply. Each side has a
//! read timeout (`timeout client`, `timeout server`), pushed back by data read from it
//! and by data written to it (streams are not independent by default); once haproxy has
//! shut the server's write side, the server's becomes `timeout server-fin` when set.
//! Either side's timeout ending ends the session. A shutdown (`on-marked-down
//! shutdown-sessions`, maint, `shutdown sessions server`) closes both sides, except for
//! sessions whose client side is already shut, which haproxy leaves alone.

use std::rc::Rc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};
use turmoil::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use turmoil::net::{TcpListener, TcpStream};

use super::connect::{connect, Pending};
use super::state::{now, SessionCtl, Shared};
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
        let attached = {
            let mut st = state.borrow_mut();
            st.pick(&backend, None).and_then(|uid| {
                st.open_session(uid)
                    .map(|(sid, ctl)| Attachment { uid, sid, ctl })
            })
        };
        let Some(attachment) = attached else {
            tracing::info!(at = ?now(), %frontend, %peer, "{frontend} {backend}/<NOSRV> SC");
            drop(client);
            continue;
        };
        sessions.spawn_local(session(
            state.clone(),
            client,
            backend.clone(),
            attachment,
            ctx.clone(),
        ));
    }
}

/// A session's place on its server.
pub(crate) struct Attachment {
    pub uid: u64,
    pub sid: u64,
    pub ctl: Rc<SessionCtl>,
}

async fn session(
    state: Shared,
    client: TcpStream,
    backend: String,
    mut at: Attachment,
    ctx: ProcessCtx,
) {
    let (mut cr, cw) = client.into_split();
    let mut pending = Pending::default();
    let server = connect(&state, &backend, &mut at, &mut cr, &mut pending, &ctx).await;
    if let Some(server) = server {
        relay(&state, (cr, cw), server, &at.ctl, pending, &ctx).await;
    }
    state.borrow_mut().close_session(at.uid, at.sid);
}

/// The session's timeouts, copied out of the configuration.
struct Timeouts {
    client: Duration,
    server: Duration,
    server_fin: Option<Duration>,
}

async fn relay(
    state: &Shared,
    (mut cr, mut cw): (OwnedReadHalf, OwnedWriteHalf),
    server: TcpStream,
    ctl: &SessionCtl,
    pending: Pending,
    ctx: &ProcessCtx,
) {
    let t = {
        let c = &state.borrow().config;
        Timeouts {
            client: c.timeout_client,
            server: c.timeout_server,
            server_fin: c.timeout_server_fin,
        }
    };
    let (mut sr, mut sw) = server.into_split();
    if ctl.req_shut.get() && !pending.client_eof {
        return; // shut down while connecting
    }
    if !pending.data.is_empty() && sw.write_all(&pending.data).await.is_err() {
        return;
    }
    let mut client_open = !pending.client_eof;
    let mut server_open = true;
    let mut server_rto = t.server;
    if !client_open {
        let _ = sw.shutdown().await;
        server_rto = t.server_fin.unwrap_or(t.server);
    }
    let mut client_exp = Instant::now() + t.client;
    let mut server_exp = Instant::now() + server_rto;
    let mut cbuf = vec![0u8; 16 * 1024];
    let mut sbuf = vec![0u8; 16 * 1024];
    while client_open || server_open {
        tokio::select! {
            biased;
            _ = ctl.shut.notified() => return,
            _ = sleep_until(client_exp), if client_open => return,
            _ = sleep_until(server_exp), if server_open => return,
            r = cr.read(&mut cbuf), if client_open => {
                let n = match r { Ok(n) => n, Err(_) => return };
                ctx.running().await;
                if n == 0 {
                    // The client shut its side: pass the FIN on; the server's side now
                    // waits `timeout server-fin` when set.
                    client_open = false;
                    ctl.req_shut.set(true);
                    let _ = sw.shutdown().await;
                    if let Some(fin) = t.server_fin {
                        server_rto = fin;
                        server_exp = Instant::now() + fin;
                    }
                    continue;
                }
                if sw.write_all(&cbuf[..n]).await.is_err() { return; }
            }
            r = sr.read(&mut sbuf), if server_open => {
                let n = match r { Ok(n) => n, Err(_) => return };
                ctx.running().await;
                if n == 0 {
                    server_open = false;
                    let _ = cw.shutdown().await;
                    continue;
                }
                if cw.write_all(&sbuf[..n]).await.is_err() { return; }
            }
        }
        // Data moved between the sides: both sides' timeouts start again.
        client_exp = Instant::now() + t.client;
        server_exp = Instant::now() + server_rto;
    }
}
