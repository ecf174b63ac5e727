//! The admin clients (`failover::admin`) against the redis and haproxy models in turmoil:
//! the health poll, promotion and re-pointing, removing and adding haproxy servers without
//! the re-enabling pitfall, re-addressing, and the errors of dead and silent servers.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use failover::admin::{AdminError, CheckParams, HaproxyAdmin, RedisAdmin};
use failover::config::Policy;
use failover::layout::Topology;
use failover::observation::RedisStatus;
use sim::haproxy::{presets, run_haproxy};
use sim::machine::{factory, run_machine, MachineControl, MachineSpec};
use sim::net::TurmoilConnector;
use sim::redis::{run_redis, RedisConfig};
use tokio::time::{sleep, Instant};
use turmoil::net::TcpListener;

const PORT: u16 = 9001;
const BACKEND: &str = "redis_9001";
const TIMEOUT: Duration = Duration::from_millis(500);
const CHECKS: CheckParams = CheckParams {
    inter_ms: 1000,
    fall: 3,
    rise: 2,
};

fn machine(sim: &mut turmoil::Sim<'static>, name: &'static str, spec: MachineSpec) {
    sim.host(name, move || {
        let spec = spec.clone();
        async move {
            run_machine(spec, MachineControl::default()).await;
            Ok(())
        }
    });
}

/// redis1 (master), redis2 (its replica), haproxy1 (the seed's node preset) and `silent`,
/// which accepts connections on 7777 and never answers.
fn lab() -> turmoil::Sim<'static> {
    let mut sim = turmoil::Builder::new()
        .epoch(std::time::UNIX_EPOCH)
        .rng_seed(1)
        .tick_duration(Duration::from_millis(1))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(1))
        .simulation_duration(Duration::from_secs(120))
        .build();
    for (name, config) in [
        ("redis1", RedisConfig::debian(PORT)),
        (
            "redis2",
            RedisConfig::debian(PORT).replica_of("redis1", PORT),
        ),
    ] {
        let spec = MachineSpec {
            name: name.to_string(),
            seed: 1,
            processes: vec![(
                format!("redis-{PORT}"),
                factory(move |ctx| run_redis(config.clone(), ctx)),
            )],
        };
        machine(&mut sim, name, spec);
    }
    let spec = MachineSpec {
        name: "haproxy1".to_string(),
        seed: 1,
        processes: vec![(
            "haproxy".to_string(),
            factory(|ctx| {
                run_haproxy(
                    presets::haproxy_node(&Topology::seed(), "haproxy1", Policy::Safe),
                    ctx,
                )
            }),
        )],
    };
    machine(&mut sim, "haproxy1", spec);
    sim.host("silent", || async {
        let listener = TcpListener::bind(("0.0.0.0", 7777)).await?;
        let mut held = Vec::new();
        loop {
            let (stream, _) = listener.accept().await?;
            held.push(stream);
        }
    });
    sim
}

fn redis() -> RedisAdmin<TurmoilConnector> {
    RedisAdmin::new(TurmoilConnector, TIMEOUT)
}

fn haproxy() -> HaproxyAdmin<TurmoilConnector> {
    HaproxyAdmin::new(TurmoilConnector, Topology::seed().api_port, TIMEOUT)
}

fn ip(host: &str) -> String {
    turmoil::lookup(host).to_string()
}

