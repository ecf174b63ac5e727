//! The `failover-sim` subcommands, one file each; `src/main.rs` only parses arguments.
//! [`bounds`] holds every numeric flag's range, [`output`] checks where a command writes.

pub mod bounds;
pub mod compare;
pub mod explore;
pub mod merge;
pub mod output;
pub mod policies;
pub mod probes;
pub mod run;
pub mod sweep;

use std::fmt::Display;
use std::process::ExitCode;

/// Prints `error: <e>` on stderr, with any control character the message echoes from
/// the input escaped, and gives the exit code for bad input (2).
pub fn error(e: impl Display) -> ExitCode {
    eprintln!("error: {}", scenario::error::printable(&e.to_string()));
    ExitCode::from(2)
}
