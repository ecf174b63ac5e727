//! `failover-sim run --check-determinism`: the seed runs twice in this process and its
//! history and trace are compared line by line, as madsim's
//! `MADSIM_TEST_CHECK_DETERMINISM` does; the first difference is where to start looking
//! for the leak (an unbiased `select!`, a `HashMap`, the real clock).

use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use crate::run::{history_jsonl, run, trace_jsonl};
use scenario::Scenario;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stream {
    /// `history` or `trace`.
    pub name: &'static str,
    pub lines: usize,
    pub bytes: usize,
    /// Absent when both runs wrote the same bytes.
    pub divergence: Option<Divergence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Divergence {
    /// 0-based line (event) index.
    pub index: usize,
    /// The simulated time of the first run's event there (else the second's).
    pub at_ms: Option<u64>,
    /// The line in each run; `null` when that run had ended.
    pub first: Option<String>,
    pub second: Option<String>,
}

/// Where two JSONL texts first differ.
pub fn compare(name: &'static str, a: &str, b: &str) -> Stream {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let divergence = (0..la.len().max(lb.len()))
        .find(|i| la.get(*i) != lb.get(*i))
        .map(|i| {
            let at = |l: Option<&&str>| {
                l.and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                    .and_then(|v| v.get("at_ms").and_then(|t| t.as_u64()))
            };
            Divergence {
                index: i,
                at_ms: at(la.get(i)).or_else(|| at(lb.get(i))),
                first: la.get(i).map(|s| s.to_string()),
                second: lb.get(i).map(|s| s.to_string()),
            }
        });
    Stream {
        name,
        lines: la.len(),
        bytes: a.len(),
        divergence,
    }
}

/// Runs `seed` twice and compares history and trace.
pub fn check(scenario: &Scenario, seed: u64) -> Vec<Stream> {
    let (a, b) = (run(scenario, seed), run(scenario, seed));
    vec![
        compare(
            "history",
            &history_jsonl(&a.history),
            &history_jsonl(&b.history),
        ),
        compare("trace", &trace_jsonl(&a.trace), &trace_jsonl(&b.trace)),
    ]
}

/// The command's output: exits non-zero when the runs differ.
pub fn check_and_print(scenario: &Scenario, path: &Path, seed: u64, json: bool) -> ExitCode {
    let streams = check(scenario, seed);
    let same = streams.iter().all(|s| s.divergence.is_none());
    let reproduce = format!(
        "{} --check-determinism",
        crate::reproduce::run_command(path.as_os_str(), Some(seed))
    );
    if json {
        let v = serde_json::json!({
            "scenario": path.display().to_string(),
            "seed": seed,
            "deterministic": same,
            "streams": streams,
            "reproduce": reproduce,
        });
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        println!("scenario  {}", path.display());
        println!("seed      {seed} (run twice in this process)");
        for s in &streams {
            match &s.divergence {
                None => println!(
                    "{:<9} identical: {} events, {} bytes",
                    s.name, s.lines, s.bytes
                ),
                Some(d) => {
                    let at = d
                        .at_ms
                        .map(|t| format!("{:.3} s", t as f64 / 1000.0))
                        .unwrap_or_else(|| "-".into());
                    println!(
                        "{:<9} DIFFER at event {} (simulated time {at}):",
                        s.name, d.index
                    );
                    println!("  run 1: {}", d.first.as_deref().unwrap_or("(ended)"));
                    println!("  run 2: {}", d.second.as_deref().unwrap_or("(ended)"));
                }
            }
        }
        println!("reproduce {reproduce}");
    }
    if same {
        ExitCode::SUCCESS
    } else {
        eprintln!("error: the same seed gave two different runs: the lab is not deterministic");
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::compare;

    #[test]
    fn finds_the_first_difference() {
        let a = "{\"at_ms\":1}\n{\"at_ms\":2,\"x\":1}\n";
        let b = "{\"at_ms\":1}\n{\"at_ms\":2,\"x\":2}\n";
        let d = compare("trace", a, b).divergence.unwrap();
        assert_eq!((d.index, d.at_ms), (1, Some(2)));
        assert!(compare("trace", a, a).divergence.is_none());
        let d = compare("trace", a, "{\"at_ms\":1}\n").divergence.unwrap();
        assert_eq!((d.index, d.second), (1, None));
    }
}
