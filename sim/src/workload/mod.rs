//! The workload: the seed's `redis-test` script made exact. Clients on the app machine send
//! a paced mix of writes, reads, counter increments and list pushes through the local
//! haproxy, and record every operation in the [`History`](judge::history::History).
//!
//! Layout:
//! - `config`: [`WorkloadConfig`] and the operation [`Mix`];
//! - `op`: drawing an operation, its command, what its reply means;
//! - `client`: one client's loop (pacing, connection, timeout, backoff, recording);
//! - `read_back`: the final read of every port's data, for the checkers.

mod client;
pub mod config;
pub mod net;
pub mod op;
pub mod read_back;

use std::net::IpAddr;
use std::rc::Rc;

use tokio::task::JoinSet;

pub use config::{Mix, WorkloadConfig};
pub use net::{ClientNet, TurmoilNet};
pub use read_back::{read_back, read_back_from, read_back_with, written_keys, ReadBack};

use crate::machine::ProcessCtx;
use judge::history::History;

/// Runs every client of the workload against `target` (the app's haproxy: 127.0.0.1 on the
/// app machine) until `config.stop`; returns when the last in-flight operation is done.
///
/// The clients are tasks of this process, so killing the process stops them; their
/// in-flight operations then stay without completion in the history, which a checker must
/// read as unknown.
pub async fn run_workload(
    config: WorkloadConfig,
    target: IpAddr,
    history: History,
    ctx: ProcessCtx,
) {
    let seed = ctx.seed;
    run_clients(config, target, history, seed, TurmoilNet { ctx: Some(ctx) }).await
}

/// The same clients in any world: `seed` draws their operations.
pub async fn run_clients<N: ClientNet>(
    config: WorkloadConfig,
    target: IpAddr,
    history: History,
    seed: u64,
    net: N,
) {
    let config = Rc::new(config);
    let mut tasks = JoinSet::new();
    for id in 0..config.clients {
        tasks.spawn_local(client::run_client(
            id,
            config.clone(),
            target,
            history.clone(),
            seed,
            net.clone(),
        ));
    }
    while tasks.join_next().await.is_some() {}
}
