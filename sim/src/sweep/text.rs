//! The sweep's summary for people: per scenario the spread of each figure, then every
//! failing seed with the one command that reproduces it.

use std::fmt::Write;

use super::file::SweepFile;
use super::stats::Spread;
use scenario::error::printable;

pub fn summary(f: &SweepFile) -> String {
    let mut s = String::new();
    let shard = f.shard.map(|s| format!(", shard {s}")).unwrap_or_default();
    let _ = writeln!(
        s,
        "sweep of seeds {}{shard}: {} runs, {} passed, {} failed",
        f.seeds, f.totals.runs, f.totals.passed, f.totals.failed
    );
    if f.incomplete {
        let _ = writeln!(
            s,
            "INCOMPLETE: the sweep was stopped before {} runs ran; the figures cover the runs \
             that finished",
            f.missing.len()
        );
    }
    for st in &f.stats {
        let _ = writeln!(
            s,
            "\n{}: {} seeds, {} passed, {} failed",
            printable(&st.scenario),
            st.seeds,
            st.passed,
            st.failed
        );
        let _ = writeln!(
            s,
            "  {:<24} {:>10} {:>10} {:>10} {:>10}",
            "", "min", "median", "p99", "max"
        );
        row(&mut s, "lost writes", st.lost_writes, count);
        row(&mut s, "failed requests", st.failed_requests, count);
        row(
            &mut s,
            "longest unavailability",
            st.longest_unavailability_ms,
            secs,
        );
        row(&mut s, "recovery time", st.recovery_ms, secs);
        if st.not_recovered > 0 {
            let _ = writeln!(
                s,
                "  ({} seeds never got back to full redundancy)",
                st.not_recovered
            );
        }
        if st.without_figures > 0 {
            let _ = writeln!(
                s,
                "  ({} seeds produced no figures: panicked, crashed or timed out)",
                st.without_figures
            );
        }
    }
    if !f.missing.is_empty() {
        let _ = writeln!(s, "\nmissing: {} seeds did not run:", f.missing.len());
        for m in f.missing.iter().take(MISSING_SHOWN) {
            let _ = writeln!(s, "  {} seed {}", printable(&m.scenario), m.seed);
        }
        if f.missing.len() > MISSING_SHOWN {
            let _ = writeln!(
                s,
                "  ... and {} more (sweep.json lists them all)",
                f.missing.len() - MISSING_SHOWN
            );
        }
    }
    if f.totals.failed > 0 {
        let _ = writeln!(s, "\nfailing seeds (each line reproduces one):");
        for r in f.failed() {
            let _ = writeln!(s, "  {}", printable(&r.reproduce));
            for why in &r.failures {
                let _ = writeln!(s, "      {}", printable(why));
            }
        }
    }
    s
}

/// Missing seeds listed one a line; the rest are counted (an interrupted sweep of 100,000
/// seeds would otherwise print 100,000 lines).
const MISSING_SHOWN: usize = 20;

fn row(s: &mut String, name: &str, spread: Option<Spread>, unit: fn(u64) -> String) {
    let Some(x) = spread else {
        let _ = writeln!(s, "  {name:<24} {:>10}", "-");
        return;
    };
    let _ = writeln!(
        s,
        "  {name:<24} {:>10} {:>10} {:>10} {:>10}",
        unit(x.min),
        unit(x.median),
        unit(x.p99),
        unit(x.max)
    );
}

fn count(n: u64) -> String {
    n.to_string()
}

fn secs(ms: u64) -> String {
    format!("{:.3} s", ms as f64 / 1000.0)
}
