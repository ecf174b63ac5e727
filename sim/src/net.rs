//! The lab's [`Connector`]: turmoil's simulated TCP, so the failover library's admin
//! clients run unchanged against the simulated redis servers and haproxys.

use failover::effects::Connector;
use turmoil::net::TcpStream;

/// Connects with `turmoil::net::TcpStream`. `host` is a turmoil host name ("redis1") or
/// an IP address string, as turmoil resolves both.
#[derive(Debug, Clone, Copy, Default)]
pub struct TurmoilConnector;

impl Connector for TurmoilConnector {
    type Stream = TcpStream;

    async fn connect(&self, host: &str, port: u16) -> std::io::Result<TcpStream> {
        TcpStream::connect((host, port)).await
    }
}
