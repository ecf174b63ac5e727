//! The `failover-sim` subcommands, one file each; `src/main.rs` only parses arguments.

pub mod explore;
pub mod merge;
pub mod probes;
pub mod run;
pub mod sweep;
