//! The explorer's dice: every random choice of a generated scenario comes from one
//! ChaCha stream seeded by the seed alone, so a seed always draws the same scenario on any
//! machine (no OS randomness, no iteration over hashed maps).

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic source of choices.
pub struct Draw {
    rng: ChaCha8Rng,
}

impl Draw {
    /// The stream of `seed`. The lab derives its own randomness from the same seed with
    /// other derivations, so drawing the scenario does not shift the run's choices.
    pub fn new(seed: u64) -> Self {
        Draw {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x6578_706c_6f72_6521),
        }
    }

    /// A number in `lo..=hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            self.rng.random_range(lo..=hi)
        }
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// One of `items`, or `None` when there are none.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.range(0, items.len() as u64 - 1) as usize)
        }
    }

    /// `items` in a random order.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        items.shuffle(&mut self.rng);
    }
}
