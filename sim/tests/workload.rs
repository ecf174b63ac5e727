//! The workload against the redis model in turmoil: pacing, completeness, determinism, and
//! what clients record when the server dies or stops answering.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use judge::history::{Entry, History, OpKind, Phase};
use sim::machine::{factory, run_machine, MachineControl, MachineSpec, ProcessCommand, ProcessCtx};
use sim::redis::{run_redis, RedisConfig};
use sim::workload::{read_back, run_workload, written_keys, ReadBack, WorkloadConfig};
use tokio::io::AsyncReadExt;
use tokio::task::JoinSet;
use turmoil::net::TcpListener;

const PORT: u16 = 7001;

fn sim(seed: u64) -> turmoil::Sim<'static> {
    turmoil::Builder::new()
        .epoch(UNIX_EPOCH)
        // A LAN's latency: with turmoil's default (20 ms mean one way) a round trip takes
        // about the 40 ms between one client's invocations, and the clients fall short of
        // the rate (by design: one operation at a time per client).
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(5))
        .rng_seed(seed)
        .tick_duration(Duration::from_millis(1))
        .simulation_duration(Duration::from_secs(120))
        .build()
}

/// A host "redis" running one redis model process, "redis-7001", under a supervisor.
fn redis_host(sim: &mut turmoil::Sim<'static>, seed: u64) -> MachineControl {
    let control = MachineControl::default();
    let spec = MachineSpec {
        name: "redis".to_string(),
        seed,
        processes: vec![(
            format!("redis-{PORT}"),
            factory(|ctx| run_redis(RedisConfig::debian(PORT), ctx)),
        )],
    };
    let host_control = control.clone();
    sim.host("redis", move || {
        let (spec, control) = (spec.clone(), host_control.clone());
        async move {
            run_machine(spec, control).await;
            Ok(())
        }
    });
    control
}

/// The workload as a turmoil client "app" aimed at `server`; reads back at the end.
fn app(
    sim: &mut turmoil::Sim<'static>,
    seed: u64,
    config: WorkloadConfig,
    server: &'static str,
) -> (History, Rc<RefCell<Option<ReadBack>>>) {
    let history = History::new();
    let found: Rc<RefCell<Option<ReadBack>>> = Rc::default();
    let (h, sink) = (history.clone(), found.clone());
    sim.client("app", async move {
        let ctx = ProcessCtx::standalone("app", "workload", seed);
        let target = turmoil::lookup(server);
        run_workload(config, target, h.clone(), ctx).await;
        let keys = written_keys(&h, PORT);
        *sink.borrow_mut() = Some(read_back(target, PORT, &keys, Duration::from_secs(1)).await);
        Ok(())
    });
    (history, found)
}

fn config(clients: u32, rate: f64) -> WorkloadConfig {
    WorkloadConfig {
        clients,
        rate,
        ports: vec![PORT],
        start: Duration::from_secs(1),
        stop: Duration::from_secs(11),
        ..WorkloadConfig::default()
    }
}

/// Every invoke has exactly one completion, after it, by the same client; returns
/// op -> (invoke, completion).
fn pairs(history: &History) -> BTreeMap<u64, (Entry, Entry)> {
    let mut invokes = BTreeMap::new();
    let mut done = BTreeMap::new();
    for e in history.events() {
        if e.phase == Phase::Invoke {
            assert!(invokes.insert(e.op, e).is_none(), "op invoked twice");
        } else {
            let inv: &Entry = invokes.get(&e.op).expect("completion after its invoke");
            assert_eq!((inv.client, inv.f, &inv.key), (e.client, e.f, &e.key));
            assert!(e.at_ms >= inv.at_ms);
            assert!(done.insert(e.op, e).is_none(), "op completed twice");
        }
    }
    assert_eq!(invokes.len(), done.len(), "every invoke completes");
    invokes
        .into_iter()
        .map(|(op, inv)| {
            let d = done.remove(&op).expect("completed");
            (op, (inv, d))
        })
        .collect()
}

