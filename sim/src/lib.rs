//! The lab: the seed's six machines simulated in turmoil, deterministic from one seed.
//!
//! Layout:
//! - [`machine`]: a simulated machine (a turmoil host) and the supervisor of its processes
//!   (kill, restart, pause), which is how the lab kills one redis server but not its neighbour.
//! - [`redis`]: the redis-server model: RESP2 commands, keyspace, asynchronous replication.
//! - [`haproxy`]: the haproxy model: configuration as data, TCP proxying, health checks and
//!   the runtime API; presets for the seed's proxies.
//! - [`fidelity`]: behaviour probes that run against the models in turmoil and against the
//!   real redis-server and haproxy binaries on loopback, so the two can be compared.
//! - [`scenario`]: scenario files (TOML): duration, seed, workload, faults, expectations.

pub mod fidelity;
pub mod haproxy;
pub mod machine;
pub mod redis;
pub mod scenario;
