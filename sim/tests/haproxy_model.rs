//! The haproxy model in turmoil against a minimal fake redis: routing, checks and their
//! timing, session shutdown, the runtime API's replies and the re-enabling pitfall.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use failover::config::Policy;
use failover::layout::Topology;
use sim::haproxy::{presets, run_haproxy, HaproxyConfig};
use sim::machine::{factory, run_machine, MachineControl, MachineSpec, ProcessCommand};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;
use tokio::time::{sleep, Instant};
use turmoil::net::{TcpListener, TcpStream};

/// A fake redis: inline commands `PING`, `info replication`, `QUIT`, and `WHO` (answers
/// the machine's name, so a test sees where it was routed).
async fn fake_redis(ctx: sim::machine::ProcessCtx, master: Rc<Cell<bool>>) {
    let listener = TcpListener::bind(("0.0.0.0", 9001)).await.unwrap();
    let mut conns = JoinSet::new();
    loop {
        let (mut s, _) = listener.accept().await.unwrap();
        let (master, who) = (master.clone(), ctx.machine.clone());
        conns.spawn_local(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            loop {
                let Ok(n) = s.read(&mut chunk).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Some(i) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=i).collect();
                    let cmd = String::from_utf8_lossy(&line).trim().to_lowercase();
                    let reply = match cmd.as_str() {
                        "ping" => "+PONG\r\n".to_string(),
                        "info replication" => {
                            let role = if master.get() { "master" } else { "slave" };
                            let body = format!("# Replication\r\nrole:{role}\r\n");
                            format!("${}\r\n{body}\r\n", body.len())
                        }
                        "quit" => {
                            let _ = s.write_all(b"+OK\r\n").await;
                            return;
                        }
                        "who" => format!("+{who}\r\n"),
                        _ => "-ERR unknown command\r\n".to_string(),
                    };
                    if s.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
}

struct Lab {
    sim: turmoil::Sim<'static>,
    redis1: MachineControl,
    /// Whether redis1 / redis2 report `role:master`.
    master: [Rc<Cell<bool>>; 2],
}

fn lab(config: HaproxyConfig, secs: u64, masters: [bool; 2]) -> Lab {
    let mut sim = turmoil::Builder::new()
        .epoch(std::time::UNIX_EPOCH)
        .rng_seed(1)
        .tick_duration(Duration::from_millis(1))
        .simulation_duration(Duration::from_secs(secs))
        .build();
    let master = [
        Rc::new(Cell::new(masters[0])),
        Rc::new(Cell::new(masters[1])),
    ];
    let redis1 = MachineControl::default();
    for (i, name) in ["redis1", "redis2"].into_iter().enumerate() {
        let role = master[i].clone();
        let control = if i == 0 {
            redis1.clone()
        } else {
            MachineControl::default()
        };
        sim.host(name, move || {
            let role = role.clone();
            let spec = MachineSpec {
                name: name.to_string(),
                seed: 1,
                processes: vec![(
                    "redis-9001".to_string(),
                    factory(move |ctx| fake_redis(ctx, role.clone())),
                )],
            };
            let control = control.clone();
            async move {
                run_machine(spec, control).await;
                Ok(())
            }
        });
    }
    sim.host("haproxy1", move || {
        let config = config.clone();
        let spec = MachineSpec {
            name: "haproxy1".to_string(),
            seed: 1,
            processes: vec![(
                "haproxy".to_string(),
                factory(move |ctx| run_haproxy(config.clone(), ctx)),
            )],
        };
        async move {
            run_machine(spec, MachineControl::default()).await;
            Ok(())
        }
    });
    Lab {
        sim,
        redis1,
        master,
    }
}

/// Connects through haproxy1:8001 and asks which redis answered; "" when the proxy closed.
async fn who() -> String {
    let mut s = TcpStream::connect(("haproxy1", 8001)).await.unwrap();
    s.write_all(b"WHO\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).await.unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).trim().to_string()
}

async fn api(cmd: &str) -> String {
    let s = TcpStream::connect(("haproxy1", 9999)).await.unwrap();
    failover::runtime_api::runtime_command(s, cmd)
        .await
        .unwrap()
}

/// `srv_op_state` of a server in `show servers state` (2 running, 0 stopped).
async fn op_state(backend: &str, server: &str) -> u32 {
    let reply = api(&format!("show servers state {backend}")).await;
    reply
        .lines()
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .find(|f| f.len() > 5 && f[1] == backend && f[3] == server)
        .map(|f| f[5].parse().unwrap())
        .unwrap_or_else(|| panic!("no row for {server} in {reply:?}"))
}

/// Polls until the server's operational state is `want`; returns when it was seen.
async fn wait_op_state(backend: &str, server: &str, want: u32, limit: Duration) -> Instant {
    let start = Instant::now();
    loop {
        if op_state(backend, server).await == want {
            return Instant::now();
        }
        assert!(
            start.elapsed() < limit,
            "{server} never reached op state {want}"
        );
        sleep(Duration::from_millis(20)).await;
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[test]
fn routes_to_the_master_and_fails_over_to_the_backup_when_it_dies() {
    let mut lab = lab(
        presets::haproxy_node(&Topology::seed(), "haproxy1", Policy::Safe),
        30,
        [true, true],
    );
    let redis1 = lab.redis1.clone();
    lab.sim.client("client", async move {
        sleep(Duration::from_secs(3)).await;
        assert_eq!(who().await, "+redis1");
        redis1.send(ProcessCommand::Kill("redis-9001".into()));
        let killed = Instant::now();
        let down = wait_op_state("redis_9001", "redis1", 0, Duration::from_secs(10)).await;
        let took = secs(down - killed);
        // Refused connects fail at once; three of them, one `inter` apart.
        assert!((1.9..=3.2).contains(&took), "marked down after {took}s");
        assert_eq!(who().await, "+redis2");
        let stat = api("show stat").await;
        let row = stat
            .lines()
            .find(|l| l.starts_with("redis_9001,redis1,"))
            .unwrap();
        let cols: Vec<&str> = row.split(',').collect();
        assert_eq!((cols[17], cols[36]), ("DOWN", "L4CON"));
        Ok(())
    });
    lab.sim.run().unwrap();
}

#[test]
fn a_demoted_master_fails_by_timeout_and_its_sessions_are_shut_down() {
    let mut lab = lab(
        presets::haproxy_node(&Topology::seed(), "haproxy1", Policy::Safe),
        30,
        [true, true],
    );
    let master1 = lab.master[0].clone();
    lab.sim.client("client", async move {
        sleep(Duration::from_secs(3)).await;
        let mut s = TcpStream::connect(("haproxy1", 8001)).await?;
        s.write_all(b"WHO\r\n").await?;
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).await?;
        assert_eq!(&buf[..n], b"+redis1\r\n");
        master1.set(false);
        let demoted = Instant::now();
        // The established session is cut when redis1 is marked DOWN
        // (on-marked-down shutdown-sessions), not before.
        let n = s.read(&mut buf).await?;
        assert_eq!(n, 0, "expected EOF");
        let took = secs(demoted.elapsed());
        // Three L7 timeouts of 1 s with 1 s between them: 5 to 6 s (real: 5.8 s).
        assert!((4.9..=6.1).contains(&took), "session cut after {took}s");
        assert_eq!(op_state("redis_9001", "redis1").await, 0);
        let stat = api("show stat").await;
        let row = stat
            .lines()
            .find(|l| l.starts_with("redis_9001,redis1,"))
            .unwrap();
        assert_eq!(row.split(',').nth(36), Some("L7TOUT"));
        assert_eq!(who().await, "+redis2");
        Ok(())
    });
    lab.sim.run().unwrap();
}

#[test]
fn no_server_available_accepts_then_closes_at_once() {
    let mut lab = lab(
        presets::haproxy_node(&Topology::seed(), "haproxy1", Policy::Safe),
        20,
        [false, false],
    );
    lab.sim.client("client", async move {
        // Both replicas: the first failed check takes each DOWN (health starts at rise).
        sleep(Duration::from_secs(4)).await;
        assert_eq!(op_state("redis_9001", "redis1").await, 0);
        assert_eq!(op_state("redis_9001", "redis2").await, 0);
        let start = Instant::now();
        let mut s = TcpStream::connect(("haproxy1", 8001)).await?;
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf).await?;
        assert_eq!(n, 0);
        assert!(start.elapsed() < Duration::from_millis(100));
        Ok(())
    });
    lab.sim.run().unwrap();
}

#[test]
fn runtime_api_replies_like_haproxy() {
    let mut lab = lab(
        presets::haproxy_node(&Topology::seed(), "haproxy1", Policy::Safe),
        20,
        [true, false],
    );
    lab.sim.client("client", async move {
        sleep(Duration::from_secs(1)).await;
        let cases: Vec<(&str, &str)> = vec![
            ("set server redis_9001/redis1 state bogus", "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"),
            ("set server nob/redis1 state ready", "No such backend.\n\n"),
            ("set server redis_9001/nos state ready", "No such server.\n\n"),
            ("set server redis_9001/redis2 health up", "\n"),
            ("set server redis_9001/redis1 addr x", "Invalid addr 'x' by 'stats socket command'\n\n"),
            ("add server redis_9001/r3 10.9.9.9:9001 check backup inter 500 fall 2 rise 1", "New server registered.\n\n"),
            ("add server redis_9001/r3 10.9.9.9:9001", "Already exists a server with the same name in backend.\n\n"),
            ("add server redis_9001/r4 10.9.9.9:9001 bogus", "unknown keyword 'bogus'.\n\n"),
            ("add server nob/r4 10.9.9.9:9001", "No such backend.\n"),
            ("show servers state nob", "Can't find backend.\n\n"),
            ("del server redis_9001/redis2", "Only servers in maintenance mode can be deleted.\n"),
            ("del server redis_9001/r3", "Server deleted.\n"),
            ("del server redis_9001/nos", "No such server.\n"),
            ("set server redis_9001", "Require 'backend/server'.\n\n"),
            ("enable health redis_9001/redis1", "\n"),
            ("set server redis_9001/redis2 addr 192.168.0.2 port 9001", "no need to change the addr, no need to change the port by 'stats socket command'\n\n"),
            ("disable server redis_9001/redis1", "\n"),
            ("enable server redis_9001/redis1", "\n"),
        ];
        for (cmd, want) in cases {
            assert_eq!(api(cmd).await, want, "reply to {cmd:?}");
        }
        let unknown = api("foo bar").await;
        assert!(unknown.starts_with("Unknown command, but maybe one of the following ones is a better match:\n"));
        assert!(unknown.ends_with("quit                                    : disconnect\n\n"));
        let moved = api("set server redis_9001/redis1 addr 10.1.1.1 port 19003").await;
        assert!(moved.starts_with("IP changed from '"), "{moved}");
        assert!(moved.ends_with("' to '10.1.1.1', port changed from '9001' to '19003' by 'stats socket command'\n\n"), "{moved}");
        let state = api("show servers state").await;
        let lines: Vec<&str> = state.lines().collect();
        assert_eq!(lines[0], "1");
        assert!(lines[1].starts_with("# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight"));
        // Backends are numbered after the two frontends (ids 2 and 3), as haproxy does.
        assert!(
            lines.contains(&"4 redis_9001 1 redis1 10.1.1.1 2 0 1 1 0 15 3 4 6 0 0 0 - 19003 - 0 0 - - 0"),
            "{state}"
        );
        assert!(state.ends_with("\n\n"));
        let stat = api("show stat").await;
        assert!(stat.starts_with("# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,"));
        let fe = stat.lines().find(|l| l.starts_with("fe_8001,FRONTEND,")).unwrap();
        assert_eq!(fe.split(',').nth(17), Some("OPEN"));
        Ok(())
    });
    lab.sim.run().unwrap();
}

#[test]
fn ready_after_maint_routes_to_a_replica_but_drain_then_ready_does_not() {
    // redis1 is a replica, redis2 the master (a backup).
    let mut lab = lab(
        presets::haproxy_node(&Topology::seed(), "haproxy1", Policy::Safe),
        30,
        [false, true],
    );
    lab.sim.client("client", async move {
        sleep(Duration::from_secs(4)).await;
        assert_eq!(op_state("redis_9001", "redis1").await, 0);
        assert_eq!(who().await, "+redis2");
        assert_eq!(api("set server redis_9001/redis1 state maint").await, "\n");
        assert_eq!(api("set server redis_9001/redis1 state ready").await, "\n");
        // The pitfall: UP at once, clients go to the replica until the first failed check.
        assert_eq!(op_state("redis_9001", "redis1").await, 2);
        assert_eq!(who().await, "+redis1");
        wait_op_state("redis_9001", "redis1", 0, Duration::from_secs(3)).await;
        assert_eq!(who().await, "+redis2");
        // What worked: drain, let the checks mark it DOWN, then ready: it stays DOWN.
        assert_eq!(api("set server redis_9001/redis1 state maint").await, "\n");
        assert_eq!(api("set server redis_9001/redis1 state drain").await, "\n");
        assert_eq!(who().await, "+redis2");
        wait_op_state("redis_9001", "redis1", 0, Duration::from_secs(3)).await;
        assert_eq!(api("set server redis_9001/redis1 state ready").await, "\n");
        assert_eq!(op_state("redis_9001", "redis1").await, 0);
        assert_eq!(who().await, "+redis2");
        Ok(())
    });
    lab.sim.run().unwrap();
}

/// The rendered configuration is accepted by the real haproxy (skipped when not installed).
#[test]
fn rendered_config_passes_haproxy_check() {
    let haproxy = std::path::Path::new("/usr/sbin/haproxy");
    if !haproxy.exists() {
        println!("note: /usr/sbin/haproxy not installed, skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ten = Topology::with_redis_ports(10).unwrap();
    for config in [
        presets::haproxy_node(&Topology::seed(), "haproxy1", Policy::Safe),
        presets::app_local(&Topology::seed(), Policy::Safe),
        presets::haproxy_node(&ten, "haproxy1", Policy::Safe),
        presets::app_local(&ten, Policy::Safe),
    ] {
        let mut with_options = config.clone();
        with_options.timeout_check = Some(Duration::from_millis(700));
        with_options.timeout_server_fin = Some(Duration::from_millis(1000));
        with_options.retries = 5;
        with_options.redispatch = true;
        with_options.abortonclose = true;
        with_options.backends[0].allbackups = true;
        with_options.backends[0].servers[0].fastinter = Some(Duration::from_millis(300));
        with_options.backends[0].servers[0].downinter = Some(Duration::from_millis(3000));
        with_options.backends[0].servers[0].on_marked_up_shutdown_backup_sessions = true;
        for (i, c) in [config, with_options].into_iter().enumerate() {
            let text = c.render_cfg(&|_host, port| ("127.0.0.1".to_string(), 20000 + port % 10000));
            assert!(text.contains("tcp-check") || c.name == "app");
            if i == 1 {
                for line in [
                    "timeout server-fin 1000ms",
                    "retries 5",
                    "option redispatch",
                    "option abortonclose",
                ] {
                    assert!(text.contains(line), "{line} not rendered:\n{text}");
                }
            }
            let ports = c.frontends.len();
            let path = dir.path().join(format!("{}-{ports}-{i}.cfg", c.name));
            std::fs::write(&path, &text).unwrap();
            let out = std::process::Command::new(haproxy)
                .arg("-c")
                .arg("-f")
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "haproxy -c rejected:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn config_round_trips_through_json() {
    let config = presets::haproxy_node(&Topology::seed(), "haproxy1", Policy::Safe);
    let json = serde_json::to_string(&config).unwrap();
    assert!(json.contains("\"inter\":1000"));
    let back: HaproxyConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config);
    let bad = json.replacen("\"name\"", "\"nmae\"", 1);
    assert!(serde_json::from_str::<HaproxyConfig>(&bad).is_err());
}

#[test]
fn a_session_lets_go_of_its_server_only_during_the_turnaround_of_a_refused_connect() {
    let mut lab = lab(
        presets::haproxy_node(&Topology::seed(), "haproxy1", Policy::Safe),
        30,
        [true, false],
    );
    let redis1 = lab.redis1.clone();
    lab.sim.client("client", async move {
        sleep(Duration::from_secs(3)).await;
        redis1.send(ProcessCommand::Kill("redis-9001".into()));
        sleep(Duration::from_millis(10)).await;
        let mut s = TcpStream::connect(("haproxy1", 8001)).await?;
        s.write_all(b"WHO\r\n").await?;
        let sent = Instant::now();
        sleep(Duration::from_millis(300)).await;
        // Between attempts (the first was refused at once, the next comes after 1 s)
        // nothing holds the server: maint, then del server succeeds, as on haproxy 2.6.12.
        assert_eq!(api("set server redis_9001/redis1 state maint").await, "\n");
        assert_eq!(
            api("del server redis_9001/redis1").await,
            "Server deleted.\n"
        );
        // The retry finds no server: EOF at the end of the turnaround.
        let mut buf = [0u8; 16];
        assert_eq!(s.read(&mut buf).await?, 0);
        let took = secs(sent.elapsed());
        assert!((0.9..=1.1).contains(&took), "EOF after {took}s");
        Ok(())
    });
    lab.sim.run().unwrap();
}
