//! Fidelity probes: one set of behaviour probes, each run against the models in turmoil
//! ([`sim_lab`]) and against real redis-server and haproxy on loopback ([`real_lab`]), so
//! that what each did can be compared line by line.
//!
//! A probe is an async function over a [`Lab`]; it records a [`Transcript`] of what it saw,
//! normalized so that what legitimately differs (addresses, ports, random replication ids,
//! exact byte offsets) does not, while what matters (roles, link states, reply texts,
//! field names and their order, and when things happened) must match.

pub mod probes;
pub mod real_lab;
pub mod sim_lab;
pub mod transcript;

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

pub use transcript::Transcript;

use crate::haproxy::HaproxyConfig;

/// A logical endpoint: a machine of the lab and a port on it, e.g. `("redis1", 9001)`.
pub type Endpoint = (&'static str, u16);

/// What a probe needs started before it runs.
#[derive(Clone, Default)]
pub struct Setup {
    /// Redis servers, each started empty as a master.
    pub redis: Vec<Endpoint>,
    /// Haproxy processes: the machine they run on and their configuration. Server
    /// addresses in the configuration name lab machines and ports.
    pub haproxy: Vec<(&'static str, HaproxyConfig)>,
}

/// A signal a probe sends to a process of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessSignal {
    /// SIGKILL: the process ends at once; its connections close.
    Kill,
    /// SIGTERM: the process ends cleanly (a redis saves its snapshot first, per its config).
    Term,
    /// SIGSTOP: frozen; the kernel still accepts connections for it.
    Stop,
    /// SIGCONT.
    Cont,
}

/// The world a probe runs in.
#[allow(async_fn_in_trait)]
pub trait Lab {
    type Stream: AsyncRead + AsyncWrite + Unpin;

    async fn connect(&self, endpoint: Endpoint) -> std::io::Result<Self::Stream>;
    /// Kills a redis server or an haproxy process (SIGKILL: its connections close).
    async fn kill(&self, endpoint: Endpoint) {
        self.signal(endpoint, ProcessSignal::Kill).await
    }
    /// Sends a signal to a redis server or an haproxy process (any port of an haproxy
    /// machine names its haproxy). Returns once it took effect.
    async fn signal(&self, endpoint: Endpoint, signal: ProcessSignal);
    /// Starts again a process that Kill or Term ended, on the same machine, with the same
    /// configuration and the same disk; returns once it listens (or after 5 s).
    async fn restart(&self, endpoint: Endpoint);
    /// Every packet to and from the machine is dropped from now on, as when it dies:
    /// its peers hear nothing, not even a reset.
    async fn silence(&self, machine: &'static str);
    async fn unsilence(&self, machine: &'static str);
    /// Drops every packet between two machines, both ways, until [`Lab::heal`].
    async fn cut(&self, a: &'static str, b: &'static str);
    async fn heal(&self, a: &'static str, b: &'static str);
    async fn sleep(&self, d: Duration);
    /// Time since the probe started.
    fn elapsed(&self) -> Duration;
    /// The host and port to give a server in REPLICAOF so that it reaches `endpoint`.
    fn address_of(&self, endpoint: Endpoint) -> (String, u16);
    /// The endpoint an address seen in a reply belongs to (for normalization).
    fn endpoint_named(&self, host: &str, port: u16) -> Option<Endpoint>;
}

/// A named probe.
pub struct Probe {
    pub name: &'static str,
    pub setup: fn() -> Setup,
    pub run: ProbeFn,
    /// The real side drops packets with nftables, which needs root; without it the real
    /// side is skipped, saying so.
    pub needs_root: bool,
}

/// Probes are written once, generic over the lab; these two instantiations are what the
/// runners call.
#[derive(Clone, Copy)]
pub struct ProbeFn {
    pub sim: for<'a> fn(
        &'a sim_lab::SimLab,
    )
        -> std::pin::Pin<Box<dyn std::future::Future<Output = Transcript> + 'a>>,
    pub real: for<'a> fn(
        &'a real_lab::RealLab,
    )
        -> std::pin::Pin<Box<dyn std::future::Future<Output = Transcript> + 'a>>,
}
