//! The haproxy 2.6 model (TCP mode) that runs inside turmoil.
//!
//! Layout:
//! - [`config`]: configuration as data, and its rendering to a real `haproxy.cfg`.
//! - [`state`]: servers, health counters, admin states, sessions; UP/DOWN transitions.
//! - [`proxy`]: frontends accepting clients and relaying them to a chosen server.
//! - [`connect`]: connecting a session to its server: retries, turnaround, redispatch.
//! - [`check`]: health checks (connect + tcp-check rules) per checked server.
//! - [`runtime_api`]: the runtime API (stats socket) on a TCP port.
//! - [`stats`]: `show servers state` and `show stat` in haproxy's formats.
//! - [`presets`]: the seed lab's proxies.
//!
//! [`run_haproxy`] is a process body for [`crate::machine`]: every task lives in a
//! `JoinSet` it owns, so killing the process drops every socket.

pub mod check;
pub mod config;
pub mod connect;
pub mod presets;
pub mod proxy;
pub mod runtime_api;
pub mod state;
pub mod stats;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use tokio::task::JoinSet;

pub use config::{Backend, Frontend, HaproxyConfig, Server, TcpCheckRule};
pub use state::CheckStatus;

use crate::machine::ProcessCtx;
use crate::trace::{record, Event};

/// Runs one haproxy process until it is killed. Host names are resolved once, at start,
/// as haproxy does.
pub async fn run_haproxy(config: HaproxyConfig, ctx: ProcessCtx) {
    run_haproxy_checking_after(config, Duration::ZERO, ctx).await
}

/// [`run_haproxy`] for a process started before the lab's time zero, as the real world's
/// seed proxies are: it serves from the start, and its checks keep the phase they had,
/// the first one `checks_after` in (`crate::phase::CHECKS_START`).
pub async fn run_haproxy_checking_after(
    config: HaproxyConfig,
    checks_after: Duration,
    ctx: ProcessCtx,
) {
    let resolve = |host: &str| turmoil::lookup(host);
    let state = Rc::new(RefCell::new(state::State::new(config.clone(), &resolve)));
    record(&config.name, Event::HaproxyStarted);
    let mut tasks = JoinSet::new();
    for f in &config.frontends {
        tasks.spawn_local(proxy::frontend_loop(
            state.clone(),
            f.name.clone(),
            f.bind_port,
            f.backend.clone(),
            ctx.clone(),
        ));
    }
    if let Some(port) = config.stats_port {
        tasks.spawn_local(runtime_api::runtime_api_loop(
            state.clone(),
            port,
            ctx.clone(),
        ));
    }
    // haproxy spreads the first checks: the n-th of N checked servers starts after
    // n * (smallest interval) / N.
    let checked: Vec<(u64, Duration)> = state
        .borrow()
        .backends
        .iter()
        .flat_map(|b| b.servers.iter())
        .filter(|s| s.check_configured)
        .map(|s| (s.uid, s.interval()))
        .collect();
    let min_inter = checked.iter().map(|c| c.1).min().unwrap_or_default();
    let n = checked.len() as u32;
    for (pos, (uid, _)) in checked.iter().enumerate() {
        let delay = checks_after + min_inter * pos as u32 / n.max(1);
        tasks.spawn_local(check::check_loop(state.clone(), *uid, delay, ctx.clone()));
    }
    while tasks.join_next().await.is_some() {}
}
