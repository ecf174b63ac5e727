//! Resident memory from /proc (Linux only; elsewhere every reading is `None`): the
//! benchmark's check that a long sweep does not grow.

use std::fs;

/// A `kB` field (`VmRSS`, `VmHWM`) of `/proc/<pid>/status`.
fn status_kb(pid: &str, field: &str) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// This process's resident memory now.
pub fn self_rss_kb() -> Option<u64> {
    status_kb("self", "VmRSS")
}

/// This process's peak resident memory so far.
pub fn self_peak_kb() -> Option<u64> {
    status_kb("self", "VmHWM")
}

/// The resident memory of this process's live children, added up.
pub fn children_rss_kb() -> u64 {
    let me = std::process::id().to_string();
    let Ok(dir) = fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| parent_of(pid).as_deref() == Some(me.as_str()))
        .filter_map(|pid| status_kb(&pid, "VmRSS"))
        .sum()
}

fn parent_of(pid: &str) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; the fields after its ')' are fixed.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1).map(str::to_string)
}
