//! The `failover-sim` subcommands, one file each; `src/main.rs` only parses arguments.

pub mod explore;
pub mod probes;
pub mod run;
