//! What a world read back at the end of a run: each port's data, for the checkers that look
//! for lost writes. Which keys to read is a function of the history alone.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::history::{History, OpKind, Phase};

/// What one port held at the end. Each entry is the value found or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadBack {
    pub port: u16,
    /// `GET` of every key asked for; `Ok(None)` when the key does not exist.
    pub keys: BTreeMap<String, Result<Option<String>, String>>,
    /// `GET counter:<port>`.
    pub counter: Result<Option<i64>, String>,
    /// `LRANGE list:<port> 0 -1`.
    pub list: Result<Vec<String>, String>,
}

/// The keys of every write invoked through `port`, sorted: what [`read_back`] should read.
pub fn written_keys(history: &History, port: u16) -> Vec<String> {
    let mut keys: Vec<String> = history
        .borrow()
        .iter()
        .filter(|e| e.phase == Phase::Invoke && e.f == OpKind::Write && e.port == port)
        .map(|e| e.key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}
