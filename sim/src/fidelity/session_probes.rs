//! Probes of haproxy's sessions under failures: how long a session stays attached to a
//! silent, refusing or frozen server (connect retries, redispatch, half-closed sessions,
//! `timeout server-fin`, `option abortonclose`), what `del server` answers meanwhile, and
//! how the master check fails on a frozen redis and on a silent machine.
//!
//! Times are taken from the fault (a kill, a silence, a SIGSTOP), never from the lab's
//! start. A check's phase is anywhere in its cycle when a fault strikes, so where a time
//! depends on it the probe records the phase-free part (from the first failed check) as
//! an event, and the whole delay only as a range.

use std::time::Duration;

use failover::admin::stat;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::probes::{api, cmd, replicate, server_status, stable_proxy, wait_status, H1, R1, R2};
use super::{Lab, Probe, ProbeFn, ProcessSignal, Setup, Transcript};
use crate::haproxy::HaproxyConfig;

macro_rules! probe {
    ($name:literal, $setup:expr, $f:ident, needs_root: $root:expr) => {
        Probe {
            name: $name,
            setup: $setup,
            run: ProbeFn {
                sim: |lab| Box::pin($f(lab)),
                real: |lab| Box::pin($f(lab)),
            },
            needs_root: $root,
        }
    };
}

/// The probes of this file, in the order the fidelity test runs them.
pub fn all() -> Vec<Probe> {
    vec![
        probe!(
            "haproxy-del-server-after-silent-master",
            classic,
            del_server_after_silent_master,
            needs_root: true
        ),
        probe!(
            "haproxy-del-server-after-silent-master-server-fin",
            server_fin,
            del_server_after_silent_master,
            needs_root: true
        ),
        probe!(
            "haproxy-del-server-after-silent-master-abortonclose",
            server_fin_abortonclose,
            del_server_after_silent_master,
            needs_root: true
        ),
        probe!(
            "haproxy-connect-retries-refused",
            classic,
            retries_refused,
            needs_root: false
        ),
        probe!(
            "haproxy-connect-retries-silent",
            classic,
            retries_silent,
            needs_root: true
        ),
        probe!(
            "haproxy-redispatch-refused",
            two_masters_redispatch,
            redispatch_refused,
            needs_root: false
        ),
        probe!(
            "haproxy-redispatch-silent",
            two_masters_redispatch,
            redispatch_silent,
            needs_root: true
        ),
        probe!("haproxy-half-close", classic, half_close, needs_root: false),
        probe!(
            "haproxy-frozen-redis-behind-master-check",
            classic,
            frozen_redis,
            needs_root: false
        ),
        probe!(
            "haproxy-silent-machine-checks",
            classic,
            silent_machine_checks_inter_1s,
            needs_root: true
        ),
        probe!(
            "haproxy-silent-machine-checks-inter-5s",
            inter_5s,
            silent_machine_checks_inter_5s,
            needs_root: true
        ),
    ]
}

// ---------------------------------------------------------------- setups

/// haproxy1 of a one-port lab with the classic timeouts (connect 5 s, client and server
/// 50 s), `retries` 3, no redispatch: the lab's own proxy.
fn classic() -> Setup {
    super::probes::proxy_setup()
}

fn with_config(change: impl Fn(&mut HaproxyConfig)) -> Setup {
    let mut setup = classic();
    for (_, config) in &mut setup.haproxy {
        change(config);
    }
    setup
}

fn server_fin() -> Setup {
    with_config(|c| c.timeout_server_fin = Some(Duration::from_secs(1)))
}

fn server_fin_abortonclose() -> Setup {
    with_config(|c| {
        c.timeout_server_fin = Some(Duration::from_secs(1));
        c.abortonclose = true;
    })
}

/// Both redis servers active (two masters), `option redispatch`.
fn two_masters_redispatch() -> Setup {
    with_config(|c| {
        c.redispatch = true;
        for server in c.backends.iter_mut().flat_map(|b| b.servers.iter_mut()) {
            server.backup = false;
        }
    })
}

