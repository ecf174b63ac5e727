//! Each seed runs in a child process of the same binary (the hidden `failover-sim
//! sweep-seed`), so a panic, a runaway or a leak in one seed cannot take the sweep down:
//! the child's exit, its JSON line on stdout and a wall-clock timeout decide the outcome.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::figures::Figures;
use super::outcome::SeedOutcome;
use super::stop::Stop;

/// What the child prints, as one JSON line on stdout.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChildReport {
    pub figures: Figures,
    pub failures: Vec<String>,
    pub peak_rss_kb: Option<u64>,
}

/// The child's side: run one seed in this process and print its [`ChildReport`]. Exits 0
/// whenever the report was printed (the failures are in it), 2 when the scenario does not
/// load; a panic exits 101, as Rust's runtime does.
///
/// With `exit_with_parent`, the child ends itself (status 3) when its standard input
/// closes, which happens when the sweep that started it is gone.
pub fn serve(path: &Path, seed: u64, exit_with_parent: bool) -> ExitCode {
    if exit_with_parent {
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            std::process::exit(3);
        });
    }
    let scenario = match scenario::load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = crate::run::run(&scenario, seed);
    let report = ChildReport {
        figures: Figures::of(&result),
        failures: result.failures(),
        peak_rss_kb: super::rss::self_peak_kb(),
    };
    println!(
        "{}",
        serde_json::to_string(&report).expect("the child report serializes")
    );
    ExitCode::SUCCESS
}

/// How long to sleep between checks on a running child: small next to a seed's seconds.
const POLL: Duration = Duration::from_millis(10);

/// Enough of the child's stderr to show why it died (the panic message is near the end).
const STDERR_TAIL: usize = 8 * 1024;

/// The parent's side: run `scenario` at `seed` in a child of `exe`, kill it after
/// `timeout`, and turn whatever happened into an outcome; `None` when `stop` was
/// requested first (the child is killed and reaped). Never panics on the child's behalf.
pub fn run_seed(
    exe: &Path,
    scenario: &str,
    seed: u64,
    timeout: Duration,
    stop: &Stop,
) -> Option<SeedOutcome> {
    let mut command = Command::new(exe);
    command
        .args(["sweep-seed", scenario, "--seed", &seed.to_string()])
        .arg("--exit-with-parent")
        // The child holds the read end; when the sweep dies, however it dies, the write
        // end closes and the child ends itself rather than run on as an orphan.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Out of the terminal's process group: Ctrl-C goes to the sweep alone, which
        // stops its children itself (see `super::stop`).
        command.process_group(0);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            let why = format!("cannot start {}: {e}", exe.display());
            return Some(SeedOutcome::new(scenario, seed, vec![why], None));
        }
    };
    let lifeline = child.stdin.take();
    // Drain both pipes on their own threads, or a chatty child blocks on a full pipe.
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    let stdout = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let stderr = thread::spawn(move || tail(&mut err));
    let status = wait(&mut child, timeout, stop);
    drop(lifeline);
    let stdout = String::from_utf8_lossy(&stdout.join().unwrap_or_default()).into_owned();
    let stderr = stderr.join().unwrap_or_default();
    let report = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str::<ChildReport>(l).ok());
    Some(match (status, report) {
        (Waited::Stopped, _) => return None,
        (Waited::Exited(0), Some(r)) => {
            let mut o = SeedOutcome::new(scenario, seed, r.failures, Some(r.figures));
            o.peak_rss_kb = r.peak_rss_kb;
            o
        }
        (Waited::TimedOut, _) => SeedOutcome::new(
            scenario,
            seed,
            vec![format!(
                "timed out after {} s of wall time (killed)",
                timeout.as_secs_f64()
            )],
            None,
        ),
        (Waited::Exited(code), _) => {
            SeedOutcome::new(scenario, seed, vec![died(code, &stderr)], None)
        }
        (Waited::Signalled, _) => SeedOutcome::new(
            scenario,
            seed,
            vec![format!("killed by a signal; {}", last_line(&stderr))],
            None,
        ),
        (Waited::Lost(e), _) => SeedOutcome::new(
            scenario,
            seed,
            vec![format!("lost track of the child process: {e}")],
            None,
        ),
    })
}

enum Waited {
    Exited(i32),
    Signalled,
    TimedOut,
    /// The sweep was asked to stop; the child was killed.
    Stopped,
    Lost(String),
}

fn wait(child: &mut Child, timeout: Duration, stop: &Stop) -> Waited {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return status
                    .code()
                    .map(Waited::Exited)
                    .unwrap_or(Waited::Signalled)
            }
            // By PID (`Child::kill`), then reaped, so no child outlives the sweep.
            Ok(None) if stop.requested().is_some() => {
                let _ = child.kill();
                let _ = child.wait();
                return Waited::Stopped;
            }
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Waited::TimedOut;
            }
            Ok(None) => thread::sleep(POLL),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Waited::Lost(e.to_string());
            }
        }
    }
}

/// Why a child that exited without a report failed: the panic message when there is one.
fn died(code: i32, stderr: &str) -> String {
    if let Some(i) = stderr.find("panicked at") {
        let msg: Vec<&str> = stderr[i..].lines().take(2).collect();
        return format!("panicked: {}", msg.join(" ").trim());
    }
    format!("exited with status {code}; {}", last_line(stderr))
}

fn last_line(stderr: &str) -> String {
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!("stderr: {}", l.trim()))
        .unwrap_or_else(|| "no output on stderr".into())
}

/// Reads a pipe to its end, keeping only the last [`STDERR_TAIL`] bytes.
fn tail(r: &mut impl Read) -> String {
    let mut keep: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
        keep.extend_from_slice(&buf[..n]);
        if keep.len() > 2 * STDERR_TAIL {
            keep.drain(..keep.len() - STDERR_TAIL);
        }
    }
    let start = keep.len().saturating_sub(STDERR_TAIL);
    String::from_utf8_lossy(&keep[start..]).into_owned()
}
