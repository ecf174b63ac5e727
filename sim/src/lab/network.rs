//! Network faults on top of turmoil's links, with the semantics of a real network:
//! a partition *holds* packets (TCP retransmits until the partition heals or a timeout
//! gives up), it never turns into an instant "connection refused" (which is what dropping
//! a SYN does in turmoil).
//!
//! Two-way holds use turmoil's `hold`/`release`. One-way partitions and packet loss hold
//! the link too, then deliver each held packet themselves every step: packets in the open
//! direction after the link's latency, lost packets after TCP's retransmission timeouts
//! (200 ms doubling for data, 1 s doubling for a SYN). Turmoil reorders by sequence
//! number, so a late segment blocks the ones behind it, as in TCP.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use turmoil::{Protocol, Segment};

type Pair = (IpAddr, IpAddr);

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

/// Identifies a packet across steps: its socket pair and its place in the stream.
type PacketKey = (SocketAddr, SocketAddr, u64);

fn packet_key(src: SocketAddr, dst: SocketAddr, protocol: &Protocol) -> Option<(PacketKey, bool)> {
    let (n, is_syn) = match protocol {
        Protocol::Tcp(Segment::Data(seq, _)) => (*seq, false),
        Protocol::Tcp(Segment::Fin(seq)) => (*seq | 1 << 62, false),
        Protocol::Tcp(Segment::Syn(_)) => (u64::MAX - 1, true),
        Protocol::Tcp(Segment::Rst) => (u64::MAX, false),
        _ => return None,
    };
    Some(((src, dst, n), is_syn))
}

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

    /// Makes turmoil hold a link exactly while some fault needs it held.
    fn sync(&mut self, sim: &turmoil::Sim, p: Pair) {
        let want = self.holds.contains_key(&p) || self.managed(p);
        if want && self.held.insert(p) {
            sim.hold(p.0, p.1);
        } else if !want && self.held.remove(&p) {
            sim.release(p.0, p.1);
            self.due.retain(|(s, d, _), _| pair(s.ip(), d.ip()) != p);
        }
    }

    /// Whether any link needs per-packet delivery this step.
    pub fn needs_step(&self) -> bool {
        !self.loss.is_empty() || !self.oneway.is_empty()
    }

    /// Delivers the held packets of one-way and lossy links that are due by `now`.
    pub fn step(&mut self, sim: &turmoil::Sim, now: Duration) {
        if !self.needs_step() {
            return;
        }
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
                    let (src, dst) = packet.pair();
                    if self.oneway.contains_key(&(src.ip(), dst.ip())) {
                        continue;
                    }
                    let Some((key, is_syn)) = packet_key(src, dst, packet.protocol()) else {
                        packet.deliver();
                        continue;
                    };
                    let rng = &mut self.rng;
                    let at = *self.due.entry(key).or_insert_with(|| {
                        let mut delay = latency;
                        let mut rto = if is_syn {
                            Duration::from_secs(1)
                        } else {
                            Duration::from_millis(200)
                        };
                        let mut tries = 0;
                        while tries < 6 && rate > 0.0 && rng.random::<f64>() < rate {
                            delay += rto;
                            rto *= 2;
                            tries += 1;
                        }
                        now + delay
                    });
                    if at <= now {
                        self.due.remove(&key);
                        packet.deliver();
                    }
                }
            }
        });
    }
}
