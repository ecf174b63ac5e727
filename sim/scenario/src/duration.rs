//! Durations as scenario files write them: `"500ms"`, `"5s"`, `"2m"`, `"1h"`, or parts of
//! those run together (`"1m30s"`).
//!
//! A [`SimDuration`] counts whole milliseconds: tokio's timers (and so the lab's clock) have
//! millisecond resolution, so a finer value could not be honoured and would only make two
//! files that behave the same compare unequal.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What every duration error tells the writer, so the fix is in the message.
pub const DURATION_HELP: &str = "write a number and a unit such as 500ms, 5s, 2m, 1h";

/// A span of simulated time, in whole milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(u64);

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms)
    }

    /// A duration of `s` seconds (saturating, so it cannot panic).
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s.saturating_mul(1000))
    }

    /// The number of milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The same span as a `std::time::Duration` (for turmoil and tokio).
    pub const fn to_std(self) -> Duration {
        Duration::from_millis(self.0)
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: SimDuration) -> Option<SimDuration> {
        self.0.checked_add(other.0).map(SimDuration)
    }

    /// `self - other`, or zero when `other` is larger.
    pub fn saturating_sub(self, other: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(other.0))
    }

    /// The longest duration a file may write: a day, well past the longest run
    /// (`duration` is at most 1h), so any field beyond it is a typo, never a setting.
    pub const MAX: SimDuration = SimDuration::from_secs(86_400);

    /// Parses the file form; the error text is what a person sees.
    pub fn parse(text: &str) -> Result<SimDuration, String> {
        let invalid = || format!("invalid duration {text:?}: {DURATION_HELP}");
        let mut rest = text;
        let mut total: u64 = 0;
        if rest.is_empty() {
            return Err(invalid());
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(invalid());
            }
            let (number, after) = rest.split_at(digits);
            let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
            let (unit, after) = after.split_at(unit_len);
            // Longest unit first is implicit: "ms" is matched as a whole word, never "m"+"s".
            let scale: u64 = match unit {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => return Err(invalid()),
            };
            let too_large = || format!("duration {text:?} is too large");
            let n: u64 = number.parse().map_err(|_| too_large())?;
            let part = n.checked_mul(scale).ok_or_else(too_large)?;
            total = total.checked_add(part).ok_or_else(too_large)?;
            rest = after;
        }
        if total > Self::MAX.0 {
            return Err(format!(
                "duration {text:?} is too long; valid: at most {} (no run lasts longer)",
                Self::MAX
            ));
        }
        Ok(SimDuration(total))
    }
}

impl fmt::Display for SimDuration {
    /// The largest unit that divides the value exactly, so the text parses back to the same
    /// value and reads the way a person would write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms == 0 {
            write!(f, "0s")
        } else if ms.is_multiple_of(3_600_000) {
            write!(f, "{}h", ms / 3_600_000)
        } else if ms.is_multiple_of(60_000) {
            write!(f, "{}m", ms / 60_000)
        } else if ms.is_multiple_of(1_000) {
            write!(f, "{}s", ms / 1_000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl Serialize for SimDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = SimDuration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a duration in quotes; {DURATION_HELP}")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<SimDuration, E> {
                SimDuration::parse(v).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(DurationVisitor)
    }
}
