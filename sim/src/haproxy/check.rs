//! Health checks: one task per checked server.
//!
//! A check connects, then runs the backend's tcp-check rules in order. Without `timeout
//! check` the whole check is bounded by `inter`; with it, the connect is bounded by
//! `min(timeout connect, inter)` and the rules by `timeout check` (haproxy 2.6 doc). An
//! expect that never matches fails by timeout (L7TOUT), so a replica failing `expect string
//! role:master` costs a whole timeout; a refused connection fails at once (L4CON). The next
//! check starts one interval after the previous one ended, the interval chosen by the
//! server's health (`inter`, `fastinter`, `downinter`).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{sleep, timeout_at, Instant};
use turmoil::net::TcpStream;

use super::config::TcpCheckRule;
use super::state::{CheckStatus, Shared};
use crate::machine::ProcessCtx;

/// What one check needs, copied out of the shared state so no borrow is held across
/// awaits.
struct Job {
    addr: SocketAddr,
    rules: Vec<TcpCheckRule>,
    connect_timeout: Duration,
    rules_timeout: Duration,
}

fn job(state: &Shared, uid: u64) -> Option<Option<Job>> {
    let st = state.borrow();
    let (bi, si) = st.locate(uid)?;
    let s = &st.backends[bi].servers[si];
    if !s.checks_active() {
        return Some(None);
    }
    let (connect_timeout, rules_timeout) = match st.config.timeout_check {
        Some(t) => (st.config.timeout_connect.min(s.inter), t),
        None => (s.inter, s.inter),
    };
    Some(Some(Job {
        addr: SocketAddr::new(s.addr, s.port),
        rules: st.backends[bi].rules.clone(),
        connect_timeout,
        rules_timeout,
    }))
}

/// Checks server `uid` until it is deleted; the first check waits `first_delay`, which
/// spreads the servers' first checks over the smallest interval as haproxy does.
pub(crate) async fn check_loop(state: Shared, uid: u64, first_delay: Duration, ctx: ProcessCtx) {
    let mut delay = first_delay;
    loop {
        sleep(delay).await;
        ctx.running().await;
        let Some(job) = job(&state, uid) else {
            return; // deleted
        };
        if let Some(job) = job {
            set_running(&state, uid, true);
            let status = run_check(&job).await;
            ctx.running().await;
            set_running(&state, uid, false);
            state.borrow_mut().apply_check(uid, status);
        }
        delay = match state.borrow().server(uid) {
            Some(s) => s.interval(),
            None => return,
        };
    }
}

fn set_running(state: &Shared, uid: u64, running: bool) {
    let mut st = state.borrow_mut();
    if let Some((bi, si)) = st.locate(uid) {
        st.backends[bi].servers[si].check_running = running;
    }
}

async fn run_check(job: &Job) -> CheckStatus {
    let start = Instant::now();
    let mut stream =
        match timeout_at(start + job.connect_timeout, TcpStream::connect(job.addr)).await {
            Err(_) => return CheckStatus::L4Tout,
            Ok(Err(_)) => return CheckStatus::L4Con,
            Ok(Ok(s)) => s,
        };
    // Without `timeout check` the connect and the rules share one deadline.
    let deadline = if job.connect_timeout == job.rules_timeout {
        start + job.rules_timeout
    } else {
        Instant::now() + job.rules_timeout
    };
    let mut expects = false;
    let mut buf: Vec<u8> = Vec::new();
    for rule in &job.rules {
        match rule {
            // The first connect is implicit; further connects are not modelled.
            TcpCheckRule::Connect => {}
            TcpCheckRule::Send(text) => {
                if stream.write_all(text.as_bytes()).await.is_err() {
                    return CheckStatus::L7Rsp;
                }
            }
            TcpCheckRule::ExpectString(want) => {
                expects = true;
                let mut chunk = [0u8; 4096];
                while !contains(&buf, want.as_bytes()) {
                    match timeout_at(deadline, stream.read(&mut chunk)).await {
                        Err(_) => return CheckStatus::L7Tout,
                        Ok(Ok(0)) | Ok(Err(_)) => return CheckStatus::L7Rsp,
                        Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                // A matched expect consumes what was read so far.
                buf.clear();
            }
        }
    }
    if expects {
        CheckStatus::L7Ok
    } else {
        CheckStatus::L4Ok
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}
