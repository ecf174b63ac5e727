//! The `--seeds` syntax: `A..=B`, `A..B`, a single `N`, or a comma list of those
//! (`1..=100,250,300..310`). The list is sorted, so shards and output do not depend on the
//! order the ranges were written in.

use std::fmt;

/// The most seeds one sweep (or exploration) may declare: 100,000, a day and more of
/// seeds even on many machines. More is almost certainly a typo (`1..=10000000000`), and
/// everything that lists seeds (sweep.json's results and missing, merge) stays within
/// tens of megabytes at this bound. `merge` holds sweep.json files to it too.
pub const MAX_SEEDS: u64 = 100_000;

/// The most (scenario, seed) runs one sweep, or one merge of shards, may hold.
pub const MAX_RUNS: u64 = 100_000;

/// What `--seeds` accepts, for error messages.
pub const VALID: &str =
    "valid: A..=B (inclusive), A..B (exclusive), a single N, or a comma list of these, e.g. 1..=1000 or 1,5,9..=12";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedsError {
    pub input: String,
    pub problem: String,
}

impl fmt::Display for SeedsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "--seeds {:?}: {}; {VALID}", self.input, self.problem)
    }
}

impl std::error::Error for SeedsError {}

/// Parses a seed list; every seed once, sorted ascending.
pub fn parse(input: &str) -> Result<Vec<u64>, SeedsError> {
    let err = |problem: String| SeedsError {
        input: input.to_string(),
        problem,
    };
    if input.trim().is_empty() {
        return Err(err("no seeds given".into()));
    }
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for part in input.split(',') {
        let part = part.trim();
        if part.is_empty() {
            return Err(err("an empty item in the comma list".into()));
        }
        ranges.push(parse_item(part).map_err(err)?);
    }
    let total = ranges
        .iter()
        .try_fold(0u64, |acc, (a, b)| {
            (b - a).checked_add(1).and_then(|n| acc.checked_add(n))
        })
        .filter(|n| *n <= MAX_SEEDS);
    if total.is_none() {
        return Err(err(format!(
            "more than {MAX_SEEDS} seeds (the most one sweep may declare)"
        )));
    }
    ranges.sort_unstable();
    for w in ranges.windows(2) {
        if w[1].0 <= w[0].1 {
            return Err(err(format!("seed {} is listed twice", w[1].0)));
        }
    }
    Ok(ranges.into_iter().flat_map(|(a, b)| a..=b).collect())
}

/// One item: an inclusive range `(first, last)`.
fn parse_item(item: &str) -> Result<(u64, u64), String> {
    let (a, b, inclusive) = if let Some((a, b)) = item.split_once("..=") {
        (a, Some(b), true)
    } else if let Some((a, b)) = item.split_once("..") {
        (a, Some(b), false)
    } else {
        (item, None, true)
    };
    let a = number(a)?;
    let Some(b) = b else {
        return Ok((a, a));
    };
    let b = number(b)?;
    if inclusive {
        if b < a {
            return Err(format!("{item:?} is empty (the end is below the start)"));
        }
        Ok((a, b))
    } else {
        if b <= a {
            return Err(format!(
                "{item:?} is empty (an exclusive end must be above the start)"
            ));
        }
        Ok((a, b - 1))
    }
}

fn number(s: &str) -> Result<u64, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("a range is missing a bound (open ranges like 5.. are not allowed)".into());
    }
    s.parse::<u64>().map_err(|_| {
        format!(
            "{s:?} is not a seed (a whole number from 0 to {})",
            u64::MAX
        )
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn forms() {
        assert_eq!(parse("1..=3").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse("1..3").unwrap(), vec![1, 2]);
        assert_eq!(parse("7").unwrap(), vec![7]);
        assert_eq!(parse(" 9..=10, 1 ,3..5").unwrap(), vec![1, 3, 4, 9, 10]);
        assert_eq!(parse("0..=0").unwrap(), vec![0]);
        let max = u64::MAX.to_string();
        assert_eq!(parse(&max).unwrap(), vec![u64::MAX]);
    }

    #[test]
    fn errors_name_the_flag_and_what_is_valid() {
        for bad in [
            "",
            "x",
            "1..",
            "..5",
            "5..=4",
            "5..5",
            "1,,2",
            "1..=3,2",
            "-1",
            "1..=99999999999",
            "18446744073709551616",
            "0..=18446744073709551615",
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("--seeds"), "{bad}: {e}");
            assert!(e.contains("valid: A..=B"), "{bad}: {e}");
        }
    }
}
