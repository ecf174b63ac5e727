//! What an exploration is asked to do: the seeds, the base scenario, the expectations, and
//! the limits; parsed from the command line's text without panicking on bad input.

use std::ops::RangeInclusive;
use std::path::PathBuf;

use scenario::{Expect, Scenario, SimDuration, Status};

/// The default "the seed lab must recover" expectations when neither `--base` nor
/// `--expect` gives any: full redundancy back within 2 minutes of the last fault (or heal),
/// and no acknowledged write lost.
pub fn default_expect() -> Expect {
    Expect {
        redundancy_within: Some(SimDuration::from_secs(120)),
        max_lost_writes: Some(0),
        ..Expect::default()
    }
}

/// The default length of a drawn run.
pub const DEFAULT_DURATION: SimDuration = SimDuration::from_secs(180);

/// Everything the explorer needs.
#[derive(Clone, Debug)]
pub struct ExploreOptions {
    pub seeds: RangeInclusive<u64>,
    /// Settings, duration and `[expect]` of every drawn scenario (faults ignored).
    pub base: Scenario,
    /// Whether each seed draws its own workload and failover settings (no `--base`).
    pub draw_settings: bool,
    pub max_faults: usize,
    /// Lab runs the shrinker may spend per finding.
    pub shrink_budget: usize,
    /// Where found scenarios are written.
    pub out: PathBuf,
    /// Seeds explored at once (results are reported in seed order whatever this is).
    pub jobs: usize,
}

/// The scenario drawn scenarios start from when there is no `--base`: the seed lab with
/// default settings, `duration` long, with the default expectations, which every drawn
/// schedule must meet (a run that does not is a finding).
pub fn default_base(duration: SimDuration) -> Scenario {
    Scenario {
        description: String::new(),
        status: Status::MustPass,
        duration,
        seed: 0,
        topology: Default::default(),
        workload: Default::default(),
        failover: Default::default(),
        expect: default_expect(),
        faults: Vec::new(),
    }
}

/// `A..=B`, `A..B` or `N`: the seeds to explore (each at most 2^63-1, which a scenario file
/// can pin).
pub fn parse_seeds(text: &str) -> Result<RangeInclusive<u64>, String> {
    // The syntax is the sweep's; an exploration takes one contiguous range of it.
    let seeds = crate::sweep::seeds::parse(text).map_err(|e| e.to_string())?;
    let (first, last) = match (seeds.first(), seeds.last()) {
        (Some(f), Some(l)) => (*f, *l),
        _ => return Err(format!("--seeds {text:?} is empty")),
    };
    if last > i64::MAX as u64 {
        return Err(format!(
            "seed {last} is above 2^63-1, the largest a scenario file can pin"
        ));
    }
    if (last - first + 1) as usize != seeds.len() {
        return Err(format!(
            "--seeds {text:?}: explore takes one range (A..=B, A..B or N), not a list with gaps"
        ));
    }
    Ok(first..=last)
}

/// `key=value` bounds such as `max_failed_requests=0` or `redundancy_within=2m`, read
/// exactly as an `[expect]` table would be.
pub fn parse_expect(items: &[String]) -> Result<Expect, String> {
    let mut expect = Expect::default();
    for item in items {
        let Some((key, value)) = item.split_once('=') else {
            return Err(format!(
                "--expect {item:?}: write key=value, such as max_lost_writes=0 or \
                 redundancy_within=2m"
            ));
        };
        let (key, value) = (key.trim(), value.trim());
        let count = || -> Result<Option<u64>, String> {
            value
                .parse()
                .map(Some)
                .map_err(|_| format!("--expect {key}: {value:?} is not a whole number"))
        };
        let time = || -> Result<Option<SimDuration>, String> {
            SimDuration::parse(value)
                .map(Some)
                .map_err(|e| format!("--expect {key}: {e}"))
        };
        match key {
            "max_lost_writes" => expect.max_lost_writes = count()?,
            "max_failed_requests" => expect.max_failed_requests = count()?,
            "max_unavailability" => expect.max_unavailability = time()?,
            "max_total_unavailability" => expect.max_total_unavailability = time()?,
            "redundancy_within" => expect.redundancy_within = time()?,
            "max_split_brain" => expect.max_split_brain = time()?,
            "max_false_failovers" => expect.max_false_failovers = count()?,
            _ => {
                return Err(format!(
                    "--expect: unknown bound {key:?}; valid: max_lost_writes, \
                     max_failed_requests, max_unavailability, max_total_unavailability, \
                     redundancy_within, max_split_brain, max_false_failovers"
                ))
            }
        }
    }
    Ok(expect)
}