#[test]
fn status_promote_and_replicate_the_other_way() {
    let mut sim = lab();
    sim.client("controller", async {
        let admin = redis();
        sleep(Duration::from_millis(100)).await;
        assert!(matches!(
            admin.status("redis1", PORT).await?,
            RedisStatus::Master { .. }
        ));
        // Debian's 5 s diskless-sync delay: the link is down until the full sync.
        let early = admin.status("redis2", PORT).await?;
        assert!(
            matches!(&early, RedisStatus::Replica { link_up: false, .. }),
            "{early:?}"
        );
        sleep(Duration::from_secs(7)).await;
        let replica = admin.status("redis2", PORT).await?;
        let RedisStatus::Replica {
            master_host,
            master_port,
            link_up,
            ..
        } = replica
        else {
            panic!("redis2 is not a replica: {replica:?}");
        };
        assert_eq!(
            (master_host.as_str(), master_port, link_up),
            ("redis1", PORT, true)
        );

        admin.promote("redis2", PORT).await?;
        assert!(matches!(
            admin.status("redis2", PORT).await?,
            RedisStatus::Master { .. }
        ));
        // Promoting a master again is a no-op success.
        admin.promote("redis2", PORT).await?;

        admin.replicate("redis1", PORT, "redis2", PORT).await?;
        // The same again: `+OK Already connected to specified master`.
        admin.replicate("redis1", PORT, "redis2", PORT).await?;
        sleep(Duration::from_secs(7)).await;
        let demoted = admin.status("redis1", PORT).await?;
        assert!(
            matches!(
                &demoted,
                RedisStatus::Replica { master_host, master_port: PORT, link_up: true, .. }
                    if master_host == "redis2"
            ),
            "{demoted:?}"
        );
        assert!(admin.client_kill_normal("redis1", PORT).await? >= 0);
        Ok(())
    });
    sim.run().unwrap();
}

#[test]
fn remove_add_and_readdress_haproxy_servers() {
    let mut sim = lab();
    sim.client("controller", async {
        let admin = haproxy();
        sleep(Duration::from_millis(100)).await;
        admin.ping("haproxy1").await?;
        let names = |rows: Vec<failover::admin::ServerRow>| {
            rows.into_iter().map(|r| r.name).collect::<Vec<_>>()
        };
        assert_eq!(
            names(admin.servers("haproxy1", BACKEND).await?),
            ["redis1", "redis2"]
        );

        admin.remove_server("haproxy1", BACKEND, "redis2").await?;
        admin.remove_server("haproxy1", BACKEND, "redis2").await?;
        assert_eq!(names(admin.servers("haproxy1", BACKEND).await?), ["redis1"]);
        assert_eq!(admin.status("haproxy1", BACKEND, "redis2").await?, None);

        // The replica back as a backup: it must never be UP, not even for a moment.
        sleep(Duration::from_secs(7)).await;
        let seen = RefCell::new(Vec::new());
        let done = Cell::new(false);
        let add = async {
            let r = admin
                .add_server(
                    "haproxy1",
                    BACKEND,
                    "redis2",
                    &ip("redis2"),
                    PORT,
                    true,
                    &CHECKS,
                )
                .await;
            done.set(true);
            r
        };
        let sample = async {
            while !done.get() {
                if let Some(s) = admin.status("haproxy1", BACKEND, "redis2").await? {
                    seen.borrow_mut().push(s);
                }
                sleep(Duration::from_millis(50)).await;
            }
            Ok::<_, AdminError>(())
        };
        let (added, sampled) = tokio::join!(add, sample);
        added?;
        sampled?;
        for _ in 0..40 {
            if let Some(s) = admin.status("haproxy1", BACKEND, "redis2").await? {
                seen.borrow_mut().push(s);
            }
            sleep(Duration::from_millis(50)).await;
        }
        let seen = seen.into_inner();
        eprintln!("redis2 statuses: {seen:?}");
        assert!(seen.len() > 20, "{seen:?}");
        assert!(!seen.iter().any(|s| s.starts_with("UP")), "{seen:?}");
        assert_eq!(seen.last().map(String::as_str), Some("DOWN"));

        // A master under a new name ends UP; adding it again is a no-op success.
        let start = Instant::now();
        admin
            .add_server(
                "haproxy1",
                BACKEND,
                "redis1b",
                &ip("redis1"),
                PORT,
                false,
                &CHECKS,
            )
            .await?;
        assert!(start.elapsed() < Duration::from_secs(10));
        assert_eq!(
            admin
                .status("haproxy1", BACKEND, "redis1b")
                .await?
                .as_deref(),
            Some("UP")
        );
        admin
            .add_server(
                "haproxy1",
                BACKEND,
                "redis1b",
                &ip("redis1"),
                PORT,
                false,
                &CHECKS,
            )
            .await?;
        assert_eq!(
            admin
                .status("haproxy1", BACKEND, "redis1b")
                .await?
                .as_deref(),
            Some("UP")
        );

        admin
            .set_addr("haproxy1", BACKEND, "redis1b", &ip("redis2"), 9002)
            .await?;
        // Unchanged: haproxy says there was no need to change.
        admin
            .set_addr("haproxy1", BACKEND, "redis1b", &ip("redis2"), 9002)
            .await?;
        let rows = admin.servers("haproxy1", BACKEND).await?;
        let row = rows.iter().find(|r| r.name == "redis1b").expect("listed");
        assert_eq!((row.addr.clone(), row.port), (ip("redis2"), 9002));
        Ok(())
    });
    sim.run().unwrap();
}

