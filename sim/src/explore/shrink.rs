//! Shrinking: the smallest, simplest schedule that still fails the same way.
//!
//! The core is generic over the oracle ("does this scenario still fail?") so it can be
//! tested without running the lab; the explorer's oracle runs the lab with the same seed
//! and asks whether the same expectation still fails with every fault taking effect.
//!
//! Order of work, each bounded by the budget of oracle calls:
//! 1. delta debugging (ddmin) over the faults: remove halves, then quarters, ... ;
//! 2. remove single faults;
//! 3. simplify each remaining fault ([`super::simplify`]): earlier, shorter, milder,
//!    fewer machines; after any success the removal pass runs again.
//!
//! A candidate that is not a valid scenario (it would not parse back from its own TOML) is
//! skipped without spending a run.

use std::collections::BTreeSet;

use super::simplify;
use scenario::{self, Scenario};

/// What shrinking achieved.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The smallest failing scenario found.
    pub scenario: Scenario,
    /// Oracle calls spent.
    pub runs: usize,
    /// Each accepted change, in order.
    pub steps: Vec<String>,
}

struct Shrinker<F> {
    current: Scenario,
    /// Candidates already asked about (as TOML), so none costs a second run.
    tried: BTreeSet<String>,
    runs: usize,
    budget: usize,
    steps: Vec<String>,
    still_fails: F,
}

/// Shrinks `failing` (which the caller knows fails) with at most `budget` oracle calls.
pub fn shrink<F: FnMut(&Scenario) -> bool>(
    failing: &Scenario,
    budget: usize,
    still_fails: F,
) -> Shrunk {
    let mut s = Shrinker {
        current: failing.clone(),
        tried: BTreeSet::new(),
        runs: 0,
        budget,
        steps: Vec::new(),
        still_fails,
    };
    s.ddmin();
    loop {
        s.remove_singles();
        if !s.simplify() || s.exhausted() {
            break;
        }
    }
    Shrunk {
        scenario: s.current,
        runs: s.runs,
        steps: s.steps,
    }
}

/// Whether `scenario` is one a file could hold.
pub fn is_valid(scenario: &Scenario) -> bool {
    scenario::to_toml(scenario).is_ok_and(|text| scenario::parse(&text, "<shrink>").is_ok())
}

impl<F: FnMut(&Scenario) -> bool> Shrinker<F> {
    fn exhausted(&self) -> bool {
        self.runs >= self.budget
    }

    /// Runs the oracle on `candidate`; keeps it if it still fails.
    fn attempt(&mut self, candidate: Scenario, what: String) -> bool {
        if self.exhausted() || candidate == self.current || !is_valid(&candidate) {
            return false;
        }
        let Ok(text) = scenario::to_toml(&candidate) else {
            return false;
        };
        if !self.tried.insert(text) {
            return false;
        }
        self.runs += 1;
        if (self.still_fails)(&candidate) {
            self.current = candidate;
            self.steps.push(what);
            true
        } else {
            false
        }
    }

    fn without(&self, range: std::ops::Range<usize>) -> Scenario {
        let mut s = self.current.clone();
        s.faults.drain(range);
        s
    }

    /// Zeller's ddmin, complement side: split the faults into `n` chunks and drop a chunk
    /// that is not needed; otherwise split finer.
    fn ddmin(&mut self) {
        let mut n = 2;
        while self.current.faults.len() >= 2 && !self.exhausted() {
            let len = self.current.faults.len();
            let chunk = len.div_ceil(n);
            let mut removed = false;
            let mut start = 0;
            while start < len {
                let end = (start + chunk).min(len);
                let what = if end - start == 1 {
                    format!("removed fault {start}")
                } else {
                    format!("removed faults {start}..={}", end - 1)
                };
                if self.attempt(self.without(start..end), what) {
                    removed = true;
                    break;
                }
                start = end;
            }
            if removed {
                n = (n - 1).max(2);
            } else if n >= len {
                break;
            } else {
                n = (n * 2).min(len);
            }
        }
    }

    /// Drops single faults until none can go (including the last: a run that fails
    /// without faults says so).
    fn remove_singles(&mut self) {
        let mut i = 0;
        while i < self.current.faults.len() && !self.exhausted() {
            if !self.attempt(self.without(i..i + 1), format!("removed fault {i}")) {
                i += 1;
            }
        }
    }

    /// One pass of simplifications over every fault; whether anything changed.
    fn simplify(&mut self) -> bool {
        let mut changed = false;
        let earliest = self.current.workload.start;
        for i in 0..self.current.faults.len() {
            // Keep simplifying this fault until none of its candidates still fails.
            'fault: while let Some(fault) = self.current.faults.get(i) {
                for (simpler, what) in simplify::candidates(fault, earliest) {
                    if self.exhausted() {
                        return changed;
                    }
                    let mut candidate = self.current.clone();
                    candidate.faults[i] = simpler;
                    if self.attempt(candidate, format!("fault {i}: {what}")) {
                        changed = true;
                        continue 'fault;
                    }
                }
                break;
            }
        }
        changed
    }
}