fn healthy_run(seed: u64) -> (History, ReadBack) {
    let mut sim = sim(seed);
    redis_host(&mut sim, seed);
    let (history, found) = app(&mut sim, seed, config(4, 100.0), "redis");
    sim.run().expect("simulation runs");
    let found = found.borrow_mut().take().expect("read back ran");
    (history, found)
}

#[test]
fn paced_complete_and_all_ok_against_a_healthy_server() {
    let (history, found) = healthy_run(1);
    let ops = pairs(&history);
    // 100 ops/s for 10 s.
    assert!((990..=1010).contains(&ops.len()), "{} ops", ops.len());
    for (inv, done) in ops.values() {
        assert_eq!(done.phase, Phase::Ok, "{done:?}");
        assert!(inv.at_ms >= 1000 && inv.at_ms < 11_000);
    }
    let kinds: BTreeSet<OpKind> = ops.values().map(|(i, _)| i.f).collect();
    assert_eq!(kinds.len(), 4, "the mix draws every kind");
    // Values sent are unique across the run.
    let sent: Vec<&String> = ops.values().filter_map(|(i, _)| i.value.as_ref()).collect();
    assert_eq!(sent.len(), sent.iter().collect::<BTreeSet<_>>().len());
    // Reads see what was written; the final read-back finds every write, push and incr.
    let written: BTreeMap<&str, &str> = ops
        .values()
        .filter(|(i, _)| i.f == OpKind::Write)
        .map(|(i, _)| (i.key.as_str(), i.value.as_deref().expect("value")))
        .collect();
    for (inv, done) in ops.values().filter(|(i, _)| i.f == OpKind::Read) {
        match written.get(inv.key.as_str()) {
            Some(v) => assert_eq!(done.value.as_deref(), Some(*v)),
            None => assert_eq!(done.value, None),
        }
    }
    assert_eq!(found.keys.len(), written.len());
    for (key, value) in &found.keys {
        assert_eq!(
            value.as_ref().expect("read").as_deref(),
            Some(written[key.as_str()])
        );
    }
    let incrs = ops.values().filter(|(i, _)| i.f == OpKind::Incr).count();
    assert_eq!(found.counter, Ok(Some(incrs as i64)));
    let pushed: BTreeSet<&str> = ops
        .values()
        .filter(|(i, _)| i.f == OpKind::Rpush)
        .map(|(i, _)| i.value.as_deref().expect("value"))
        .collect();
    let list = found.list.as_ref().expect("list");
    assert_eq!(list.len(), pushed.len());
    assert!(list.iter().all(|v| pushed.contains(v.as_str())));
}

#[test]
fn same_seed_same_history_other_seed_other_history() {
    let a = healthy_run(7).0.to_jsonl();
    let b = healthy_run(7).0.to_jsonl();
    assert!(a == b, "same seed must give byte-identical histories");
    let c = healthy_run(8).0.to_jsonl();
    assert_ne!(a, c);
    assert_eq!(History::from_jsonl(&a).expect("parses").to_jsonl(), a);
}

