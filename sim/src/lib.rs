//! The lab: the seed's six machines simulated in turmoil, deterministic from one seed.
//! Scenario files are read by the `scenario` crate; the history, trace, checkers and
//! reports that judge a run are the `judge` crate, which knows no world.
//!
//! Layout:
//! - [`machine`]: a simulated machine (a turmoil host) and the supervisor of its processes
//!   (kill, stop, restart, pause), which is how the lab kills one redis server but not its
//!   neighbour.
//! - [`disk`]: a machine's disk, which outlives its processes (redis's snapshot).
//! - [`net`]: the turmoil [`failover::effects::Connector`], through which the failover
//!   library's clients reach simulated servers.
//! - [`redis`]: the redis-server model: RESP2 commands, keyspace, asynchronous replication.
//! - [`haproxy`]: the haproxy model: configuration as data, TCP proxying, health checks and
//!   the runtime API; presets for the seed's proxies.
//! - [`lab`]: the seed lab's six machines and their processes, built in turmoil.
//! - [`workload`]: the app's clients (the seed's `redis-test`, made exact): a paced mix of
//!   operations through the local haproxy, each recorded in the history (`judge::history`).
//! - [`nemesis`]: applies a scenario's faults at their times, logs when each took effect.
//! - [`signal`]: a deterministic watch (tokio's wakes its waiters in a random order).
//! - [`phase`]: when the proxies' checks and the controller's polls run, between the
//!   scenario's whole-second fault times, in both worlds.
//! - [`trace`]: every fault and state change of a run, with its simulated time.
//! - [`redundancy`]: the end-of-run check that the lab is fully redundant again.
//! - [`cloud`]: the simulated EC2 control plane: launches, boot delays, capacity errors,
//!   terminations, and the hosts they create and crash.
//! - [`compare`]: one scenario in both worlds, measure by measure, within a tolerance.
//! - [`real`]: the real world: the same scenario with real redis-server, haproxy and
//!   nftables on loopback addresses (`run --world real`, `compare`).
//! - [`reports`]: `reports/`, every scenario's reference reports and their index.
//! - [`run`]: one scenario run from a seed: lab + nemesis + workload → history and trace.
//! - [`reproduce`]: the command lines printed to paste, quoted for a shell.
//! - [`cli`]: the `failover-sim` subcommands (`src/main.rs` only parses arguments).
//! - [`bench`]: `failover-sim bench`, the lab's cost against a bare turmoil baseline.
//! - [`explore`]: swarm exploration: each seed draws its own faults and settings; failing
//!   runs are shrunk to a minimal scenario file that reproduces.
//! - [`policies`]: `failover-sim policies`: every scenario under the seed's design and the
//!   safe policy, swept side by side (`reports/policies.md`).
//! - [`sweep`]: `failover-sim sweep` and `merge`: many seeds in parallel child processes,
//!   shards, statistics, sweep.json and junit.xml; `run --check-determinism`.
//! - [`fidelity`]: behaviour probes that run against the models in turmoil and against the
//!   real redis-server and haproxy binaries on loopback, so the two can be compared.

pub mod bench;
pub mod cli;
pub mod cloud;
pub mod compare;
pub mod disk;
pub mod explore;
pub mod fidelity;
pub mod haproxy;
pub mod lab;
pub mod machine;
pub mod nemesis;
pub mod net;
pub mod phase;
pub mod policies;
pub mod real;
pub mod redis;
pub mod redundancy;
pub mod reports;
pub mod reproduce;
pub mod run;
pub mod signal;
pub mod sweep;
pub mod trace;
pub mod workload;
