//! Network faults on top of turmoil's links, with the semantics of a real network:
//! a partition *holds* packets (TCP retransmits until the partition heals or a timeout
//! gives up), it never turns into an instant "connection refused" (which is what dropping
//! a SYN does in turmoil).
//!
//! A held link is held in turmoil. The flows (one direction of one connection) with held
//! segments are noted with when their oldest held segment was first seen; when the link
//! opens again (a partition heals), each flow's held segments are delivered at the first
//! retransmission TCP would send after the heal ([`super::retransmission`]), not at the
//! heal: turmoil repairs the link, so new segments flow at once, and its receivers reorder
//! by sequence number, so they wait behind the flow's held ones, as in TCP.
//!
//! One-way partitions and packet loss hold the link too, then deliver each held packet
//! themselves every step: packets in the open direction after the link's latency, lost
//! packets after their retransmissions.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use turmoil::{Protocol, Segment};

use super::retransmission::{self, Resent};

type Pair = (IpAddr, IpAddr);
/// One direction of one TCP connection: (sender, receiver).
type Flow = (SocketAddr, SocketAddr);

/// Why a link is held: a fault (healed later) or a dead machine (never).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    Fault(usize),
    Dead(String),
}

fn pair(a: IpAddr, b: IpAddr) -> Pair {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

fn pair_of(flow: &Flow) -> Pair {
    pair(flow.0.ip(), flow.1.ip())
}

/// Identifies a packet across steps: its socket pair and its place in the stream.
type PacketKey = (SocketAddr, SocketAddr, u64);

fn packet_key(
    src: SocketAddr,
    dst: SocketAddr,
    protocol: &Protocol,
) -> Option<(PacketKey, Resent)> {
    let (n, resent) = match protocol {
        Protocol::Tcp(Segment::Data(seq, _)) => (*seq, Resent::Data),
        Protocol::Tcp(Segment::Fin(seq)) => (*seq | 1 << 62, Resent::Data),
        Protocol::Tcp(Segment::Syn(_)) => (u64::MAX - 1, Resent::Syn),
        Protocol::Tcp(Segment::Rst) => (u64::MAX, Resent::Data),
        _ => return None,
    };
    Some(((src, dst, n), resent))
}

/// What a flow's oldest held segment is, or `None` for a packet that is not TCP (it is
/// not retransmitted: delivered when the link opens).
fn resent_of(protocol: &Protocol) -> Option<Resent> {
    match protocol {
        Protocol::Tcp(Segment::Syn(_)) => Some(Resent::Syn),
        Protocol::Tcp(_) => Some(Resent::Data),
        _ => None,
    }
}

/// A flow whose segments a partition holds.
#[derive(Debug, Clone, Copy)]
struct Stalled {
    /// When its oldest held segment was first seen held.
    since: Duration,
    what: Option<Resent>,
}

impl Stalled {
    /// When its held segments get through, if the flow opens at `open` (`None`: TCP gave
    /// up, they never do).
    fn due(&self, open: Duration, latency: Duration) -> Option<Duration> {
        match self.what {
            Some(what) => retransmission::first_after(what, self.since, open).map(|t| t + latency),
            None => Some(open + latency),
        }
    }
}

/// How far the flows of a two-way held link have been noted.
#[derive(Debug, Clone, Copy, Default)]
struct Look {
    /// Packets already noted (nothing leaves a held link, so new ones are behind these).
    seen: usize,
    at: Option<Duration>,
}

/// How often the flows of a two-way held link are noted: the precision of "first seen".
const LOOK_EVERY: Duration = Duration::from_millis(10);

pub struct Network {
    base_latency: Duration,
    /// Two-way holds, by what holds them.
    holds: BTreeMap<Pair, BTreeSet<Reason>>,
    /// One-way blocks (from, to), by fault.
    oneway: BTreeMap<(IpAddr, IpAddr), BTreeSet<usize>>,
    /// Lossy links: fault → rate.
    loss: BTreeMap<Pair, BTreeMap<usize, f64>>,
    /// Latency overrides (a latency fault), by fault.
    latency: BTreeMap<Pair, BTreeMap<usize, Duration>>,
    /// When each held packet of a managed link is due.
    due: BTreeMap<PacketKey, Duration>,
    /// Links turmoil currently holds for us.
    held: BTreeSet<Pair>,
    /// Flows with held segments on a blocked link or direction.
    stalled: BTreeMap<Flow, Stalled>,
    /// Two-way held links whose flows are noted (not those of dead machines: they never
    /// open again).
    looked: BTreeMap<Pair, Look>,
    /// Flows a link's opening released: their stall, and when their held segments are due.
    released: BTreeMap<Flow, (Stalled, Option<Duration>)>,
    /// Links turmoil has repaired that still carry held segments, and when the next is due.
    draining: BTreeMap<Pair, Duration>,
    rng: ChaCha8Rng,
}

impl Network {
    pub fn new(base_latency: Duration, seed: u64) -> Self {
        Self {
            base_latency,
            holds: BTreeMap::new(),
            oneway: BTreeMap::new(),
            loss: BTreeMap::new(),
            latency: BTreeMap::new(),
            due: BTreeMap::new(),
            held: BTreeSet::new(),
            stalled: BTreeMap::new(),
            looked: BTreeMap::new(),
            released: BTreeMap::new(),
            draining: BTreeMap::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    pub fn hold(&mut self, sim: &turmoil::Sim, a: IpAddr, b: IpAddr, reason: Reason) {
        self.holds.entry(pair(a, b)).or_default().insert(reason);
        self.sync(sim, pair(a, b));
    }

    pub fn block_oneway(&mut self, sim: &turmoil::Sim, from: IpAddr, to: IpAddr, fault: usize) {
        self.oneway.entry((from, to)).or_default().insert(fault);
        self.sync(sim, pair(from, to));
    }

    pub fn lossy(&mut self, sim: &turmoil::Sim, a: IpAddr, b: IpAddr, rate: f64, fault: usize) {
        self.loss.entry(pair(a, b)).or_default().insert(fault, rate);
        self.sync(sim, pair(a, b));
    }

    pub fn set_latency(
        &mut self,
        sim: &turmoil::Sim,
        a: IpAddr,
        b: IpAddr,
        latency: Duration,
        fault: usize,
    ) {
        self.latency
            .entry(pair(a, b))
            .or_default()
            .insert(fault, latency);
        sim.set_link_latency(a, b, self.link_latency(pair(a, b)));
    }

    /// Undoes everything `fault` did.
    pub fn heal(&mut self, sim: &turmoil::Sim, fault: usize) {
        let mut touched = BTreeSet::new();
        for (p, faults) in self.holds.iter_mut() {
            if faults.remove(&Reason::Fault(fault)) {
                touched.insert(*p);
            }
        }
        for ((from, to), faults) in self.oneway.iter_mut() {
            if faults.remove(&fault) {
                touched.insert(pair(*from, *to));
            }
        }
        for (p, faults) in self.loss.iter_mut() {
            if faults.remove(&fault).is_some() {
                touched.insert(*p);
            }
        }
        for (p, faults) in self.latency.iter_mut() {
            if faults.remove(&fault).is_some() {
                sim.set_link_latency(p.0, p.1, self.base_latency);
                touched.insert(*p);
            }
        }
        self.holds.retain(|_, f| !f.is_empty());
        self.oneway.retain(|_, f| !f.is_empty());
        self.loss.retain(|_, f| !f.is_empty());
        self.latency.retain(|_, f| !f.is_empty());
        for p in touched {
            if let Some(l) = self.latency.get(&p).and_then(|m| m.values().last()) {
                sim.set_link_latency(p.0, p.1, *l);
            }
            self.sync(sim, p);
        }
    }

    fn link_latency(&self, p: Pair) -> Duration {
        self.latency
            .get(&p)
            .and_then(|m| m.values().last().copied())
            .unwrap_or(self.base_latency)
    }

    fn managed(&self, p: Pair) -> bool {
        self.loss.contains_key(&p)
            || self.oneway.contains_key(&(p.0, p.1))
            || self.oneway.contains_key(&(p.1, p.0))
    }

    /// Makes turmoil hold a link exactly while some fault needs it held, and notes or
    /// releases its stalled flows as it closes and opens.
    fn sync(&mut self, sim: &turmoil::Sim, p: Pair) {
        let now = sim.elapsed();
        let want = self.holds.contains_key(&p) || self.managed(p);
        if want && self.held.insert(p) {
            sim.hold(p.0, p.1);
            self.draining.remove(&p);
            // Flows released and not yet delivered are stalled again, since when they were.
            let again: Vec<Flow> = self
                .released
                .keys()
                .filter(|f| pair_of(f) == p)
                .copied()
                .collect();
            for flow in again {
                if let Some((stalled, _)) = self.released.remove(&flow) {
                    self.stalled.entry(flow).or_insert(stalled);
                }
            }
        }
        let two_way = self.holds.get(&p);
        let dead = two_way.is_some_and(|r| r.iter().any(|r| matches!(r, Reason::Dead(_))));
        if two_way.is_some() && !dead && !self.looked.contains_key(&p) {
            self.looked.insert(p, Look::default());
            self.look(sim, now, Some(p));
        } else if (two_way.is_none() || dead) && self.looked.contains_key(&p) {
            // Note what arrived since the last look before the link opens.
            if !dead {
                self.look(sim, now, Some(p));
            }
            self.looked.remove(&p);
        }
        if !want && self.held.remove(&p) {
            sim.repair(p.0, p.1);
            self.release(p, now);
        }
    }

    /// The flows of `p` stalled so far are open from `now`: their held segments are due at
    /// their next retransmission.
    fn release(&mut self, p: Pair, now: Duration) {
        let latency = self.link_latency(p);
        let flows: Vec<Flow> = self
            .stalled
            .keys()
            .filter(|f| pair_of(f) == p)
            .copied()
            .collect();
        for flow in flows {
            if let Some(stalled) = self.stalled.remove(&flow) {
                self.released
                    .insert(flow, (stalled, stalled.due(now, latency)));
            }
        }
        self.schedule_drain(p);
    }

    /// When the next held segment of a repaired link is due; the link is no longer
    /// drained when none is.
    fn schedule_drain(&mut self, p: Pair) {
        let flows = self
            .released
            .iter()
            .filter(|(f, _)| pair_of(f) == p)
            .filter_map(|(_, (_, due))| *due);
        let packets = self
            .due
            .iter()
            .filter(|((s, d, _), _)| pair(s.ip(), d.ip()) == p)
            .map(|(_, at)| *at);
        match flows.chain(packets).min() {
            Some(next) => {
                self.draining.insert(p, next);
            }
            None => {
                self.draining.remove(&p);
                self.released.retain(|f, _| pair_of(f) != p);
            }
        }
    }

    /// Notes the flows of two-way held links (only `only`, or those due for a look).
    fn look(&mut self, sim: &turmoil::Sim, now: Duration, only: Option<Pair>) {
        let due: BTreeSet<Pair> = match only {
            Some(p) => BTreeSet::from([p]),
            None => self
                .looked
                .iter()
                .filter(|(_, l)| l.at.is_none_or(|at| at + LOOK_EVERY <= now))
                .map(|(p, _)| *p)
                .collect(),
        };
        if due.is_empty() {
            return;
        }
        sim.links(|links| {
            for link in links {
                let p = link.pair();
                if !due.contains(&p) {
                    continue;
                }
                let look = self.looked.entry(p).or_default();
                let mut count = 0;
                for packet in link {
                    count += 1;
                    if count <= look.seen {
                        continue;
                    }
                    let what = resent_of(packet.protocol());
                    self.stalled
                        .entry(packet.pair())
                        .or_insert(Stalled { since: now, what });
                }
                look.seen = count;
                look.at = Some(now);
            }
        });
    }

    /// Whether any link needs per-packet work this step.
    pub fn needs_step(&self) -> bool {
        !self.loss.is_empty()
            || !self.oneway.is_empty()
            || !self.draining.is_empty()
            || !self.looked.is_empty()
    }

    /// Notes stalled flows and delivers the held packets that are due by `now`.
    pub fn step(&mut self, sim: &turmoil::Sim, now: Duration) {
        if !self.needs_step() {
            return;
        }
        self.look(sim, now, None);
        self.drain(sim, now);
        if !self.loss.is_empty() || !self.oneway.is_empty() {
            self.step_managed(sim, now);
        }
    }

    /// Delivers the held segments of repaired links whose retransmission is due.
    fn drain(&mut self, sim: &turmoil::Sim, now: Duration) {
        let ready: BTreeSet<Pair> = self
            .draining
            .iter()
            .filter(|(_, next)| **next <= now)
            .map(|(p, _)| *p)
            .collect();
        if ready.is_empty() {
            return;
        }
        sim.links(|links| {
            for link in links {
                if !ready.contains(&link.pair()) {
                    continue;
                }
                for packet in link {
                    let (src, dst) = packet.pair();
                    let key = packet_key(src, dst, packet.protocol()).map(|(k, _)| k);
                    let packet_due = key.and_then(|k| self.due.get(&k).copied());
                    let flow_due = self.released.get(&(src, dst)).and_then(|(_, d)| *d);
                    match (packet_due, flow_due) {
                        (Some(at), _) if at <= now => {
                            if let Some(k) = key {
                                self.due.remove(&k);
                            }
                            packet.deliver();
                        }
                        (None, Some(at)) if at <= now => packet.deliver(),
                        _ => {}
                    }
                }
            }
        });
        self.released
            .retain(|f, (_, due)| !(ready.contains(&pair_of(f)) && due.is_some_and(|d| d <= now)));
        for p in ready {
            self.schedule_drain(p);
        }
    }

    /// Delivers the held packets of one-way and lossy links that are due by `now`.
    fn step_managed(&mut self, sim: &turmoil::Sim, now: Duration) {
        sim.links(|links| {
            for link in links {
                let p = link.pair();
                if self.holds.contains_key(&p) || !self.managed(p) {
                    continue;
                }
                let rate = self
                    .loss
                    .get(&p)
                    .map(|m| m.values().fold(0.0f64, |a, r| a.max(*r)))
                    .unwrap_or(0.0);
                let latency = self.link_latency(p);
                for packet in link {
                    let flow = packet.pair();
                    let (src, dst) = flow;
                    if self.oneway.contains_key(&(src.ip(), dst.ip())) {
                        let what = resent_of(packet.protocol());
                        self.stalled
                            .entry(flow)
                            .or_insert(Stalled { since: now, what });
                        continue;
                    }
                    // A flow whose direction just opened: its held segments wait for
                    // their retransmission.
                    if let Some(stalled) = self.stalled.remove(&flow) {
                        self.released
                            .insert(flow, (stalled, stalled.due(now, latency)));
                    }
                    let Some((key, what)) = packet_key(src, dst, packet.protocol()) else {
                        packet.deliver();
                        continue;
                    };
                    let floor = match self.released.get(&flow) {
                        Some((_, Some(due))) => *due,
                        // TCP gave up on this flow: its segments never arrive.
                        Some((_, None)) => continue,
                        None => Duration::ZERO,
                    };
                    let at = match self.due.get(&key) {
                        Some(at) => *at,
                        None => {
                            let mut losses = 0;
                            while losses < 6 && rate > 0.0 && self.rng.random::<f64>() < rate {
                                losses += 1;
                            }
                            let resent = match losses {
                                0 => Duration::ZERO,
                                n => retransmission::nth(what, n),
                            };
                            let at = (now + latency + resent).max(floor);
                            self.due.insert(key, at);
                            at
                        }
                    };
                    if at <= now {
                        self.due.remove(&key);
                        packet.deliver();
                    }
                }
            }
        });
        // Released flows of managed links are done once their due time passed.
        let managed: Vec<Pair> = self
            .released
            .keys()
            .map(pair_of)
            .filter(|p| self.managed(*p) && !self.holds.contains_key(p))
            .collect();
        self.released.retain(|f, (_, due)| {
            !(managed.contains(&pair_of(f)) && due.is_some_and(|d| d <= now))
        });
    }
}
