//! The exploration's summary: counts over every seed, and each finding with its file and
//! the command that reproduces it. Holds no wall-clock times, so the same inputs give the
//! same bytes.

use serde::Serialize;

use super::seed::SeedReport;
use super::verdict::Verdict;

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub seeds_explored: usize,
    pub passed: usize,
    /// Seeds whose drawn run failed an expectation with every fault effective.
    pub findings: usize,
    /// Seeds where some fault never took effect: the generator's bugs, not shrunk.
    pub ineffective: usize,
    pub errors: usize,
    /// Changes the shrinker kept, and lab runs it spent, over all findings.
    pub shrink_steps: usize,
    pub shrink_runs: usize,
    /// Findings whose written file failed the same way when run again.
    pub reproduced: usize,
    pub files: Vec<String>,
    pub seeds: Vec<SeedReport>,
}

impl Summary {
    pub fn of(seeds: Vec<SeedReport>) -> Summary {
        let count = |p: &dyn Fn(&SeedReport) -> bool| seeds.iter().filter(|s| p(s)).count();
        let findings: Vec<_> = seeds.iter().filter_map(|s| s.finding.as_ref()).collect();
        Summary {
            seeds_explored: seeds.len(),
            passed: count(&|s| s.error.is_none() && s.verdict == Verdict::Passed),
            findings: count(&|s| matches!(s.verdict, Verdict::Failed { .. })),
            ineffective: count(&|s| matches!(s.verdict, Verdict::Ineffective { .. })),
            errors: count(&|s| s.error.is_some()),
            shrink_steps: findings.iter().map(|f| f.shrink_steps.len()).sum(),
            shrink_runs: findings.iter().map(|f| f.shrink_runs).sum(),
            reproduced: findings.iter().filter(|f| f.reproduced).count(),
            files: findings.iter().filter_map(|f| f.file.clone()).collect(),
            seeds,
        }
    }
}

impl Summary {
    /// Whether the exploration failed as a command: a seed could not be explored, a
    /// finding's file could not be written, or a written file does not reproduce.
    pub fn is_broken(&self) -> bool {
        self.errors > 0 || self.files.len() < self.findings || self.reproduced < self.files.len()
    }
}

/// One line for a seed, as progress.
pub fn seed_line(r: &SeedReport) -> String {
    let drawn = if r.drawn.is_empty() {
        "no faults".to_string()
    } else {
        r.drawn.join(", ")
    };
    if let Some(e) = &r.error {
        return format!("seed {:>6}  error: {e}", r.seed);
    }
    match (&r.verdict, &r.finding) {
        (Verdict::Passed, _) => format!("seed {:>6}  pass      [{drawn}]", r.seed),
        (Verdict::Ineffective { problems }, _) => format!(
            "seed {:>6}  GENERATOR [{drawn}]: {}",
            r.seed,
            problems.join("; ")
        ),
        (Verdict::Failed { expectations }, finding) => {
            let first = expectations
                .first()
                .map(|e| e.message.as_str())
                .unwrap_or_default();
            let mut line = format!("seed {:>6}  FOUND     [{drawn}]: {first}", r.seed);
            if let Some(f) = finding {
                line.push_str(&format!(
                    "\n             shrunk {} -> {} faults in {} runs ({} steps); {}",
                    f.drawn_faults,
                    f.shrunk_faults,
                    f.shrink_runs,
                    f.shrink_steps.len(),
                    match (&f.file, f.reproduced) {
                        (Some(file), true) => format!("{file} reproduces"),
                        (Some(file), false) => format!(
                            "{file} DOES NOT reproduce: {}",
                            f.error.as_deref().unwrap_or("?")
                        ),
                        (None, _) => format!("not written: {}", f.error.as_deref().unwrap_or("?")),
                    }
                ));
            }
            line
        }
    }
}

/// The summary for a person.
pub fn render(s: &Summary) -> String {
    let mut out = format!(
        "explored {} seeds: {} passed, {} findings, {} generator problems, {} errors\n\
         shrinking: {} steps kept in {} runs; {} of {} findings reproduce from their file\n",
        s.seeds_explored,
        s.passed,
        s.findings,
        s.ineffective,
        s.errors,
        s.shrink_steps,
        s.shrink_runs,
        s.reproduced,
        s.findings
    );
    for r in &s.seeds {
        if let Some(f) = &r.finding {
            out.push_str(&format!(
                "seed {}: {} ({} faults after shrinking)\n",
                r.seed, f.message, f.shrunk_faults
            ));
            for step in &f.shrink_steps {
                out.push_str(&format!("    shrink: {step}\n"));
            }
            if let (Some(file), Some(cmd)) = (&f.file, &f.reproduce) {
                out.push_str(&format!("    wrote     {file}\n    reproduce {cmd}\n"));
            }
        }
    }
    out
}
