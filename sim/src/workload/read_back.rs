//! The final read-back over turmoil's network: after the run, what each port's data looks
//! like ([`ReadBack`], judged by the checkers that look for lost writes).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use failover::resp::{render, RespConnection};
use redis_protocol::resp2::types::OwnedFrame;

use super::net::{ClientNet, TurmoilNet};

pub use judge::read_back::{written_keys, ReadBack};

/// Reads every key, the counter and the list through `target:port`, one command at a time,
/// each within `timeout`; a failed command is recorded and the next one reconnects.
pub async fn read_back(target: IpAddr, port: u16, keys: &[String], timeout: Duration) -> ReadBack {
    read_back_from(target, port, port, keys, timeout).await
}

/// The same, read from a redis server directly (`target:server_port`) rather than through
/// the app's haproxy: `port` is the app port the keys were written through.
pub async fn read_back_from(
    target: IpAddr,
    server_port: u16,
    port: u16,
    keys: &[String],
    timeout: Duration,
) -> ReadBack {
    let net = TurmoilNet { ctx: None };
    read_back_with(&net, target, server_port, port, keys, timeout).await
}

/// The same over any world's network.
pub async fn read_back_with<N: ClientNet>(
    net: &N,
    target: IpAddr,
    server_port: u16,
    port: u16,
    keys: &[String],
    timeout: Duration,
) -> ReadBack {
    let mut reader = Reader {
        net: net.clone(),
        target,
        port: server_port,
        timeout,
        conn: None,
    };
    let mut found = BTreeMap::new();
    for key in keys {
        let value = reader.command(&["GET", key]).await.and_then(bulk);
        found.insert(key.clone(), value);
    }
    let counter = reader
        .command(&["GET", &format!("counter:{port}")])
        .await
        .and_then(bulk)
        .and_then(|v| match v {
            None => Ok(None),
            Some(s) => s
                .parse::<i64>()
                .map(Some)
                .map_err(|_| format!("counter is not an integer: {s}")),
        });
    let list = reader
        .command(&["LRANGE", &format!("list:{port}"), "0", "-1"])
        .await
        .and_then(|reply| match reply {
            OwnedFrame::Array(items) => items
                .into_iter()
                .map(|i| bulk(i)?.ok_or_else(|| "nil in list".to_string()))
                .collect(),
            other => Err(unexpected(&other)),
        });
    ReadBack {
        port,
        keys: found,
        counter,
        list,
    }
}

struct Reader<N: ClientNet> {
    net: N,
    target: IpAddr,
    port: u16,
    timeout: Duration,
    conn: Option<RespConnection<N::Stream>>,
}

impl<N: ClientNet> Reader<N> {
    async fn command(&mut self, args: &[&str]) -> Result<OwnedFrame, String> {
        let result = tokio::time::timeout(self.timeout, self.exchange(args))
            .await
            .unwrap_or_else(|_| Err("timeout".to_string()));
        if result.is_err() {
            self.conn = None;
        }
        match result {
            Ok(OwnedFrame::Error(e)) => Err(e.to_string()),
            other => other,
        }
    }

    async fn exchange(&mut self, args: &[&str]) -> Result<OwnedFrame, String> {
        let conn = match &mut self.conn {
            Some(c) => c,
            None => {
                let stream = self
                    .net
                    .connect(self.target, self.port)
                    .await
                    .map_err(|e| format!("connect failed: {e}"))?;
                self.conn.insert(RespConnection::new(stream))
            }
        };
        conn.command(args).await.map_err(|e| e.to_string())
    }
}

fn bulk(reply: OwnedFrame) -> Result<Option<String>, String> {
    match reply {
        OwnedFrame::BulkString(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
        OwnedFrame::Null => Ok(None),
        other => Err(unexpected(&other)),
    }
}

fn unexpected(reply: &OwnedFrame) -> String {
    format!("unexpected reply: {}", render(reply))
}
