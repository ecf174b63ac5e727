//! The redis-server model: what real redis 7.0 does that failover depends on.
//!
//! Layout:
//! - `server`: the process (listener, one task per client connection);
//! - `protocol`: reading RESP and inline commands off a connection;
//! - `commands`: each command's behaviour, arity and error texts;
//! - `keyspace`: the data (strings and lists);
//! - `state`: one server's shared state (role, replication ids, offsets, backlog, clients);
//! - `replication`: master and replica sides of asynchronous replication;
//! - `info`: INFO and ROLE replies;
//! - `persistence`: RDB snapshots on the machine's disk (save rules, SIGTERM, load at start);
//! - `config`: the settings from Debian's redis.conf that matter here.

pub mod commands;
pub mod config;
pub mod info;
pub mod keyspace;
pub mod persistence;
pub mod protocol;
pub mod replication;
pub mod server;
pub mod state;

pub use config::RedisConfig;
pub use server::run_redis;
