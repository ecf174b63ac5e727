//! `failover-sim merge`: shards' sweep.json files joined into one sweep.json and
//! junit.xml, with the statistics recomputed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::sweep::{merge, SweepFile};

pub fn run_merge(inputs: &[PathBuf], out: &Path, json: bool) -> ExitCode {
    let mut files = Vec::new();
    for p in inputs {
        match SweepFile::read(p) {
            Ok(f) => files.push((p.display().to_string(), f)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let merged = match merge::merge(&files) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    for w in &merged.warnings {
        eprintln!("warning: {w}");
    }
    super::sweep::finish(&merged.file, out, json)
}