#[test]
fn fence_puts_a_server_in_maintenance_and_keeps_it() {
    let mut sim = lab();
    sim.client("controller", async {
        let admin = haproxy();
        sleep(Duration::from_millis(100)).await;
        let (hosts, backends) = (["haproxy1".to_string()], [BACKEND.to_string()]);
        admin.fence_everywhere(&hosts, &backends, "redis1").await?;
        // A retried step: already in maintenance is fenced.
        admin.fence_everywhere(&hosts, &backends, "redis1").await?;
        assert_eq!(
            admin
                .status("haproxy1", BACKEND, "redis1")
                .await?
                .as_deref(),
            Some("MAINT")
        );
        // Still there: deleting it is the later UnregisterRedis step's.
        let rows = admin.servers("haproxy1", BACKEND).await?;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].admin_state & 0x01, 0x01, "forced maint");
        // A server already deleted counts as fenced.
        admin.fence_everywhere(&hosts, &backends, "gone").await?;
        Ok(())
    });
    sim.run().unwrap();
}

#[test]
fn bad_replies_dead_ports_and_silent_servers_are_errors() {
    let mut sim = lab();
    sim.client("controller", async {
        sleep(Duration::from_millis(100)).await;
        let (redis, haproxy) = (redis(), haproxy());

        let e = redis.status("redis1", 9999).await.unwrap_err();
        assert!(matches!(e, AdminError::Connect { port: 9999, .. }), "{e}");
        let e = HaproxyAdmin::new(TurmoilConnector, 1234, TIMEOUT)
            .ping("haproxy1")
            .await
            .unwrap_err();
        assert!(matches!(e, AdminError::Connect { port: 1234, .. }), "{e}");

        for e in [
            redis.status("silent", 7777).await.unwrap_err(),
            redis.promote("silent", 7777).await.unwrap_err(),
        ] {
            assert!(matches!(e, AdminError::Timeout { .. }), "{e}");
        }
        let start = Instant::now();
        let e = HaproxyAdmin::new(TurmoilConnector, 7777, TIMEOUT)
            .ping("silent")
            .await
            .unwrap_err();
        let took = start.elapsed();
        assert!(matches!(e, AdminError::Timeout { .. }), "{e}");
        assert!(
            took >= TIMEOUT && took < TIMEOUT + Duration::from_millis(50),
            "{took:?}"
        );

        // Replies that are not success name the server, the command and the text.
        let e = haproxy.servers("haproxy1", "nope").await.unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("haproxy1:9999")
                && text.contains("show servers state nope")
                && text.contains("Can't find backend."),
            "{text}"
        );
        let e = haproxy
            .remove_server("haproxy1", "nope", "redis1")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("No such backend."), "{e}");
        let e = haproxy
            .set_addr("haproxy1", BACKEND, "redis1", "not-an-ip", 9001)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("Invalid addr"), "{e}");
        // A redis server that speaks, but not RESP: haproxy's API answers garbage to PING.
        let e = redis
            .status("haproxy1", Topology::seed().api_port)
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                AdminError::UnexpectedReply { .. } | AdminError::Closed { .. }
            ),
            "{e}"
        );
        Ok(())
    });
    sim.run().unwrap();
}
