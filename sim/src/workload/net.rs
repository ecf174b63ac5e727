//! What the clients need of the world they run in: its clock, TCP, and whether their
//! process is frozen. The lab gives turmoil's ([`TurmoilNet`]); the real-process world
//! gives tokio's, so both worlds run the same clients.

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::machine::ProcessCtx;

pub trait ClientNet: Clone + 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + 'static;
    /// Time since the start of the run.
    fn now(&self) -> Duration;
    fn connect(&self, ip: IpAddr, port: u16)
        -> impl Future<Output = std::io::Result<Self::Stream>>;
    /// Returns once the clients' process runs (at once unless it is paused).
    fn running(&self) -> impl Future<Output = ()>;
}

/// The lab's: simulated time, turmoil's TCP, the app process's supervisor.
#[derive(Clone)]
pub struct TurmoilNet {
    pub ctx: Option<ProcessCtx>,
}

impl ClientNet for TurmoilNet {
    type Stream = turmoil::net::TcpStream;

    fn now(&self) -> Duration {
        turmoil::sim_elapsed().unwrap_or_default()
    }

    async fn connect(&self, ip: IpAddr, port: u16) -> std::io::Result<Self::Stream> {
        turmoil::net::TcpStream::connect((ip, port)).await
    }

    async fn running(&self) {
        if let Some(ctx) = &self.ctx {
            ctx.running().await;
        }
    }
}
