//! The progress bar on stderr: seeds done, failed, ETA. indicatif hides it when stderr is
//! not a terminal (CI logs, tests); failing seeds are printed as lines either way, so a
//! long sweep shows its failures before it ends.

use indicatif::{ProgressBar, ProgressStyle};

use super::outcome::SeedOutcome;

pub struct Progress {
    bar: ProgressBar,
    failed: u64,
}

impl Progress {
    pub fn new(total: u64) -> Progress {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} seeds, {msg} failed, ETA {eta}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar.set_message("0");
        Progress { bar, failed: 0 }
    }

    pub fn done(&mut self, o: &SeedOutcome) {
        if !o.passed {
            self.failed += 1;
            self.bar.set_message(self.failed.to_string());
            let line = format!(
                "FAIL {} seed {}: {}\n     reproduce: {}",
                o.scenario,
                o.seed,
                o.failures.join("; "),
                o.reproduce
            );
            self.bar.suspend(|| eprintln!("{line}"));
        }
        self.bar.inc(1);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
