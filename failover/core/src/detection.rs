//! monit's way of running a detection cycle: its tests one after another, each waiting for
//! the previous answer or its timeout ([`PollOrder::OneAfterAnother`]). A cycle with a
//! silent machine therefore lasts longer by that machine's timeouts, and the next cycle
//! starts an interval after the last answer, as monit sleeps `set daemon` seconds between
//! cycles: 3 cycles at Debian's 120 s take over 6 minutes.
//!
//! [`PollOrder::OneAfterAnother`]: crate::config::PollOrder::OneAfterAnother

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::controller::Action;

/// How long after a poll's own timeout the controller stops waiting for its answer. The
/// shell answers every poll within its timeout; the grace covers an answer lost on the
/// way (a restarted shell), so a cycle can never stall.
pub const ANSWER_GRACE_MS: u64 = 1_000;

/// A cycle under way: the polls still to send, and the one awaiting its answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequentialCycle {
    pending: VecDeque<Action>,
    /// The poll sent, and when the controller gives up waiting for its answer.
    awaiting: Option<(Action, u64)>,
}

impl SequentialCycle {
    /// Whether a cycle is under way (a poll awaits its answer).
    pub fn is_running(&self) -> bool {
        self.awaiting.is_some()
    }

    /// When the awaited answer is given up on, if one is awaited.
    pub fn deadline(&self) -> Option<u64> {
        self.awaiting.as_ref().map(|(_, at)| *at)
    }

    /// Starts a cycle of `polls`, in order; send them with [`SequentialCycle::next`].
    pub fn start(&mut self, polls: Vec<Action>) {
        self.pending = polls.into();
        self.awaiting = None;
    }

    /// The next poll to send, now awaited until `give_up_ms`; `None` when the cycle is over.
    pub fn next(&mut self, give_up_ms: u64) -> Option<Action> {
        self.awaiting = self.pending.pop_front().map(|a| (a, give_up_ms));
        self.awaiting.as_ref().map(|(a, _)| a.clone())
    }

    /// Whether an answer from `machine` (on `port`, for a redis poll) is the awaited one.
    /// Any other answer is late (its poll was given up on) and does not count.
    pub fn is_awaited(&self, machine: &str, port: Option<u16>) -> bool {
        self.awaited()
            .is_some_and(|(m, p)| m == machine && p == port)
    }

    /// The machine whose poll is awaited, and the port for a redis poll.
    pub fn awaited(&self) -> Option<(String, Option<u16>)> {
        match &self.awaiting {
            Some((Action::PollRedis { machine, port, .. }, _)) => {
                Some((machine.clone(), Some(*port)))
            }
            Some((Action::PollHaproxy { machine, .. }, _)) => Some((machine.clone(), None)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redis(machine: &str, port: u16) -> Action {
        Action::PollRedis {
            machine: machine.into(),
            addr: format!("addr-{machine}"),
            port,
        }
    }

    #[test]
    fn sends_one_poll_at_a_time_and_knows_which_answer_it_awaits() {
        let mut c = SequentialCycle::default();
        assert!(!c.is_running());
        c.start(vec![redis("redis1", 9001), redis("redis1", 9002)]);
        assert_eq!(c.next(100), Some(redis("redis1", 9001)));
        assert!(c.is_awaited("redis1", Some(9001)));
        assert!(!c.is_awaited("redis1", Some(9002)), "not sent yet");
        assert!(
            !c.is_awaited("redis1", None),
            "a proxy answer is not a redis one"
        );
        assert_eq!(c.deadline(), Some(100));
        assert_eq!(c.next(200), Some(redis("redis1", 9002)));
        assert_eq!(c.awaited(), Some(("redis1".into(), Some(9002))));
        assert_eq!(c.next(300), None);
        assert!(!c.is_running());
        assert_eq!(c.deadline(), None);
    }
}
