//! Number formatting shared by the reports. Integers only: milliseconds printed as seconds
//! with three fixed decimals, so the text is the same on every machine.

/// `12345` → `12.345s`.
pub fn secs(ms: u64) -> String {
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

/// An optional time, `—` when absent.
pub fn opt_secs(ms: Option<u64>) -> String {
    ms.map_or_else(|| "—".to_string(), secs)
}