/// The seed's setting: "three unsuccessful attempts each in 5 seconds".
fn inter_5s() -> Setup {
    with_config(|c| {
        for server in c.backends.iter_mut().flat_map(|b| b.servers.iter_mut()) {
            server.inter = Duration::from_secs(5);
        }
    })
}

// ---------------------------------------------------------------- helpers

/// What a client of haproxy1 saw after sending a command: a reply, or how the connection
/// ended, and how long after the send.
async fn request<L: Lab>(lab: &L, args: &[&str], limit: Duration) -> (String, Duration) {
    let start = lab.elapsed();
    let mut stream = match lab.connect(H1).await {
        Ok(s) => s,
        Err(e) => {
            return (
                format!("connect failed: {}", e.kind()),
                lab.elapsed() - start,
            )
        }
    };
    if stream
        .write_all(&failover::resp::encode_command(args))
        .await
        .is_err()
    {
        return ("write failed".into(), lab.elapsed() - start);
    }
    let mut buf = vec![0u8; 512];
    let seen = match tokio::time::timeout(limit, stream.read(&mut buf)).await {
        Ok(Ok(0)) => "accepted, then closed with 0 bytes".into(),
        Ok(Ok(n)) => format!("reply {:?}", String::from_utf8_lossy(&buf[..n])),
        Ok(Err(e)) => format!("read failed: {}", e.kind()),
        Err(_) => format!("no reply in {} s", limit.as_secs()),
    };
    (seen, lab.elapsed() - start)
}

/// Reads until EOF or `limit`: everything received, and whether EOF came.
async fn read_to_eof<S: AsyncRead + Unpin>(stream: &mut S, limit: Duration) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    let end = tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) => return "then EOF".to_string(),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => return format!("then {}", e.kind()),
            }
        }
    })
    .await
    .unwrap_or_else(|_| format!("and no EOF within {} s", limit.as_secs()));
    format!("{:?} {end}", String::from_utf8_lossy(&got))
}

/// An established session through haproxy1 (it answered a PING).
async fn session<L: Lab>(lab: &L, t: &mut Transcript, label: &str) -> Option<L::Stream> {
    let mut s = lab.connect(H1).await.ok()?;
    s.write_all(&failover::resp::encode_command(&["PING"]))
        .await
        .ok()?;
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    t.note(format!(
        "{label} PING -> {:?}",
        String::from_utf8_lossy(&buf[..n])
    ));
    Some(s)
}

/// Waits until redis1 is fully UP (health at its top, no transition under way): a fault
/// must find it there, or its first failed check takes it DOWN at once. (The real lab
/// may start haproxy before the redis servers, so its first checks can fail.)
async fn fully_up<L: Lab>(lab: &L, t: &mut Transcript) {
    let start = lab.elapsed();
    let mut up = false;
    while lab.elapsed() - start < Duration::from_secs(30) {
        if server_status(lab, "redis1").await.0 == "UP" {
            up = true;
            break;
        }
        lab.sleep(Duration::from_millis(100)).await;
    }
    t.note(format!("redis1 fully UP before the fault: {up}"));
}

/// Polls `show stat` every 100 ms for redis1: when its check first failed and when it
/// went DOWN, both from `from`.
async fn watch_down<L: Lab>(
    lab: &L,
    from: Duration,
    limit: Duration,
) -> (Option<Duration>, Option<(Duration, String)>) {
    let mut first_failure = None;
    while lab.elapsed() - from < limit {
        let (status, check) = server_status(lab, "redis1").await;
        let at = lab.elapsed() - from;
        if first_failure.is_none() && (status.starts_with("UP ") || status == "DOWN") {
            first_failure = Some(at);
        }
        if status == "DOWN" {
            return (first_failure, Some((at, check)));
        }
        lab.sleep(Duration::from_millis(100)).await;
    }
    (first_failure, None)
}

