//! `--shard K/N`: N CI machines split one sweep so that together they run every seed
//! exactly once. Seed index `i` (in the sorted seed list) goes to shard `(i mod N) + 1`;
//! round-robin rather than contiguous blocks, so slow and fast seeds spread evenly.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based: this machine's share.
    pub index: u64,
    /// How many shards the sweep is split into.
    pub count: u64,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Parses `K/N` with `1 <= K <= N`.
    pub fn parse(input: &str) -> Result<Shard, String> {
        let bad = |problem: &str| {
            format!(
                "--shard {input:?}: {problem}; valid: K/N with whole numbers 1 <= K <= N, e.g. 2/3"
            )
        };
        let (k, n) = input
            .split_once('/')
            .ok_or_else(|| bad("missing the '/' between K and N"))?;
        let k: u64 = k
            .trim()
            .parse()
            .map_err(|_| bad("K is not a whole number"))?;
        let n: u64 = n
            .trim()
            .parse()
            .map_err(|_| bad("N is not a whole number"))?;
        if n == 0 {
            return Err(bad("N must be at least 1"));
        }
        if k == 0 || k > n {
            return Err(bad(&format!("K must be between 1 and {n}")));
        }
        Ok(Shard { index: k, count: n })
    }

    /// This shard's seeds, in order.
    pub fn select(&self, seeds: &[u64]) -> Vec<u64> {
        seeds
            .iter()
            .enumerate()
            .filter(|(i, _)| (*i as u64) % self.count + 1 == self.index)
            .map(|(_, s)| *s)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_cover_every_seed_once() {
        let seeds: Vec<u64> = (1..=10).collect();
        let mut all: Vec<u64> = (1..=3)
            .flat_map(|k| Shard { index: k, count: 3 }.select(&seeds))
            .collect();
        all.sort_unstable();
        assert_eq!(all, seeds);
    }

    #[test]
    fn bad_shards_are_errors() {
        for bad in ["0/3", "4/3", "1/0", "1", "a/3", "1/b", ""] {
            let e = Shard::parse(bad).unwrap_err();
            assert!(e.starts_with("--shard") && e.contains("1 <= K <= N"), "{e}");
        }
        assert_eq!(Shard::parse("3/3").unwrap(), Shard { index: 3, count: 3 });
    }
}
