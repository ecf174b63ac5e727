//! A process's life on its machine: SIGTERM caught or not, frozen or not; the machine's
//! disk across restarts of a redis and not across machines; Debian's save rules firing
//! when redis fires them.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use failover::resp::{Reply, RespConnection};
use sim::machine::{factory, start_machine, MachineControl, MachineSpec, ProcessCommand};
use sim::redis::{run_redis, RedisConfig};
use tokio::time::{sleep, Instant};
use turmoil::net::TcpStream;

fn sim(secs: u64) -> turmoil::Sim<'static> {
    turmoil::Builder::new()
        .epoch(UNIX_EPOCH)
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(1))
        .rng_seed(1)
        .tick_duration(Duration::from_millis(1))
        .simulation_duration(Duration::from_secs(secs))
        .build()
}

/// Sends `command` and waits for the supervisor's report of it; when it came, and whether
/// it took effect.
async fn command(control: &MachineControl, command: ProcessCommand) -> (Instant, bool) {
    control.send(command.clone());
    report(control, command).await
}

/// Waits for the supervisor's report of `command`, sent earlier.
async fn report(control: &MachineControl, command: ProcessCommand) -> (Instant, bool) {
    loop {
        if let Some(e) = control
            .drain_events()
            .into_iter()
            .find(|e| e.command == command)
        {
            return (Instant::now(), e.took_effect);
        }
        sleep(Duration::from_millis(1)).await;
    }
}

#[test]
fn sigterm_waits_for_a_process_that_catches_it_and_ends_one_that_does_not_at_once() {
    let mut sim = sim(60);
    let cleaned: Rc<RefCell<Vec<&str>>> = Rc::default();
    let c = cleaned.clone();
    let spec = MachineSpec {
        name: "m".into(),
        seed: 1,
        processes: vec![
            (
                "careful".into(),
                factory(move |ctx| {
                    let c = c.clone();
                    async move {
                        ctx.catch_sigterm();
                        ctx.sigterm().await;
                        sleep(Duration::from_secs(2)).await;
                        c.borrow_mut().push("careful");
                    }
                }),
            ),
            (
                "plain".into(),
                factory(|_ctx| async move { std::future::pending::<()>().await }),
            ),
        ],
    };
    let control = start_machine(&mut sim, spec);
    let seen = cleaned.clone();
    sim.client("probe", async move {
        sleep(Duration::from_millis(10)).await;
        let start = Instant::now();
        let (at, ok) = command(&control, ProcessCommand::Terminate("plain".into())).await;
        assert!(
            ok && at - start < Duration::from_millis(10),
            "{:?}",
            at - start
        );
        let start = Instant::now();
        let (at, ok) = command(&control, ProcessCommand::Terminate("careful".into())).await;
        assert!(ok, "the stop took effect");
        let took = at - start;
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_millis(2100),
            "{took:?}"
        );
        assert_eq!(*seen.borrow(), ["careful"]);
        // Both ended: a stop now has no effect, a start does.
        let (_, ok) = command(&control, ProcessCommand::Terminate("careful".into())).await;
        assert!(!ok);
        let (_, ok) = command(&control, ProcessCommand::Start("careful".into())).await;
        assert!(ok);
        // Frozen, it handles the signal only once thawed.
        let (_, ok) = command(&control, ProcessCommand::Pause("careful".into())).await;
        assert!(ok);
        control.send(ProcessCommand::Terminate("careful".into()));
        sleep(Duration::from_secs(5)).await;
        assert!(control.drain_events().is_empty(), "no stop while frozen");
        let start = Instant::now();
        control.send(ProcessCommand::Resume("careful".into()));
        let (at, ok) = report(&control, ProcessCommand::Terminate("careful".into())).await;
        assert!(ok && at - start >= Duration::from_secs(2));
        Ok(())
    });
    sim.run().unwrap();
}

async fn redis(port: u16, args: &[&str]) -> Reply {
    let stream = TcpStream::connect(("redis", port)).await.unwrap();
    RespConnection::new(stream).command(args).await.unwrap()
}

fn one_redis(sim: &mut turmoil::Sim<'static>, name: &str) -> MachineControl {
    start_machine(
        sim,
        MachineSpec {
            name: name.into(),
            seed: 1,
            processes: vec![(
                "redis-9001".into(),
                factory(|ctx| run_redis(RedisConfig::debian(9001), ctx)),
            )],
        },
    )
}

#[test]
fn the_save_rules_fire_after_their_seconds_and_the_disk_is_the_machines() {
    let mut sim = sim(200);
    let control = one_redis(&mut sim, "redis");
    let other = one_redis(&mut sim, "other");
    sim.client("probe", async move {
        sleep(Duration::from_secs(1)).await;
        // 10,000 changes in one command: `save 60 10000` is due once more than 60 whole
        // seconds passed since the start.
        let items: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
        let mut args = vec!["RPUSH", "list"];
        args.extend(items.iter().map(String::as_str));
        assert_eq!(redis(9001, &args).await, Reply::Integer(10_000));
        assert_eq!(redis(9001, &["LASTSAVE"]).await, Reply::Integer(0));
        sleep(Duration::from_secs(59)).await;
        assert_eq!(redis(9001, &["LASTSAVE"]).await, Reply::Integer(0));
        sleep(Duration::from_millis(1500)).await;
        assert_eq!(redis(9001, &["LASTSAVE"]).await, Reply::Integer(61));
        // One change more: only `save 3600 1` applies to it.
        assert_eq!(
            redis(9001, &["SET", "k", "v"]).await,
            Reply::SimpleString(b"OK".to_vec())
        );
        command(&control, ProcessCommand::Kill("redis-9001".into())).await;
        command(&control, ProcessCommand::Start("redis-9001".into())).await;
        sleep(Duration::from_millis(10)).await;
        assert_eq!(redis(9001, &["DBSIZE"]).await, Reply::Integer(1));
        assert_eq!(redis(9001, &["GET", "k"]).await, Reply::Null);
        // A stop saves it; the other machine's disk never saw any of it.
        command(&control, ProcessCommand::Terminate("redis-9001".into())).await;
        command(&control, ProcessCommand::Start("redis-9001".into())).await;
        command(&other, ProcessCommand::Kill("redis-9001".into())).await;
        command(&other, ProcessCommand::Start("redis-9001".into())).await;
        sleep(Duration::from_millis(10)).await;
        assert_eq!(redis(9001, &["DBSIZE"]).await, Reply::Integer(1));
        let stream = TcpStream::connect(("other", 9001)).await.unwrap();
        let size = RespConnection::new(stream)
            .command(&["DBSIZE"])
            .await
            .unwrap();
        assert_eq!(size, Reply::Integer(0));
        Ok(())
    });
    sim.run().unwrap();
}
