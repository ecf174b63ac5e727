//! When Linux TCP sends a lost segment again, as measured on the kernel the real binaries
//! ran on (6.x, HZ 250, loopback, `ss -ti`): a segment a partition held gets through at the
//! first of its retransmissions sent after the partition heals, not at the heal.
//!
//! Data: a tail-loss probe about one RTO after the segment (PTO = 2 srtt + `tcp_rto_min`
//! with one segment in flight), then the RTO (`rto:204` on loopback: `tcp_rto_min` 200 ms
//! plus the smoothed RTT, in jiffies), doubling each time, capped at `TCP_RTO_MAX` (120 s),
//! `tcp_retries2` (15) times. A SYN: 1 s (`TCP_TIMEOUT_INIT`), doubling, `tcp_syn_retries`
//! (6) times. Every timer fires late by the kernel's timer wheel, which rounds its expiry up
//! to the granularity of the wheel level that holds it; the model takes the mean lateness,
//! half of that granularity (the real lateness depends on the phase of the jiffies clock).
//!
//! A 30 s two-way partition then delivers the replication stream 23.7 s after the heal;
//! measured on the real binaries: 24.0 s and 24.5 s.

use std::time::Duration;

/// What is sent again: a data (or FIN) segment, or a connection's SYN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Resent {
    Data,
    Syn,
}

const DATA_RTO: Duration = Duration::from_millis(204);
const SYN_RTO: Duration = Duration::from_secs(1);
const RTO_MAX: Duration = Duration::from_secs(120);
const DATA_RETRIES: u32 = 15;
const SYN_RETRIES: u32 = 6;
/// One jiffy at HZ 250.
const JIFFY: Duration = Duration::from_millis(4);

/// The mean lateness of a kernel timer of this length: levels of the timer wheel hold
/// 63 × 8^n jiffies each with a granularity of 8^n jiffies; the expiry is rounded up to it.
fn wheel_lateness(timer: Duration) -> Duration {
    let jiffies = timer.as_millis() as u64 / JIFFY.as_millis() as u64;
    let mut granularity = 1u64;
    let mut level_end = 63u64;
    while jiffies >= level_end && granularity < 1 << 24 {
        granularity *= 8;
        level_end *= 8;
    }
    JIFFY * granularity as u32 / 2
}

/// The times, counted from the segment's first transmission, at which it is sent again.
pub fn retransmissions(what: Resent) -> impl Iterator<Item = Duration> {
    let (first_rto, probe, retries) = match what {
        Resent::Data => (DATA_RTO, Some(DATA_RTO), DATA_RETRIES),
        Resent::Syn => (SYN_RTO, None, SYN_RETRIES),
    };
    let timers = probe
        .into_iter()
        .chain((0..retries).map(move |k| (first_rto * 2u32.pow(k.min(20))).min(RTO_MAX)));
    timers.scan(Duration::ZERO, |at, timer| {
        *at += timer + wheel_lateness(timer);
        Some(*at)
    })
}

/// When a segment first sent at `first`, and held until `open`, gets through: its first
/// retransmission at or after `open`. `None` when TCP gave up before (the connection
/// times out).
pub fn first_after(what: Resent, first: Duration, open: Duration) -> Option<Duration> {
    retransmissions(what)
        .map(|t| first + t)
        .find(|t| *t >= open)
}

/// When the `n`-th retransmission (from 1) goes, after the first transmission; the last
/// one if TCP would have given up before.
pub fn nth(what: Resent, n: u32) -> Duration {
    let mut last = Duration::ZERO;
    for (i, t) in retransmissions(what).enumerate() {
        last = t;
        if i as u32 + 1 >= n {
            break;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_fire_late_by_half_their_wheel_granularity() {
        assert_eq!(
            wheel_lateness(Duration::from_millis(204)),
            Duration::from_millis(2)
        );
        assert_eq!(
            wheel_lateness(Duration::from_millis(408)),
            Duration::from_millis(16)
        );
        assert_eq!(
            wheel_lateness(Duration::from_millis(3264)),
            Duration::from_millis(128)
        );
        assert_eq!(
            wheel_lateness(Duration::from_millis(26112)),
            Duration::from_millis(1024)
        );
    }

    #[test]
    fn a_thirty_second_partition_delivers_the_stream_about_24_s_after_the_heal() {
        let first = Duration::from_millis(50);
        let open = Duration::from_secs(30);
        let at = first_after(Resent::Data, first, open).expect("within tcp_retries2");
        let after_heal = at - open;
        assert!(
            after_heal > Duration::from_millis(23_000)
                && after_heal < Duration::from_millis(24_500),
            "{after_heal:?}"
        );
    }

    #[test]
    fn data_backs_off_to_the_cap_and_a_syn_gives_up_after_six_tries() {
        let data: Vec<Duration> = retransmissions(Resent::Data).collect();
        assert_eq!(data.len(), 16);
        let gaps: Vec<Duration> = data.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps
            .iter()
            .all(|g| *g <= RTO_MAX + Duration::from_millis(1024)));
        assert_eq!(retransmissions(Resent::Syn).count(), 6);
        assert_eq!(
            first_after(Resent::Syn, Duration::ZERO, Duration::from_secs(200)),
            None
        );
        assert_eq!(nth(Resent::Syn, 1), Duration::from_millis(1016));
        assert_eq!(nth(Resent::Syn, 99), nth(Resent::Syn, 6));
    }
}
