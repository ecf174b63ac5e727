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

#[cfg(test)]
mod tests {
    use super::*;
    use failover::admin::HaproxyAdmin;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A runtime API on a unix socket (haproxy's `stats socket /run/haproxy.sock`) is
    /// reached at the path the configuration gives for that proxy's address.
    #[tokio::test]
    async fn a_runtime_api_on_a_unix_socket_is_reached_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 256];
            let n = s.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"show stat\n");
            s.write_all(b"# pxname,svname,status\n\n").await.unwrap();
        });
        let apis = BTreeMap::from([("10.9.9.9".to_string(), Endpoint::Unix(path.clone()))]);
        let c = DaemonConnector::new(9999, apis);
        assert_eq!(c.endpoint("10.9.9.9", 9999), Endpoint::Unix(path));
        // Other ports of that address stay TCP.
        assert_eq!(
            c.endpoint("10.9.9.9", 9001),
            Endpoint::Tcp {
                host: "10.9.9.9".into(),
                port: 9001
            }
        );
        let admin = HaproxyAdmin::new(c, 9999, std::time::Duration::from_secs(2));
        admin
            .ping("10.9.9.9")
            .await
            .expect("the unix socket answered");
    }
}
