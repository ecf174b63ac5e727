//! One client: a paced loop of operations over one persistent connection, reconnecting with
//! exponential backoff after anything goes wrong, recording every operation in the history.

use std::net::IpAddr;
use std::rc::Rc;
use std::time::Duration;

use super::config::WorkloadConfig;
use super::net::ClientNet;
use super::op::{draw_kind, interpret, Op, Outcome};
use crate::machine::derive_seed;
use failover::resp::{RespConnection, RespError};
use judge::history::{Entry, History, OpKind, Phase};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type Connection<N> = RespConnection<<N as ClientNet>::Stream>;

/// How far an operation got, which decides what a timeout means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Nothing has left the client: a timeout here is a certain failure.
    Connecting,
    /// The request may have left: from here on a timeout or a lost connection is unknown.
    Sent,
}

async fn sleep_until<N: ClientNet>(net: &N, at: Duration) {
    let now = net.now();
    if at > now {
        tokio::time::sleep(at - now).await;
    }
}

/// The next operation's time: one interval after the planned one, so that a real
/// clock's late wake-ups (about 1 ms a time) do not add up and drift the client off the
/// lab's schedule (25 ms by 30 s, enough to meet a proxy on the other side of a health
/// check). After a wait longer than an interval (a frozen app) it starts again from now
/// rather than catching up in a burst.
fn paced(planned: Duration, invoked: Duration, interval: Duration) -> Duration {
    match invoked.saturating_sub(planned) < interval {
        true => planned.saturating_add(interval),
        false => invoked.saturating_add(interval),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Runs client `id` until `config.stop`, then returns after its in-flight operation.
pub(super) async fn run_client<N: ClientNet>(
    id: u32,
    config: Rc<WorkloadConfig>,
    target: IpAddr,
    history: History,
    seed: u64,
    net: N,
) {
    let now = || net.now();
    let Some(interval) = config.interval() else {
        return;
    };
    let port = config.ports[id as usize % config.ports.len()];
    let mut rng =
        ChaCha8Rng::seed_from_u64(derive_seed(seed, &["workload-client", &id.to_string()]));
    // Clients start spread over one interval so that the load is even, not in bursts.
    // Saturating arithmetic: an absurd rate or stop must not panic the lab.
    let offset = interval.saturating_mul(id) / config.clients.max(1);
    let mut next = config.start.saturating_add(offset);
    let mut backoff = config.backoff_min;
    let mut conn: Option<Connection<N>> = None;
    // Keys whose write was acknowledged: reads go to them, so a read of nothing is news.
    let mut written: Vec<String> = Vec::new();
    loop {
        sleep_until(&net, next).await;
        // A frozen app sends nothing.
        net.running().await;
        let invoked = now();
        if invoked >= config.stop {
            break;
        }
        let op_id = history.next_op();
        let op = next_op(&config, &mut rng, id, port, op_id, &written);
        let event = |phase, value, error| Entry {
            at_ms: millis(now()),
            client: id,
            op: op_id,
            phase,
            f: op.f,
            port,
            key: op.key.clone(),
            value,
            error,
        };
        history.record(event(Phase::Invoke, op.value.clone(), None));
        let outcome = attempt(&net, &mut conn, target, port, id, &op, config.timeout).await;
        let (phase, error) = match outcome {
            Outcome::Ok(value) => {
                history.record(event(Phase::Ok, value, None));
                if op.f == OpKind::Write {
                    written.push(op.key.clone());
                }
                backoff = config.backoff_min;
                next = paced(next, invoked, interval);
                continue;
            }
            Outcome::Fail(error) => (Phase::Fail, error),
            Outcome::Unknown(error) => (Phase::Unknown, error),
        };
        history.record(event(phase, None, Some(error.clone())));
        // A real client library drops a connection it no longer trusts.
        if conn.take().is_some() {
            tracing::debug!(client = id, port, at = ?now(), %error, "workload client disconnected");
        }
        next = paced(next, invoked, interval).max(now().saturating_add(backoff));
        backoff = backoff
            .saturating_mul(2)
            .min(config.backoff_max)
            .max(config.backoff_min);
    }
    if conn.is_some() {
        tracing::debug!(client = id, port, at = ?now(), "workload client done, disconnecting");
    }
}

/// The next operation of client `id`, numbered `op_id` so that its value is unique in the
/// whole history.
fn next_op(
    config: &WorkloadConfig,
    rng: &mut ChaCha8Rng,
    id: u32,
    port: u16,
    op_id: u64,
    written: &[String],
) -> Op {
    let value = format!("c{id}-{op_id}");
    match draw_kind(&config.mix, rng) {
        OpKind::Write => Op {
            f: OpKind::Write,
            key: format!("w:{port}:{id}:{op_id}"),
            value: Some(value),
        },
        OpKind::Read => {
            let key = if written.is_empty() {
                format!("w:{port}:{id}:none")
            } else {
                written[rng.random_range(0..written.len())].clone()
            };
            Op {
                f: OpKind::Read,
                key,
                value: None,
            }
        }
        OpKind::Incr => Op {
            f: OpKind::Incr,
            key: format!("counter:{port}"),
            value: None,
        },
        OpKind::Rpush => Op {
            f: OpKind::Rpush,
            key: format!("list:{port}"),
            value: Some(value),
        },
    }
}

/// Connects if needed, sends, waits for the reply, all within `timeout`.
async fn attempt<N: ClientNet>(
    net: &N,
    conn: &mut Option<Connection<N>>,
    target: IpAddr,
    port: u16,
    client: u32,
    op: &Op,
    timeout: Duration,
) -> Outcome {
    let mut stage = Stage::Connecting;
    let result = tokio::time::timeout(
        timeout,
        exchange(net, conn, target, port, client, op, &mut stage),
    )
    .await;
    match (result, stage) {
        (Ok(outcome), _) => outcome,
        (Err(_), Stage::Connecting) => Outcome::Fail("connect timeout".to_string()),
        (Err(_), Stage::Sent) => Outcome::Unknown("timeout".to_string()),
    }
}

async fn exchange<N: ClientNet>(
    net: &N,
    conn: &mut Option<Connection<N>>,
    target: IpAddr,
    port: u16,
    client: u32,
    op: &Op,
    stage: &mut Stage,
) -> Outcome {
    let c = match conn {
        Some(c) => c,
        None => match net.connect(target, port).await {
            Ok(stream) => {
                tracing::debug!(client, port, at = ?net.now(), "workload client connected");
                conn.insert(RespConnection::new(stream))
            }
            Err(e) => {
                tracing::debug!(client, port, at = ?net.now(), error = %e, "workload client could not connect");
                return Outcome::Fail(io_error(&e));
            }
        },
    };
    // From the first byte on, the server may act on the request.
    *stage = Stage::Sent;
    if let Err(e) = c.send(&op.command()).await {
        // The stack refused the bytes (the connection was already closed or reset): a
        // command this small is never half-written, so nothing reached the server.
        return Outcome::Fail(format!("send failed: {}", resp_error(&e)));
    }
    match c.read_reply().await {
        Ok(reply) => interpret(op.f, &reply),
        Err(e) => Outcome::Unknown(resp_error(&e)),
    }
}

fn resp_error(e: &RespError) -> String {
    match e {
        RespError::Closed => "connection closed".to_string(),
        RespError::Io(e) => io_error(e),
        RespError::Protocol(p) => format!("protocol error: {p}"),
    }
}

fn io_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::ConnectionRefused => "connection refused".to_string(),
        ErrorKind::ConnectionReset => "connection reset".to_string(),
        ErrorKind::ConnectionAborted => "connection aborted".to_string(),
        ErrorKind::BrokenPipe => "broken pipe".to_string(),
        ErrorKind::UnexpectedEof => "connection closed".to_string(),
        _ => e.to_string(),
    }
}
