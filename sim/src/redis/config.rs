//! A redis server's settings: the few of Debian's redis.conf that shape failover.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    pub port: u16,
    /// `repl-diskless-sync-delay`: Debian ships 5 s; replicas that ask for a full sync in
    /// this window share one transfer.
    pub diskless_sync_delay: Duration,
    /// Full-sync transfer speed, so that a bigger dataset takes longer to ship.
    pub sync_bytes_per_second: u64,
    /// `repl-timeout`: a link with no traffic for this long is considered dead.
    pub repl_timeout: Duration,
    /// `repl-ping-replica-period`: the master pings its replicas through the stream.
    pub repl_ping_period: Duration,
    /// `repl-backlog-size`.
    pub backlog_size: usize,
    /// `min-replicas-to-write` (CONFIG SET-able).
    pub min_replicas_to_write: i64,
    /// `min-replicas-max-lag` in seconds (CONFIG SET-able).
    pub min_replicas_max_lag: i64,
    /// `replicaof host port` in redis.conf: start as a replica of this master.
    pub replicaof: Option<(String, u16)>,
    /// `save seconds changes ...`: snapshot after `seconds` if at least `changes` keys
    /// changed; empty is `save ""` (no snapshots, none on shutdown either).
    pub save: Vec<(u64, u64)>,
    /// `shutdown-timeout`: how long SIGTERM waits for lagging replicas.
    pub shutdown_timeout: Duration,
}

impl RedisConfig {
    /// Debian's redis.conf with the port changed.
    pub fn debian(port: u16) -> Self {
        Self {
            port,
            diskless_sync_delay: Duration::from_secs(5),
            sync_bytes_per_second: 50 * 1024 * 1024,
            repl_timeout: Duration::from_secs(60),
            repl_ping_period: Duration::from_secs(10),
            backlog_size: 1024 * 1024,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            replicaof: None,
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            shutdown_timeout: Duration::from_secs(10),
        }
    }

    /// Where the snapshot lives on the machine's disk: Debian's `dir /var/lib/redis`, one
    /// file per server of the machine.
    pub fn rdb_path(&self) -> String {
        format!("/var/lib/redis/dump-{}.rdb", self.port)
    }

    /// The same, starting as a replica of `host:port`.
    pub fn replica_of(self, host: &str, port: u16) -> Self {
        Self {
            replicaof: Some((host.to_string(), port)),
            ..self
        }
    }
}
