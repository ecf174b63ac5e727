//! The production [`Connector`]: plain tokio TCP, so `failoverd` reaches real redis
//! servers and haproxy runtime APIs through the same admin clients the lab drives.

use tokio::net::TcpStream;

use crate::effects::Connector;

/// Connects with `tokio::net::TcpStream`; `host` may be a DNS name or an IP address.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioConnector;

impl Connector for TokioConnector {
    type Stream = TcpStream;

    async fn connect(&self, host: &str, port: u16) -> std::io::Result<TcpStream> {
        let stream = TcpStream::connect((host, port)).await?;
        // Admin commands are small request/reply exchanges: Nagle would only add latency.
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}