/// Records when redis1 went DOWN and with which check status; the delay from the first
/// failed check is phase-free, the delay from the fault only lies in a range.
fn note_down(
    t: &mut Transcript,
    what: &str,
    (first, down): (Option<Duration>, Option<(Duration, String)>),
    range: (u64, u64),
) -> Option<Duration> {
    let Some((at, check)) = down else {
        t.note(format!("{what}: redis1 never marked DOWN"));
        return None;
    };
    t.note(format!("{what}: redis1 DOWN, check {check}"));
    let inside = at >= Duration::from_secs(range.0) && at <= Duration::from_secs(range.1);
    t.note(format!(
        "{what}: DOWN {} {}-{} s after the fault",
        if inside { "within" } else { "outside" },
        range.0,
        range.1
    ));
    if let Some(first) = first {
        t.event(
            format!("{what}: DOWN after the first failed check"),
            at.saturating_sub(first),
        );
    }
    Some(at)
}

/// Tries `del server` every 500 ms until it succeeds or `limit` passes (from `from`).
async fn del_until_deleted<L: Lab>(lab: &L, t: &mut Transcript, from: Duration, limit: Duration) {
    let mut refusals = Vec::new();
    while lab.elapsed() - from < limit {
        let reply = api(lab, "del server redis_9001/redis1").await;
        if reply.starts_with("Server deleted.") {
            t.event(
                format!("del server -> {reply:?} (after the fault)"),
                lab.elapsed() - from,
            );
            break;
        }
        if !refusals.contains(&reply) {
            refusals.push(reply);
        }
        lab.sleep(Duration::from_millis(500)).await;
    }
    for r in refusals {
        t.note(format!("del server refused meanwhile: {r:?}"));
    }
    if lab.elapsed() - from >= limit {
        t.note(format!(
            "del server never succeeded within {} s",
            limit.as_secs()
        ));
    }
}

// ---------------------------------------------------------------- probes

/// A master goes silent with two sessions on it: one established that sends a write and
/// closes (half-closed towards a server that never answers), one still connecting whose
/// client gives up. The controller's removal: maint, `shutdown sessions server`, then
/// `del server` until it succeeds. Classic timeouts: the half-closed session holds it
/// for `timeout server` (50 s); with `timeout server-fin 1s` the connecting one holds it
/// for its 4 × `timeout connect`; with `option abortonclose` as well, nothing does.
async fn del_server_after_silent_master<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    stable_proxy(lab, &mut t).await;
    fully_up(lab, &mut t).await;
    let Some(mut established) = session(lab, &mut t, "established session").await else {
        t.note("could not open a session through haproxy1");
        return t;
    };
    lab.silence("redis1").await;
    let silenced = lab.elapsed();
    let _ = established
        .write_all(&failover::resp::encode_command(&["SET", "a", "2"]))
        .await;
    let connecting = async {
        lab.sleep(Duration::from_millis(500)).await;
        request(lab, &["PING"], Duration::from_secs(2)).await.0
    };
    let close_established = async {
        lab.sleep(Duration::from_secs(1)).await;
        drop(established);
    };
    let (seen, (), down) = tokio::join!(
        connecting,
        close_established,
        watch_down(lab, silenced, Duration::from_secs(15))
    );
    t.note(format!(
        "client connecting to the silent master: {seen}, closed"
    ));
    note_down(&mut t, "silent master", down, (4, 8));
    for c in [
        "set server redis_9001/redis1 state maint",
        "shutdown sessions server redis_9001/redis1",
    ] {
        t.note(format!("{c} -> {:?}", api(lab, c).await));
    }
    del_until_deleted(lab, &mut t, silenced, Duration::from_secs(70)).await;
    t
}

/// A client's request to a master that was just killed (still UP for the checks): three
/// retries a second apart, then EOF. Again, with the redis restarted 1.5 s after the
/// kill: the retry at 2 s reaches it and the request is served.
async fn retries_refused<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    stable_proxy(lab, &mut t).await;
    fully_up(lab, &mut t).await;
    lab.kill(R1).await;
    let (seen, after) = request(lab, &["SET", "r", "1"], Duration::from_secs(10)).await;
    t.event(format!("request to the refusing master: {seen}"), after);
    lab.restart(R1).await;
    match wait_status(lab, "redis1", "UP", Duration::from_secs(15)).await {
        Some(_) => t.note("the restarted redis1 is UP again"),
        None => t.note("the restarted redis1 never came UP"),
    }
    lab.kill(R1).await;
    let restart = async {
        lab.sleep(Duration::from_millis(1500)).await;
        lab.restart(R1).await;
    };
    let ((seen, after), ()) = tokio::join!(
        request(lab, &["SET", "r", "2"], Duration::from_secs(10)),
        restart
    );
    t.event(
        format!("request while the master restarts 1.5 s after its kill: {seen}"),
        after,
    );
    t
}

