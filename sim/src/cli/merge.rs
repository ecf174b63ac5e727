//! `failover-sim merge`: shards' sweep.json files joined into one sweep.json and
//! junit.xml, with the statistics recomputed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{error, output::check_out_dir};
use crate::sweep::seeds::MAX_RUNS;
use crate::sweep::{merge, SweepFile};

pub fn run_merge(inputs: &[PathBuf], out: &Path, json: bool) -> ExitCode {
    if let Err(e) = check_out_dir("--out", out) {
        return error(e);
    }
    let mut files = Vec::new();
    let mut runs = 0u64;
    for p in inputs {
        let name = p.display().to_string();
        match SweepFile::read(p).and_then(|f| merge::check(&name, f)) {
            Ok(f) => {
                runs += f.results.len() as u64;
                files.push((name, f));
            }
            Err(e) => return error(e),
        }
        // Stop reading as soon as the inputs are too many to merge, not after all of them.
        if runs > MAX_RUNS {
            return error(format!(
                "the inputs up to {} hold {runs} runs; valid: at most {MAX_RUNS} in one merge",
                p.display()
            ));
        }
    }
    let merged = match merge::merge(&files) {
        Ok(m) => m,
        Err(e) => return error(e),
    };
    for w in &merged.warnings {
        eprintln!("warning: {}", scenario::error::printable(w));
    }
    super::sweep::finish(&merged.file, out, json)
}
