//! The seed lab's proxies as configurations.
//!
//! Timeouts are the classic haproxy example values (connect 5 s, client and server 50 s):
//! the seed's own files do not say.

use std::time::Duration;

use super::config::{Backend, Frontend, HaproxyConfig, Server, TcpCheckRule};

/// The runtime API port of every preset proxy.
pub const STATS_PORT: u16 = 9999;

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

/// `check inter 1s fall 3 rise 2`, optionally `backup`, `on-marked-down shutdown-sessions`.
fn checked(name: &str, host: &str, port: u16, backup: bool) -> Server {
    Server {
        check: true,
        inter: Duration::from_secs(1),
        fall: 3,
        rise: 2,
        backup,
        on_marked_down_shutdown_sessions: true,
        ..Server::new(name, host, port)
    }
}

fn base(name: &str) -> HaproxyConfig {
    HaproxyConfig {
        name: name.to_string(),
        stats_port: Some(STATS_PORT),
        timeout_connect: Duration::from_secs(5),
        timeout_client: Duration::from_secs(50),
        timeout_server: Duration::from_secs(50),
        timeout_check: None,
        frontends: Vec::new(),
        backends: Vec::new(),
    }
}

/// haproxy1 / haproxy2: port 800N routes to the redis master among redis1:900N (active)
/// and redis2:900N (backup).
pub fn haproxy_node(name: &str) -> HaproxyConfig {
    let mut c = base(name);
    for (front, redis) in [(8001, 9001), (8002, 9002)] {
        let backend = format!("redis_{redis}");
        c.frontends.push(Frontend {
            name: format!("fe_{front}"),
            bind_port: front,
            backend: backend.clone(),
        });
        c.backends.push(Backend {
            name: backend,
            servers: vec![
                checked("redis1", "redis1", redis, false),
                checked("redis2", "redis2", redis, true),
            ],
            tcp_check: redis_master_check(),
            allbackups: false,
        });
    }
    c
}

/// The app machine's local haproxy: port 700N to haproxy1:800N, haproxy2:800N as backup,
/// with plain connect checks.
pub fn app_local() -> HaproxyConfig {
    let mut c = base("app");
    for (front, next) in [(7001, 8001), (7002, 8002)] {
        let backend = format!("{next}");
        c.frontends.push(Frontend {
            name: format!("fe_{front}"),
            bind_port: front,
            backend: backend.clone(),
        });
        c.backends.push(Backend {
            name: backend,
            servers: vec![
                checked("haproxy1", "haproxy1", next, false),
                checked("haproxy2", "haproxy2", next, true),
            ],
            tcp_check: Vec::new(),
            allbackups: false,
        });
    }
    c
}
