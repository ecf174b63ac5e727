//! The lab's proxies as configurations, derived from its [`Topology`].
//!
//! Timeouts are the classic haproxy example values (connect 5 s, client and server 50 s):
//! the seed's own files do not say.

use std::time::Duration;

use failover::config::{ControllerConfig, Policy};
use failover::layout::Topology;

use super::config::{Backend, Frontend, HaproxyConfig, Server, TcpCheckRule};

/// The master-routing tcp-check for redis (haproxy 2.6 doc).
pub fn redis_master_check() -> Vec<TcpCheckRule> {
    vec![
        TcpCheckRule::Send("PING\r\n".into()),
        TcpCheckRule::ExpectString("+PONG".into()),
        TcpCheckRule::Send("info replication\r\n".into()),
        TcpCheckRule::ExpectString("role:master".into()),
        TcpCheckRule::Send("QUIT\r\n".into()),
        TcpCheckRule::ExpectString("+OK".into()),
    ]
}

/// The health checks a policy gives every proxy's servers (the redis proxies' and the
/// app's own), and the servers the controller adds later (`ControllerConfig::check_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyChecks {
    pub inter: Duration,
    pub fall: u32,
    pub rise: u32,
}

impl ProxyChecks {
    /// The checks the policy's controller gives the servers it adds, so the configured
    /// servers and the added ones never differ: `seed` "three unsuccessful attempts each
    /// in 5 seconds" (`inter 5s fall 3`), `safe` `inter 1s fall 3`, both `rise 2`.
    pub fn of(policy: Policy) -> Self {
        let c = ControllerConfig::profile(policy);
        ProxyChecks {
            inter: Duration::from_millis(c.check_inter_ms),
            fall: c.check_fall,
            rise: c.check_rise,
        }
    }

    /// The longest period of a server's checks: with no `timeout check` a check that
    /// times out (a silent server, or an expect that never matches) takes `inter`, and the
    /// next starts `inter` after it ended. Every other check's period divides it.
    pub fn cycle(&self) -> Duration {
        self.inter * 2
    }
}

/// `check inter .. fall .. rise ..`, optionally `backup`, `on-marked-down
/// shutdown-sessions`.
fn checked(name: &str, host: &str, port: u16, backup: bool, checks: ProxyChecks) -> Server {
    Server {
        check: true,
        inter: checks.inter,
        fall: checks.fall,
        rise: checks.rise,
        backup,
        on_marked_down_shutdown_sessions: true,
        ..Server::new(name, host, port)
    }
}

fn base(name: &str, topology: &Topology) -> HaproxyConfig {
    HaproxyConfig {
        name: name.to_string(),
        stats_port: Some(topology.api_port),
        timeout_connect: Duration::from_secs(5),
        timeout_client: Duration::from_secs(50),
        timeout_server: Duration::from_secs(50),
        timeout_check: None,
        timeout_server_fin: None,
        retries: 3,
        redispatch: false,
        abortonclose: false,
        frontends: Vec::new(),
        backends: Vec::new(),
    }
}

/// A redis proxy (haproxy1, haproxy2): per redis port, the proxy port (8001 for 9001)
/// routes to the redis master among the redis machines, the first active and the others
/// backups. Checks as `policy` sets them.
pub fn haproxy_node(topology: &Topology, name: &str, policy: Policy) -> HaproxyConfig {
    let checks = ProxyChecks::of(policy);
    let mut c = base(name, topology);
    for redis in topology.redis_port_list() {
        let front = topology.proxy_port(redis);
        let backend = topology.backend(redis);
        c.frontends.push(Frontend {
            name: format!("fe_{front}"),
            bind_port: front,
            backend: backend.clone(),
        });
        c.backends.push(Backend {
            name: backend,
            servers: topology
                .redis_machines
                .iter()
                .enumerate()
                .map(|(i, m)| checked(m, m, redis, i > 0, checks))
                .collect(),
            tcp_check: redis_master_check(),
            allbackups: false,
        });
    }
    c
}

/// The app machine's local haproxy: per redis port, the app port (7001 for 9001) to the
/// same proxy port on the first redis proxy, the others as backups, with plain connect
/// checks at `policy`'s interval, so a proxy that has lost its master still looks healthy
/// to the app. Checks that see through the proxy (the master check sent through it) are
/// the safe policy's remedy, measured in the lab (haproxy1-cut-off-from-redis1: 45.6 s to
/// 5.5 s) but not yet in both worlds: with them, after a master crash the real world's
/// first write came 3 s after the lab's (see ARCHITECTURE.md, known differences).
pub fn app_local(topology: &Topology, policy: Policy) -> HaproxyConfig {
    let checks = ProxyChecks::of(policy);
    let mut c = base(&topology.app, topology);
    for redis in topology.redis_port_list() {
        let (front, next) = (topology.app_port(redis), topology.proxy_port(redis));
        let backend = topology.app_backend(redis);
        c.frontends.push(Frontend {
            name: format!("fe_{front}"),
            bind_port: front,
            backend: backend.clone(),
        });
        c.backends.push(Backend {
            name: backend,
            servers: topology
                .proxies
                .iter()
                .enumerate()
                .map(|(i, p)| checked(p, p, next, i > 0, checks))
                .collect(),
            tcp_check: Vec::new(),
            allbackups: false,
        });
    }
    c
}