/// A client's request to a master that just went silent: four connects of `timeout
/// connect` each, then EOF, although the checks mark the server DOWN well before.
async fn retries_silent<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    stable_proxy(lab, &mut t).await;
    fully_up(lab, &mut t).await;
    lab.silence("redis1").await;
    let silenced = lab.elapsed();
    let (answer, down) = tokio::join!(
        request(lab, &["SET", "s", "1"], Duration::from_secs(30)),
        watch_down(lab, silenced, Duration::from_secs(15))
    );
    note_down(&mut t, "silent master", down, (4, 8));
    t.event(
        format!("request to the silent master: {}", answer.0),
        answer.1,
    );
    t
}

/// Two active masters in round robin; each holds its own name under `who`.
async fn two_masters<L: Lab>(lab: &L, t: &mut Transcript) {
    for (ep, name) in [(R1, "redis1"), (R2, "redis2")] {
        t.result(
            &format!("{name} SET who {name}"),
            &cmd(lab, ep, &["SET", "who", name]).await,
        );
    }
    lab.sleep(Duration::from_secs(3)).await;
    for server in ["redis1", "redis2"] {
        let (status, check) = server_status(lab, server).await;
        t.note(format!("{server} status={status} check={check}"));
    }
    // Which server round robin starts with depends on the order the servers came UP
    // (the real lab's first checks may fail); that they alternate does not.
    let mut served = Vec::new();
    for _ in 0..4 {
        let (seen, _) = request(lab, &["GET", "who"], Duration::from_secs(3)).await;
        served.push(seen);
    }
    let alternate = served.windows(2).all(|w| w[0] != w[1]);
    t.note(format!(
        "round robin alternates between the two: {alternate} ({} distinct replies)",
        served
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    ));
    // Make redis1 round robin's next turn; whether this takes a request depends on the
    // start, so its reply is not recorded.
    if served.last().is_some_and(|s| s.contains("redis1")) {
        let _ = request(lab, &["GET", "who"], Duration::from_secs(3)).await;
    }
}

/// The next request (round robin's turn: redis1) meets a refused connect and is
/// redispatched to redis2 at once, without the turnaround.
async fn redispatch_refused<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    two_masters(lab, &mut t).await;
    lab.kill(R1).await;
    let (seen, after) = request(lab, &["GET", "who"], Duration::from_secs(10)).await;
    t.event(
        format!("request meeting the refusing redis1: {seen}"),
        after,
    );
    t
}

/// The next request (round robin's turn: redis1) waits for its connect to time out,
/// then is redispatched to redis2.
async fn redispatch_silent<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    two_masters(lab, &mut t).await;
    lab.silence("redis1").await;
    let (seen, after) = request(lab, &["GET", "who"], Duration::from_secs(30)).await;
    t.event(format!("request meeting the silent redis1: {seen}"), after);
    t
}

/// A client sends three commands and shuts its write side: it still gets every reply,
/// then EOF.
async fn half_close<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    stable_proxy(lab, &mut t).await;
    let Ok(mut s) = lab.connect(H1).await else {
        t.note("could not connect to haproxy1");
        return t;
    };
    let mut bytes = failover::resp::encode_command(&["PING"]);
    bytes.extend(failover::resp::encode_command(&["SET", "h", "1"]));
    bytes.extend(failover::resp::encode_command(&["GET", "h"]));
    let sent = s.write_all(&bytes).await.is_ok() && s.shutdown().await.is_ok();
    t.note(format!(
        "sent PING, SET h 1, GET h and shut the write side: {sent}"
    ));
    t.note(format!(
        "received {}",
        read_to_eof(&mut s, Duration::from_secs(5)).await
    ));
    t
}

