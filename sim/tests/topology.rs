//! One topology value shapes the lab: the seed's is the seed lab, port for port, and a
//! ten-port lab loses a machine holding ten masters and recovers every port.

use std::path::Path;

use failover::config::Policy;
use failover::layout::Topology;
use judge::history::{History, Phase};
use scenario::processes_of;
use sim::haproxy::presets;
use sim::lab::machine_spec;
use sim::workload::WorkloadConfig;

/// (frontend port, backend, [(server, host, port, backup)]) of a preset.
type Routes = Vec<(u16, String, Vec<(String, String, u16, bool)>)>;

fn routes(config: &sim::haproxy::HaproxyConfig) -> Routes {
    config
        .frontends
        .iter()
        .map(|f| {
            let backend = config
                .backends
                .iter()
                .find(|b| b.name == f.backend)
                .expect("every frontend has its backend");
            let servers = backend
                .servers
                .iter()
                .map(|s| (s.name.clone(), s.host.clone(), s.port, s.backup))
                .collect();
            (f.bind_port, f.backend.clone(), servers)
        })
        .collect()
}

fn servers(list: &[(&str, u16, bool)]) -> Vec<(String, String, u16, bool)> {
    list.iter()
        .map(|(m, p, b)| (m.to_string(), m.to_string(), *p, *b))
        .collect()
}

#[test]
fn the_seed_topology_is_the_seed_lab() {
    let seed = Topology::seed();
    assert_eq!(
        routes(&presets::haproxy_node(&seed, "haproxy1", Policy::Safe)),
        vec![
            (
                8001,
                "redis_9001".to_string(),
                servers(&[("redis1", 9001, false), ("redis2", 9001, true)])
            ),
            (
                8002,
                "redis_9002".to_string(),
                servers(&[("redis1", 9002, false), ("redis2", 9002, true)])
            ),
        ]
    );
    assert_eq!(
        routes(&presets::app_local(&seed, Policy::Safe)),
        vec![
            (
                7001,
                "8001".to_string(),
                servers(&[("haproxy1", 8001, false), ("haproxy2", 8001, true)])
            ),
            (
                7002,
                "8002".to_string(),
                servers(&[("haproxy1", 8002, false), ("haproxy2", 8002, true)])
            ),
        ]
    );
    assert_eq!(
        presets::app_local(&seed, Policy::Safe).stats_port,
        Some(9999)
    );
    assert_eq!(WorkloadConfig::default().ports, vec![7001, 7002]);
}

#[test]
fn machines_run_the_processes_faults_may_name() {
    for n in [1, 2, 10, 32] {
        let t = Topology::with_redis_ports(n).unwrap();
        for machine in t.machines() {
            let spec = machine_spec(
                &t,
                Policy::Safe,
                &machine,
                1,
                &WorkloadConfig::default(),
                &History::default(),
                None,
            );
            let names: Vec<String> = spec.processes.iter().map(|(p, _)| p.clone()).collect();
            // monit runs its controller only when the lab is given one.
            if machine == t.monitor {
                assert!(names.is_empty(), "{names:?}");
                assert_eq!(processes_of(&t, &machine), ["controller"]);
            } else {
                assert_eq!(names, processes_of(&t, &machine), "{machine}, {n} ports");
            }
        }
    }
}

#[test]
fn ten_ports_route_every_port_through_both_proxies() {
    let t = Topology::with_redis_ports(10).unwrap();
    let node = routes(&presets::haproxy_node(&t, "haproxy2", Policy::Safe));
    assert_eq!(node.len(), 10);
    assert_eq!(
        node[9],
        (
            8010,
            "redis_9010".to_string(),
            servers(&[("redis1", 9010, false), ("redis2", 9010, true)])
        )
    );
    let app = routes(&presets::app_local(&t, Policy::Safe));
    assert_eq!(
        app.iter().map(|r| r.0).collect::<Vec<_>>(),
        (7001..=7010).collect::<Vec<_>>()
    );
    assert_eq!(
        app[4],
        (
            7005,
            "8005".to_string(),
            servers(&[("haproxy1", 8005, false), ("haproxy2", 8005, true)])
        )
    );
    let layout = t.layout("app-addr");
    assert_eq!(layout.app_backends[9], ("8010".to_string(), 8010));
}

#[test]
fn a_machine_with_ten_masters_dies_and_every_port_recovers() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/ten-masters-machine-crash.toml");
    let s = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let lab = s.topology.lab();
    assert_eq!(lab.redis_port_list().len(), 10);
    assert_eq!(s.workload.ports, lab.app_ports());
    let r = sim::run::run(&s, s.seed);
    assert_eq!(r.failures(), Vec::<String>::new());
    assert!(
        r.summary.redundancy.ok,
        "{:?}",
        r.summary.redundancy.problems
    );
    assert_eq!(
        r.summary
            .redundancy
            .masters
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        lab.redis_port_list()
    );
    assert!(
        r.summary.redundancy.masters.values().all(|m| m != "redis1"),
        "{:?}",
        r.summary.redundancy.masters
    );
    assert_eq!(r.analysis.lost_writes.total, 0);
    // Every port's master was read back.
    assert_eq!(r.analysis.lost_writes.unverified, 0);
    assert_eq!(
        r.final_state.keys().copied().collect::<Vec<_>>(),
        lab.app_ports()
    );
    let crash_ms = r.summary.faults[0]
        .took_effect_ms
        .expect("the crash took effect");
    for port in lab.app_ports() {
        assert_eq!(r.analysis.requests.per_port[&port].failed, 0, "port {port}");
        let served_after = r
            .history
            .iter()
            .filter(|e| e.port == port && e.phase == Phase::Ok && e.at_ms > crash_ms + 10_000)
            .count();
        assert!(
            served_after > 100,
            "port {port}: {served_after} ok after the crash"
        );
    }
}
