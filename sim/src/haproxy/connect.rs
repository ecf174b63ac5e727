//! Connecting a session to its server, with haproxy 2.6's retries and redispatch
//! (`back_handle_st_cer` in `backend.c`/`stream.c`).
//!
//! Each attempt is bounded by `timeout connect`. A failed attempt is retried up to
//! `retries` times; after the last, the client is closed (EOF). A refused connect is
//! retried after a turnaround of `min(1 s, timeout connect)`, a timed-out one at once:
//! so a refused server costs the client about 3 s, a silent one 4 × `timeout connect`.
//! With `option redispatch` a retry goes back to the load balancer (avoiding the server
//! that failed) when that server is no longer UP, on the last retry, or when more than
//! one active server is usable; in that last case there is no turnaround. The session
//! stays attached to its server while it connects, whatever the checks decide, which is
//! why `del server` refuses meanwhile; only during a turnaround is it let go.
//!
//! While connecting, what the client sends is kept (up to one buffer) and its FIN noted.
//! A client that closed, or a shutdown asked by the proxy, aborts the connect when
//! nothing of the request is waiting or with `option abortonclose`; otherwise haproxy
//! goes on connecting to deliver the request.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::time::{sleep, timeout};
use turmoil::net::tcp::OwnedReadHalf;
use turmoil::net::TcpStream;

use super::proxy::Attachment;
use super::state::{now, Shared};
use crate::machine::ProcessCtx;

/// haproxy's buffer size: while connecting, a client's request is read up to this much.
const BUFFER: usize = 16 * 1024;

/// What the client sent while haproxy was connecting.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub data: Vec<u8>,
    pub client_eof: bool,
}

/// How one attempt ended.
enum Attempt {
    Connected(TcpStream),
    Failed { refused: bool },
    Aborted,
}

struct Settings {
    timeout_connect: Duration,
    retries: u32,
    redispatch: bool,
    abortonclose: bool,
}

/// Connects the session to its server, retrying and redispatching as haproxy does;
/// `None` when it gave up or was aborted (the caller then closes the client).
pub(crate) async fn connect(
    state: &Shared,
    backend: &str,
    at: &mut Attachment,
    client: &mut OwnedReadHalf,
    pending: &mut Pending,
    ctx: &ProcessCtx,
) -> Option<TcpStream> {
    let cfg = {
        let c = &state.borrow().config;
        Settings {
            timeout_connect: c.timeout_connect,
            retries: c.retries,
            redispatch: c.redispatch,
            abortonclose: c.abortonclose,
        }
    };
    let mut retried = 0;
    loop {
        let addr = state.borrow().addr_of(at.uid)?;
        let attempt = watching(at, client, pending, &cfg, async {
            match timeout(cfg.timeout_connect, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => Attempt::Connected(s),
                Ok(Err(_)) => Attempt::Failed { refused: true },
                Err(_) => Attempt::Failed { refused: false },
            }
        })
        .await;
        ctx.running().await;
        let refused = match attempt {
            Attempt::Connected(s) => return Some(s),
            Attempt::Aborted => {
                tracing::info!(at = ?now(), %addr, "client aborted while connecting (CC)");
                return None;
            }
            Attempt::Failed { refused } => refused,
        };
        if retried >= cfg.retries {
            tracing::info!(at = ?now(), %addr, retried, "server connect failed, closing client (SC)");
            return None;
        }
        retried += 1;
        let moved = cfg.redispatch && redispatch(state, backend, at, retried == cfg.retries)?;
        // Only a redispatch among several usable active servers skips the turnaround.
        let wait = refused && !(moved && state.borrow().usable_active(at.uid) > 1);
        if wait {
            // haproxy lets go of the server during the turnaround (its `cur_sess` drops),
            // so a `del server` then succeeds and the retry finds no server: the client
            // gets EOF. (Real 2.6.12 often segfaults there instead, see
            // `failover::admin::haproxy::TURNAROUND_WAIT`; the controller never lets it.)
            state.borrow_mut().close_session(at.uid, at.sid);
            let turnaround = cfg.timeout_connect.min(Duration::from_secs(1));
            let waited = watching(at, client, pending, &cfg, async {
                sleep(turnaround).await;
                Attempt::Failed { refused }
            })
            .await;
            if matches!(waited, Attempt::Aborted) {
                return None;
            }
            ctx.running().await;
            if !state.borrow_mut().reattach(at.uid, at.sid, &at.ctl) {
                tracing::info!(at = ?now(), %addr, "server deleted while retrying, closing client (SC)");
                return None;
            }
        }
    }
}

/// Redispatches the session when haproxy would: its server is no longer UP, this is the
/// last retry, or several active servers are usable. Returns whether it did; `None` when
/// no server is left to take it.
fn redispatch(state: &Shared, backend: &str, at: &mut Attachment, last: bool) -> Option<bool> {
    let mut st = state.borrow_mut();
    let up = st.server(at.uid).is_some_and(|s| s.running);
    if up && !last && st.usable_active(at.uid) <= 1 {
        return Some(false);
    }
    let to = st.pick(backend, Some(at.uid))?;
    if to != at.uid {
        st.move_session(at.uid, to, at.sid);
        at.uid = to;
    }
    Some(true)
}

/// Runs `step` while reading the client and listening for a shutdown; returns
/// `Aborted` as soon as haproxy would abort the connect.
async fn watching(
    at: &Attachment,
    client: &mut OwnedReadHalf,
    pending: &mut Pending,
    cfg: &Settings,
    step: impl std::future::Future<Output = Attempt>,
) -> Attempt {
    tokio::pin!(step);
    let mut chunk = [0u8; 4096];
    loop {
        if at.ctl.req_shut.get() && (pending.data.is_empty() || cfg.abortonclose) {
            return Attempt::Aborted;
        }
        let reading = !pending.client_eof && pending.data.len() < BUFFER;
        tokio::select! {
            biased;
            _ = at.ctl.shut.notified() => {}
            r = client.read(&mut chunk), if reading => match r {
                Ok(0) | Err(_) => {
                    pending.client_eof = true;
                    at.ctl.req_shut.set(true);
                }
                Ok(n) => pending.data.extend_from_slice(&chunk[..n]),
            },
            outcome = &mut step => return outcome,
        }
    }
}