/// SIGSTOP on the master: connects still succeed, so the check fails by L7TOUT at the
/// `+PONG` expect. At DOWN the open session gets EOF (`shutdown-sessions`); a session
/// whose client already shut its side stays attached, and gets its reply after SIGCONT.
async fn frozen_redis<L: Lab>(lab: &L) -> Transcript {
    let mut t = Transcript::default();
    stable_proxy(lab, &mut t).await;
    fully_up(lab, &mut t).await;
    let (Some(mut open), Some(mut half)) = (
        session(lab, &mut t, "open session").await,
        session(lab, &mut t, "half-closed session").await,
    ) else {
        t.note("could not open the sessions through haproxy1");
        return t;
    };
    lab.signal(R1, ProcessSignal::Stop).await;
    let stopped = lab.elapsed();
    let _ = half
        .write_all(&failover::resp::encode_command(&["GET", "a"]))
        .await;
    let _ = half.shutdown().await;
    let open_end = async {
        let seen = read_to_eof(&mut open, Duration::from_secs(15)).await;
        (seen, lab.elapsed() - stopped)
    };
    let ((seen, ended), down) =
        tokio::join!(open_end, watch_down(lab, stopped, Duration::from_secs(15)));
    let down_at = note_down(&mut t, "frozen master", down, (4, 8));
    match down_at {
        Some(down_at) => t.event(
            format!("open session received {seen}, from DOWN"),
            ended.saturating_sub(down_at),
        ),
        None => t.note(format!("open session received {seen}")),
    }
    for c in [
        "set server redis_9001/redis1 state maint",
        "del server redis_9001/redis1",
    ] {
        t.note(format!("{c} -> {:?}", api(lab, c).await));
    }
    lab.signal(R1, ProcessSignal::Cont).await;
    t.note(format!(
        "after SIGCONT the half-closed session received {}",
        read_to_eof(&mut half, Duration::from_secs(5)).await
    ));
    lab.sleep(Duration::from_secs(1)).await;
    t.note(format!(
        "del server redis_9001/redis1 -> {:?}",
        api(lab, "del server redis_9001/redis1").await
    ));
    t
}

async fn silent_machine_checks_inter_1s<L: Lab>(lab: &L) -> Transcript {
    silent_machine_checks(lab, (4, 8)).await
}

async fn silent_machine_checks_inter_5s<L: Lab>(lab: &L) -> Transcript {
    silent_machine_checks(lab, (20, 32)).await
}

/// A silent machine behind the master check: each check times out at the connect
/// (L4TOUT), costing `inter`, then waits `inter`; DOWN after `fall` of them, so from the
/// fault somewhere in `range` (seconds) depending on the check's phase.
async fn silent_machine_checks<L: Lab>(lab: &L, range: (u64, u64)) -> Transcript {
    let mut t = Transcript::default();
    replicate(lab, &mut t).await;
    let stable = wait_status(lab, "redis2", "DOWN", Duration::from_secs(30)).await;
    t.note(format!("the replica redis2 is DOWN: {}", stable.is_some()));
    fully_up(lab, &mut t).await;
    let last = stat::parse_stat_csv(&api(lab, "show stat").await)
        .and_then(|rows| {
            stat::find(&rows, "redis_9001", "redis1").map(|r| {
                stat::col(r, "check_status")
                    .trim_start_matches("* ")
                    .to_string()
            })
        })
        .unwrap_or_default();
    t.note(format!("redis1's last check before the silence: {last}"));
    lab.silence("redis1").await;
    let silenced = lab.elapsed();
    let down = watch_down(lab, silenced, Duration::from_secs(45)).await;
    note_down(&mut t, "silent machine", down, range);
    for server in ["redis1", "redis2"] {
        let (status, check) = server_status(lab, server).await;
        t.note(format!("after: {server} status={status} check={check}"));
    }
    t
}
