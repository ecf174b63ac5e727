//! `failover-sim policies`: every scenario under the seed's design (Debian's 120 s monit
//! cycle, and a tuned 10 s one) and under the safe policy, side by side, at the pinned seed
//! and as median / max over a range of seeds: `reports/policies.md` and `policies.json`.
//!
//! A scenario is turned into one file per [`Variant`] (its policy and cycle set, nothing
//! else changed but the length of a seed run, see [`variant_of`]) and those files are
//! swept like any others (`crate::sweep`: child processes, every core), so a row here is
//! what `failover-sim run` of that file gives. [`table`] aggregates and renders.

pub mod table;

use std::path::{Path, PathBuf};

use failover::config::Policy;
use scenario::{FailoverSettings, Scenario, SimDuration};

/// One failover design a scenario is run under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// As the report names it.
    pub label: &'static str,
    /// As variant file names carry it.
    pub slug: &'static str,
    pub policy: Policy,
    /// monit's cycle.
    pub interval: SimDuration,
}

/// The seed as written (Debian's cycle), the seed with a tuned cycle, the safe policy.
pub const VARIANTS: [Variant; 3] = [
    Variant {
        label: "seed, 120 s cycle",
        slug: "seed-120s",
        policy: Policy::Seed,
        interval: FailoverSettings::default_interval(Policy::Seed),
    },
    Variant {
        label: "seed, 10 s cycle",
        slug: "seed-10s",
        policy: Policy::Seed,
        interval: SimDuration::from_secs(10),
    },
    Variant {
        label: "safe",
        slug: "safe",
        policy: Policy::Safe,
        interval: FailoverSettings::default_interval(Policy::Safe),
    },
];

/// After the last fault, how long a seed-design run goes on at least: monit's
/// `fail_count` cycles (each also spends up to a 5 s timeout per silent test, hence the
/// margin per cycle) and three minutes to recover. Without it a 120 s cycle would not even
/// detect a crash within most scenarios' four minutes, and the rows would show only that.
/// At most the hour a scenario file may last.
fn seed_run_length(s: &Scenario) -> SimDuration {
    let last_fault = s
        .faults
        .iter()
        .map(|f| f.at)
        .max()
        .unwrap_or(SimDuration::ZERO);
    let cycle = s.failover.interval.as_millis() + 30_000;
    let detect = SimDuration::from_millis(cycle.saturating_mul(u64::from(s.failover.fail_count)));
    let needed = last_fault
        .checked_add(detect)
        .and_then(|t| t.checked_add(SimDuration::from_secs(180)))
        .unwrap_or(s.duration);
    // A scenario file may say at most an hour.
    s.duration.max(needed.min(SimDuration::from_secs(3600)))
}

/// `s` under `v`: the policy and its cycle, the fail count kept; a seed-design run made
/// long enough for its cycle (see [`seed_run_length`]). Faults, workload and expectations
/// are the scenario's.
pub fn variant_of(s: &Scenario, v: Variant) -> Scenario {
    let mut out = s.clone();
    out.failover = FailoverSettings {
        policy: v.policy,
        interval: v.interval,
        fail_count: s.failover.fail_count,
    };
    if v.policy == Policy::Seed {
        out.duration = seed_run_length(&out);
    }
    out
}

/// One variant file written for the sweep.
#[derive(Debug, Clone)]
pub struct VariantFile {
    /// The scenario's file stem, e.g. `master-machine-crash`.
    pub scenario: String,
    pub pinned_seed: u64,
    pub variant: Variant,
    pub path: PathBuf,
}

/// Writes every scenario's variant files under `dir`.
pub fn write_variants(scenarios: &[PathBuf], dir: &Path) -> Result<Vec<VariantFile>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut out = Vec::new();
    for path in scenarios {
        let s = scenario::load(path).map_err(|e| e.to_string())?;
        let stem = path
            .file_stem()
            .map(|x| x.to_string_lossy().into_owned())
            .unwrap_or_default();
        for v in VARIANTS {
            let text = scenario::to_toml(&variant_of(&s, v)).map_err(|e| e.to_string())?;
            let file = dir.join(format!("{stem}.{}.toml", v.slug));
            std::fs::write(&file, text)
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            out.push(VariantFile {
                scenario: stem.clone(),
                pinned_seed: s.seed,
                variant: v,
                path: file,
            });
        }
    }
    Ok(out)
}
