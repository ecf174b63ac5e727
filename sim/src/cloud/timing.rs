//! How long the simulated EC2 takes, from the published timings in
//! `real-behaviour.md`: API calls answer in 1–2 s; an instance is `running` 5–20 s after
//! the launch call; it is *reachable* (its services listen) 25 s plus an exponential tail
//! (mean 12 s) after the call, capped at 10 minutes. That puts the median near 33 s,
//! about one launch in twenty past 60 s, and leaves a tail of minutes.
//!
//! Every draw comes from the caller's seeded rng, so a seed fixes every delay.

use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The fastest and slowest answer to a launch or terminate call.
pub const API_LATENCY_MS: (u64, u64) = (1_000, 2_000);
/// When a launched instance turns `running`, after the call landed.
pub const RUNNING_AFTER_MS: (u64, u64) = (5_000, 20_000);
/// The least time from the call to a reachable machine (the OS and services boot).
pub const BOOT_FLOOR: Duration = Duration::from_secs(25);
/// The mean of the exponential tail added to [`BOOT_FLOOR`].
pub const BOOT_TAIL_MEAN_S: f64 = 12.0;
/// No boot takes longer than this (before any slow-boot fault's extra).
pub const BOOT_CAP: Duration = Duration::from_secs(600);
/// How long `shutting-down` lasts before `terminated`.
pub const SHUTDOWN_MS: (u64, u64) = (3_000, 8_000);
/// A describe call is a cheap read: a fixed latency, so it draws nothing from the rng and
/// polling does not shift the delays of later launches.
pub const DESCRIBE_LATENCY: Duration = Duration::from_millis(100);

/// A launch's timings, counted from the moment the call landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchTiming {
    pub running_after: Duration,
    pub boot_after: Duration,
}

/// How long one API call (launch, terminate) takes to answer.
pub fn api_latency(rng: &mut ChaCha8Rng) -> Duration {
    uniform_ms(rng, API_LATENCY_MS)
}

/// How long a terminated instance stays `shutting-down`.
pub fn shutdown(rng: &mut ChaCha8Rng) -> Duration {
    uniform_ms(rng, SHUTDOWN_MS)
}

/// Draws when a new instance runs and when it is reachable.
pub fn launch(rng: &mut ChaCha8Rng) -> LaunchTiming {
    let running_after = uniform_ms(rng, RUNNING_AFTER_MS);
    // Inverse-CDF exponential: `1 - u` is in (0, 1], so the logarithm is finite.
    let u: f64 = rng.random();
    let tail_s = -BOOT_TAIL_MEAN_S * (1.0 - u).ln();
    // Whole milliseconds, so the times print exactly and compare across platforms.
    let tail = Duration::from_millis((tail_s * 1000.0).round() as u64);
    let boot_after = (BOOT_FLOOR + tail).min(BOOT_CAP);
    LaunchTiming {
        running_after,
        // The floor (25 s) is above the slowest `running` (20 s), so reachable always
        // follows running; `max` keeps that true should the constants change.
        boot_after: boot_after.max(running_after),
    }
}

fn uniform_ms(rng: &mut ChaCha8Rng, (lo, hi): (u64, u64)) -> Duration {
    Duration::from_millis(rng.random_range(lo..=hi))
}
