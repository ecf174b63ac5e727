//! Where each of a run's faults stands: when it was due, when it took effect, when it
//! healed. A world's nemesis fills these in; the checkers and reports read them.

/// Where one fault stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FaultRecord {
    pub index: usize,
    pub kind: String,
    pub at_ms: u64,
    /// When it took effect, once it has.
    pub took_effect_ms: Option<u64>,
    pub healed_ms: Option<u64>,
    /// Why it has not taken effect, when that is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}