#[test]
fn killed_server_fails_requests_until_it_restarts() {
    let seed = 3;
    let mut sim = sim(seed);
    let control = redis_host(&mut sim, seed);
    let (history, _) = app(&mut sim, seed, config(4, 100.0), "redis");
    let process = format!("redis-{PORT}");
    let (mut killed, mut started) = (false, false);
    loop {
        let done = sim.step().expect("simulation runs");
        let t = sim.elapsed();
        if !killed && t >= Duration::from_secs(4) {
            control.send(ProcessCommand::Kill(process.clone()));
            killed = true;
        }
        if !started && t >= Duration::from_secs(7) {
            control.send(ProcessCommand::Start(process.clone()));
            started = true;
        }
        if done {
            break;
        }
    }
    let events = control.drain_events();
    let at = |c: ProcessCommand| {
        let e = events.iter().find(|e| e.command == c).expect("took effect");
        assert!(e.took_effect);
        e.at.as_millis() as u64
    };
    let kill_ms = at(ProcessCommand::Kill(process.clone()));
    let start_ms = at(ProcessCommand::Start(process.clone()));
    let ops = pairs(&history);
    let mut refused = 0;
    for (inv, done) in ops.values() {
        if inv.at_ms > kill_ms && done.at_ms < start_ms {
            assert_ne!(done.phase, Phase::Ok, "{inv:?} {done:?}");
            assert!(done.error.is_some());
            if done.error.as_deref() == Some("connection refused") {
                assert_eq!(done.phase, Phase::Fail);
                refused += 1;
            }
        }
        if inv.at_ms < kill_ms && done.at_ms > kill_ms && done.phase != Phase::Ok {
            assert_eq!(
                done.phase,
                Phase::Unknown,
                "in flight at the kill: {done:?}"
            );
        }
        // Backoff is at most 1 s, so clients are back soon after the restart.
        if inv.at_ms > start_ms + 1500 {
            assert_eq!(done.phase, Phase::Ok, "{done:?}");
        }
    }
    assert!(refused > 10, "only {refused} refused");
    let ok_after = ops
        .values()
        .filter(|(i, d)| i.at_ms > start_ms && d.phase == Phase::Ok)
        .count();
    assert!(ok_after > 300, "{ok_after} ok after restart");
}

#[test]
fn silent_server_makes_ops_unknown_and_clients_back_off() {
    let seed = 5;
    let mut sim = sim(seed);
    let accepts = Rc::new(Cell::new(0u32));
    let counter = accepts.clone();
    // Accepts and reads, never replies: a frozen or black-holed redis behind haproxy.
    sim.host("silent", move || {
        let accepts = counter.clone();
        async move {
            let listener = TcpListener::bind(("0.0.0.0", PORT)).await?;
            let mut tasks = JoinSet::new();
            loop {
                let (mut stream, _) = listener.accept().await?;
                accepts.set(accepts.get() + 1);
                tasks.spawn_local(async move {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                });
            }
        }
    });
    let mut config = config(1, 10.0);
    config.stop = Duration::from_secs(12);
    let (history, found) = app(&mut sim, seed, config, "silent");
    sim.run().expect("simulation runs");
    let ops: Vec<(Entry, Entry)> = pairs(&history).into_values().collect();
    // Invokes at 1000, then each timeout (1 s) plus a backoff doubling from 100 ms to 1 s:
    // 2100, 3300, 4700, 6500, 8500, 10500; 12500 is after stop.
    let invoked: Vec<u64> = ops.iter().map(|(i, _)| i.at_ms).collect();
    let expected = [1000u64, 2100, 3300, 4700, 6500, 8500, 10500];
    assert_eq!(invoked.len(), expected.len(), "{invoked:?}");
    for (got, want) in invoked.iter().zip(expected) {
        assert!(got.abs_diff(want) <= 5, "{invoked:?}");
    }
    for (inv, done) in &ops {
        assert_eq!(done.phase, Phase::Unknown);
        assert_eq!(done.error.as_deref(), Some("timeout"));
        assert!(
            (done.at_ms - inv.at_ms).abs_diff(1000) <= 2,
            "{inv:?} {done:?}"
        );
    }
    // Every op after an unknown one went over a fresh connection, and so did every command
    // of the read-back (its keys, the counter and the list), each timing out.
    let found = found.borrow_mut().take().expect("read back ran");
    assert_eq!(accepts.get() as usize, ops.len() + found.keys.len() + 2);
    assert!(found
        .keys
        .values()
        .all(|v| v == &Err("timeout".to_string())));
    assert_eq!(found.counter, Err("timeout".to_string()));
}
