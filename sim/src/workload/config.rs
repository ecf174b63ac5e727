//! What the workload does: how many clients, how fast, through which ports, which mix.

use std::time::Duration;

use failover::layout::Topology;

/// Relative weights of the operation kinds; an operation's kind is drawn with these odds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    pub write: u32,
    pub read: u32,
    pub incr: u32,
    pub rpush: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Self {
            write: 40,
            read: 30,
            incr: 15,
            rpush: 15,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadConfig {
    /// Concurrent clients; client `i` uses `ports[i % ports.len()]`.
    pub clients: u32,
    /// Operations per second, all clients together.
    pub rate: f64,
    /// The app's local haproxy ports (by default every app port of the seed's topology).
    pub ports: Vec<u16>,
    /// Per operation, connect included.
    pub timeout: Duration,
    /// Simulated time of the first operation.
    pub start: Duration,
    /// Simulated time after which no operation is invoked (in-flight ones finish).
    pub stop: Duration,
    pub mix: Mix,
    /// First pause after a failed or unknown operation; doubles per failure up to
    /// `backoff_max`, back to `backoff_min` after a success.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        Self {
            clients: 4,
            rate: 100.0,
            ports: Topology::seed().app_ports(),
            timeout: Duration::from_secs(1),
            // The seed's failover machinery needs a few seconds to settle after boot.
            start: Duration::from_secs(10),
            stop: Duration::MAX,
            mix: Mix::default(),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
        }
    }
}

impl WorkloadConfig {
    /// The pause between one client's invocations that makes all clients reach `rate`, or
    /// `None` when the configuration asks for no operations at all.
    pub fn interval(&self) -> Option<Duration> {
        if self.clients == 0 || self.ports.is_empty() || self.rate.is_nan() || self.rate <= 0.0 {
            return None;
        }
        Duration::try_from_secs_f64(f64::from(self.clients) / self.rate).ok()
    }
}
