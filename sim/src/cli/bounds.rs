//! The range of every numeric flag, and the parsers clap calls with the flag's text. An
//! out-of-range value is refused before any work starts, with the range in the message
//! (clap puts the flag and the value in front: `invalid value '0' for '--jobs <JOBS>'`),
//! so no flag can ask for a billion faults, a zero-length median or a timeout that
//! overflows. The `--help` text of each flag states the same range.

use scenario::SimDuration;

/// `--jobs`: worker threads (sweep) or seeds at once (explore); far above any machine's
/// cores, low enough that a typo cannot spawn thousands of threads.
pub const JOBS: (u64, u64) = (1, 256);
/// `sweep --timeout`, in seconds: 1 ms to a day.
pub const TIMEOUT_S: (f64, f64) = (0.001, 86_400.0);
/// `explore --max-faults`: faults per drawn schedule.
pub const MAX_FAULTS: (u64, u64) = (1, 100);
/// `explore --shrink-budget`: lab runs per finding (0: report the drawn case unshrunk).
pub const SHRINK_BUDGET: (u64, u64) = (0, 10_000);
/// `explore --duration`: the longest simulated run one seed may ask for.
pub const MAX_EXPLORE_DURATION: SimDuration = SimDuration::from_secs(3600);
/// `bench --minutes`: simulated minutes per sample.
pub const BENCH_MINUTES: (f64, f64) = (0.1, 60.0);
/// `bench --repeats`: samples of each (the median is reported, so at least one).
pub const BENCH_REPEATS: (u64, u64) = (1, 100);
/// `bench-sweep --seeds`: the throughput part, run twice.
pub const BENCH_SEEDS: (u64, u64) = (1, 10_000);
/// `bench-sweep --long-seeds`: the memory part; a sweep's own seed limit.
pub const BENCH_LONG_SEEDS: (u64, u64) = (2, crate::sweep::seeds::MAX_SEEDS);

fn whole(text: &str, (min, max): (u64, u64)) -> Result<u64, String> {
    let n: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("not a whole number; valid: {min} to {max}"))?;
    check_whole(n, (min, max))
}

fn real(text: &str, range: (f64, f64), unit: &str) -> Result<f64, String> {
    let x: f64 = text.trim().parse().map_err(|_| {
        format!(
            "not a number; valid: {unit} from {} to {}",
            range.0, range.1
        )
    })?;
    check_real(x, range, unit)
}

/// `x` if it is within `range` (never NaN), or the message saying the range.
pub fn check_real(x: f64, (min, max): (f64, f64), unit: &str) -> Result<f64, String> {
    if x.is_nan() {
        return Err(format!(
            "NaN is not a number; valid: {unit} from {min} to {max}"
        ));
    }
    if !(x >= min && x <= max) {
        return Err(format!(
            "{x} is out of range; valid: {unit} from {min} to {max}"
        ));
    }
    Ok(x)
}

/// `n` if it is within `range`, or the message saying the range.
pub fn check_whole(n: u64, (min, max): (u64, u64)) -> Result<u64, String> {
    if n < min || n > max {
        return Err(format!("{n} is out of range; valid: {min} to {max}"));
    }
    Ok(n)
}

pub fn jobs(text: &str) -> Result<usize, String> {
    whole(text, JOBS).map(|n| n as usize)
}

pub fn timeout(text: &str) -> Result<f64, String> {
    real(text, TIMEOUT_S, "seconds").map_err(|e| format!("{e} (24 h), e.g. 600 or 0.5"))
}

pub fn max_faults(text: &str) -> Result<usize, String> {
    whole(text, MAX_FAULTS).map(|n| n as usize)
}

pub fn shrink_budget(text: &str) -> Result<usize, String> {
    whole(text, SHRINK_BUDGET).map(|n| n as usize)
}

pub fn bench_minutes(text: &str) -> Result<f64, String> {
    real(text, BENCH_MINUTES, "simulated minutes")
}

pub fn bench_repeats(text: &str) -> Result<u32, String> {
    whole(text, BENCH_REPEATS).map(|n| n as u32)
}

pub fn bench_seeds(text: &str) -> Result<u64, String> {
    whole(text, BENCH_SEEDS)
}

pub fn bench_long_seeds(text: &str) -> Result<u64, String> {
    whole(text, BENCH_LONG_SEEDS)
}

/// `explore --duration`: a duration such as `3m`, at most [`MAX_EXPLORE_DURATION`].
pub fn explore_duration(text: &str) -> Result<SimDuration, String> {
    let d = SimDuration::parse(text).map_err(|e| format!("--duration: {e}"))?;
    if d == SimDuration::ZERO || d > MAX_EXPLORE_DURATION {
        return Err(format!(
            "--duration {d}: valid: longer than 0s and at most {MAX_EXPLORE_DURATION}, e.g. 3m"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_states_the_whole_range() {
        assert_eq!(jobs("4"), Ok(4));
        assert_eq!(jobs("0").unwrap_err(), "0 is out of range; valid: 1 to 256");
        assert_eq!(
            max_faults("1000000000").unwrap_err(),
            "1000000000 is out of range; valid: 1 to 100"
        );
        assert_eq!(
            max_faults("-1").unwrap_err(),
            "not a whole number; valid: 1 to 100"
        );
        assert_eq!(
            timeout("1e9").unwrap_err(),
            "1000000000 is out of range; valid: seconds from 0.001 to 86400 (24 h), e.g. 600 or 0.5"
        );
        assert_eq!(timeout("0.5"), Ok(0.5));
        for bad in ["0", "-1", "NaN", "inf", "-inf", "x", ""] {
            let e = bench_minutes(bad).unwrap_err();
            assert!(
                e.contains("valid: simulated minutes from 0.1 to 60"),
                "{bad}: {e}"
            );
        }
        assert_eq!(
            bench_repeats("0").unwrap_err(),
            "0 is out of range; valid: 1 to 100"
        );
        assert_eq!(
            bench_long_seeds("1").unwrap_err(),
            "1 is out of range; valid: 2 to 100000"
        );
        assert_eq!(shrink_budget("0"), Ok(0));
        assert!(explore_duration("2h").unwrap_err().contains("at most 1h"));
        assert!(explore_duration("0s").is_err());
        assert_eq!(explore_duration("3m"), Ok(SimDuration::from_secs(180)));
    }
}
