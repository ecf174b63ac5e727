//! The real world's clock and TCP: wall-clock time since the run started, and tokio
//! connections sent from a machine's own address, so that nftables rules on that address
//! catch them (a partition between the app and a proxy, or monit cut off from a master).

use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use failover::effects::Connector;
use tokio::net::{TcpSocket, TcpStream};

use crate::workload::ClientNet;

/// Connections from `source`, timed from `start`; `paused` freezes the clients.
#[derive(Clone)]
pub struct RealNet {
    pub start: Instant,
    pub source: Ipv4Addr,
    pub paused: Rc<Cell<bool>>,
}

async fn connect_from(source: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    let stream = socket.connect(to).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

impl ClientNet for RealNet {
    type Stream = TcpStream;

    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    async fn connect(&self, ip: IpAddr, port: u16) -> std::io::Result<TcpStream> {
        connect_from(self.source, SocketAddr::new(ip, port)).await
    }

    async fn running(&self) {
        while self.paused.get() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The controller's connector: tokio's, from monit's address.
#[derive(Clone, Copy)]
pub struct FromAddress(pub Ipv4Addr);

impl Connector for FromAddress {
    type Stream = TcpStream;

    async fn connect(&self, host: &str, port: u16) -> std::io::Result<TcpStream> {
        let ip: IpAddr = host.parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the real world's machines are addressed by IP, not {host:?}"),
            )
        })?;
        connect_from(self.0, SocketAddr::new(ip, port)).await
    }
}
