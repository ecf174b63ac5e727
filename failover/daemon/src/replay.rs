//! `failoverd replay AUDIT`: feeds an audit log's inputs through the pure core, from each
//! `start` line's state, and checks that the controller returns the same actions the log
//! recorded. The core has no clock, no randomness and no I/O, so any difference is a
//! changed decision (a new version of the core, or a log that was edited).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use failover::controller::Controller;
use failover::shell::Input;

use crate::audit::{Entry, Line};

/// A line longer than this is not one failoverd wrote (a snapshot of a large deployment
/// is some tens of kilobytes).
pub const LINE_LIMIT: u64 = 16 << 20;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    pub starts: usize,
    pub inputs: usize,
    pub actions: usize,
}

/// Replays the log at `path`; the error names the line and what differs.
pub fn replay(path: &Path) -> Result<Replayed, String> {
    let origin = path.display().to_string();
    let meta =
        std::fs::metadata(path).map_err(|e| format!("{origin}: cannot read the audit log: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{origin}: the audit log is not a regular file"));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| format!("{origin}: cannot read the audit log: {e}"))?;
    let mut reader = BufReader::new(file);
    let mut out = Replayed::default();
    let mut controller: Option<Controller> = None;
    let mut n = 0usize;
    loop {
        n += 1;
        let mut buf = Vec::new();
        let read = (&mut reader)
            .take(LINE_LIMIT + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("{origin}:{n}: {e}"))?;
        if read == 0 {
            break;
        }
        if buf.len() as u64 > LINE_LIMIT {
            return Err(format!(
                "{origin}:{n}: a line over {LINE_LIMIT} bytes is not an audit line"
            ));
        }
        let text = String::from_utf8(buf).map_err(|_| format!("{origin}:{n}: not UTF-8"))?;
        if text.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(&text)
            .map_err(|e| format!("{origin}:{n}: not an audit line: {e}"))?;
        match line.entry {
            Entry::Start { snapshot, .. } => {
                controller = Some(
                    Controller::restore(&snapshot, 0).map_err(|e| format!("{origin}:{n}: {e}"))?,
                );
                out.starts += 1;
            }
            Entry::Input {
                now_ms,
                input,
                actions,
            } => {
                let c = controller
                    .as_mut()
                    .ok_or_else(|| format!("{origin}:{n}: an input before any start line"))?;
                let again = match input {
                    Input::Timeout => c.handle_timeout(now_ms),
                    Input::Observed(o) => c.handle(now_ms, o),
                };
                if again != actions {
                    let show = |a: &[failover::controller::Action]| {
                        serde_json::to_string(a).unwrap_or_default()
                    };
                    return Err(format!(
                        "{origin}:{n}: the controller now decides {}; the log recorded {}",
                        show(&again),
                        show(&actions)
                    ));
                }
                out.inputs += 1;
                out.actions += actions.len();
            }
            Entry::Event { .. }
            | Entry::Held { .. }
            | Entry::Paused { .. }
            | Entry::Stopped { .. } => {}
        }
    }
    Ok(out)
}
