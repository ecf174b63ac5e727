//! The daemon's connector: TCP like `failover::connector::TokioConnector`, except that a
//! haproxy whose runtime API the configuration puts elsewhere (another `host:port`, or a
//! unix socket) is reached there.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use failover::effects::Connector;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};

use crate::config::Endpoint;

#[derive(Clone)]
pub struct DaemonConnector {
    api_port: u16,
    /// By the address the controller knows the proxy by.
    apis: Arc<BTreeMap<String, Endpoint>>,
}

impl DaemonConnector {
    pub fn new(api_port: u16, apis: BTreeMap<String, Endpoint>) -> Self {
        DaemonConnector {
            api_port,
            apis: Arc::new(apis),
        }
    }

    /// Where a connection to `host:port` goes.
    pub fn endpoint(&self, host: &str, port: u16) -> Endpoint {
        match self.apis.get(host) {
            Some(e) if port == self.api_port => e.clone(),
            _ => Endpoint::Tcp {
                host: host.into(),
                port,
            },
        }
    }
}

/// A TCP or unix stream.
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

pub async fn connect(endpoint: &Endpoint) -> io::Result<Stream> {
    match endpoint {
        Endpoint::Tcp { host, port } => {
            let s = TcpStream::connect((host.as_str(), *port)).await?;
            // Admin commands are small request/reply exchanges: Nagle only adds latency.
            s.set_nodelay(true)?;
            Ok(Stream::Tcp(s))
        }
        Endpoint::Unix(path) => Ok(Stream::Unix(UnixStream::connect(path).await?)),
    }
}

impl Connector for DaemonConnector {
    type Stream = Stream;

    async fn connect(&self, host: &str, port: u16) -> io::Result<Stream> {
        connect(&self.endpoint(host, port)).await
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
