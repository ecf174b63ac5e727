//! The audit log: JSON lines, one per thing the controller was given or did, each with
//! its wall-clock time (`at_unix_ms`, for people) and its time on the controller's clock
//! (`now_ms`, for replay). A `start` line holds the state the shell started from, so the
//! lines after it replay through the pure core (`failoverd replay`).
//!
//! Lines are appended with one write each (O_APPEND), so a rotation by truncation
//! (logrotate's copytruncate) or a crash loses at most the line being written.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use failover::controller::Action;
use failover::event::Event;
use failover::plan::Operation;
use failover::shell::Input;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// The shell started (or restarted) from this state, at time 0 of its clock.
    Start { snapshot: String, dry_run: bool },
    /// The controller was given `input` and returned `actions`.
    Input {
        now_ms: u64,
        input: Input,
        actions: Vec<Action>,
    },
    /// What the shell itself recorded (a step started, plans resumed).
    Event { event: Event },
    /// A dry run held this step instead of running it.
    Held {
        plan: u64,
        step: usize,
        op: Operation,
    },
    /// Maintenance mode was switched on or off.
    Paused { now_ms: u64, paused: bool },
    /// The daemon stopped on a signal.
    Stopped { signal: String },
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Line {
    pub at_unix_ms: u64,
    #[serde(flatten)]
    pub entry: Entry,
}

pub struct AuditLog {
    file: Mutex<File>,
}

pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl AuditLog {
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        if !file.metadata()?.is_file() {
            return Err(std::io::Error::other("not a regular file"));
        }
        Ok(AuditLog {
            file: Mutex::new(file),
        })
    }

    pub fn write(&self, entry: Entry) {
        let line = Line {
            at_unix_ms: unix_ms(),
            entry,
        };
        let mut text = serde_json::to_string(&line).expect("audit lines serialize");
        text.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = file.write_all(text.as_bytes()) {
            tracing::error!(target: "failoverd", error = %e, "cannot write the audit log");
        }
    }

    pub fn sync(&self) {
        let file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = file.sync_all();
    }
}
