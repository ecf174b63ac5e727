//! The app's clients, as the lab's workload: 4 clients, 100 operations a second in all,
//! alternating the app's ports, a 1 s timeout per operation; each writes a value never
//! written before or reads one it wrote. Every operation goes in a `judge` history
//! (invoke, then ok / fail / unknown), timed in milliseconds since the world started.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use failover::resp::RespConnection;
use judge::history::{Entry, History, OpKind, Phase};
use judge::read_back::{written_keys, ReadBack};
use redis_protocol::resp2::types::OwnedFrame;
use tokio::net::TcpStream;

pub const CLIENTS: u32 = 4;
pub const RATE_PER_CLIENT: u64 = 25;
pub const TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Clients {
    pub history: History,
    pub start: Instant,
    pub stop: Rc<Cell<bool>>,
}

enum Outcome {
    Ok(Option<String>),
    Fail(String),
    Unknown(String),
}

async fn one(
    conn: &mut Option<RespConnection<TcpStream>>,
    app: Ipv4Addr,
    port: u16,
    args: &[String],
) -> Outcome {
    if conn.is_none() {
        match tokio::time::timeout(TIMEOUT, TcpStream::connect((app, port))).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                *conn = Some(RespConnection::new(s));
            }
            Ok(Err(e)) => return Outcome::Fail(format!("connect: {e}")),
            Err(_) => return Outcome::Fail("connect timeout".into()),
        }
    }
    let c = conn.as_mut().expect("connected");
    let reply = tokio::time::timeout(TIMEOUT, c.command(args)).await;
    match reply {
        Ok(Ok(OwnedFrame::SimpleString(s))) => {
            Outcome::Ok(Some(String::from_utf8_lossy(&s).into_owned()))
        }
        Ok(Ok(OwnedFrame::BulkString(s))) => {
            Outcome::Ok(Some(String::from_utf8_lossy(&s).into_owned()))
        }
        Ok(Ok(OwnedFrame::Null)) => Outcome::Ok(None),
        Ok(Ok(OwnedFrame::Error(e))) => {
            *conn = None;
            Outcome::Fail(e.to_string())
        }
        Ok(Ok(other)) => Outcome::Ok(Some(format!("{other:?}"))),
        Ok(Err(e)) => {
            *conn = None;
            Outcome::Unknown(e.to_string())
        }
        Err(_) => {
            *conn = None;
            Outcome::Unknown("timeout".into())
        }
    }
}

impl Clients {
    pub fn new(start: Instant) -> Clients {
        Clients {
            history: History::new(),
            start,
            stop: Rc::new(Cell::new(false)),
        }
    }

    fn at(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Starts the clients on the current LocalSet.
    pub fn spawn(&self, app: Ipv4Addr, ports: Vec<u16>) {
        for client in 0..CLIENTS {
            let me = self.clone();
            let port = ports[client as usize % ports.len()];
            tokio::task::spawn_local(async move { me.run(client, app, port).await });
        }
    }

    async fn run(self, client: u32, app: Ipv4Addr, port: u16) {
        let mut conn = None;
        let mut n = 0u64;
        let mut written: Vec<(String, String)> = Vec::new();
        let pace = Duration::from_millis(1000 / RATE_PER_CLIENT);
        let mut next = tokio::time::Instant::now();
        while !self.stop.get() {
            next += pace;
            n += 1;
            // 60 % writes, 40 % reads of a key this client wrote.
            let write = written.is_empty() || n % 5 < 3;
            let (f, key, value) = if write {
                (
                    OpKind::Write,
                    format!("k:{client}:{n}"),
                    Some(format!("v{client}-{n}")),
                )
            } else {
                let (k, _) = &written[(n as usize * 7) % written.len()];
                (OpKind::Read, k.clone(), None)
            };
            let op = self.history.next_op();
            let entry = |phase, value: Option<String>, error: Option<String>| Entry {
                at_ms: self.at(),
                client,
                op,
                phase,
                f,
                port,
                key: key.clone(),
                value,
                error,
            };
            self.history
                .record(entry(Phase::Invoke, value.clone(), None));
            let args: Vec<String> = match &value {
                Some(v) => vec!["SET".into(), key.clone(), v.clone()],
                None => vec!["GET".into(), key.clone()],
            };
            match one(&mut conn, app, port, &args).await {
                Outcome::Ok(v) => {
                    self.history
                        .record(entry(Phase::Ok, if write { None } else { v }, None));
                    if write {
                        written.push((key.clone(), value.clone().unwrap_or_default()));
                    }
                }
                Outcome::Fail(e) => self.history.record(entry(Phase::Fail, None, Some(e))),
                Outcome::Unknown(e) => self.history.record(entry(Phase::Unknown, None, Some(e))),
            }
            tokio::time::sleep_until(next).await;
            // Behind (after a timeout): start again from now rather than burst.
            if next < tokio::time::Instant::now() {
                next = tokio::time::Instant::now();
            }
        }
    }

    /// Reads back every key written through each port, through the app.
    pub async fn read_back(&self, app: Ipv4Addr, ports: &[u16]) -> BTreeMap<u16, ReadBack> {
        let mut out = BTreeMap::new();
        for port in ports {
            let mut conn = None;
            let mut keys = BTreeMap::new();
            for key in written_keys(&self.history, *port) {
                let v = match one(&mut conn, app, *port, &["GET".to_string(), key.clone()]).await {
                    Outcome::Ok(v) => Ok(v),
                    Outcome::Fail(e) | Outcome::Unknown(e) => Err(e),
                };
                keys.insert(key, v);
            }
            out.insert(
                *port,
                ReadBack {
                    port: *port,
                    keys,
                    counter: Ok(None),
                    list: Ok(Vec::new()),
                },
            );
        }
        out
    }

    /// Per port, when writes stopped and resumed after the fault at `fault_ms`: the first
    /// write that failed at or after it, and the first ok write after that. Ports where no
    /// write failed are left out (no outage there).
    pub fn write_outages(&self, fault_ms: u64) -> BTreeMap<u16, (u64, Option<u64>)> {
        let events = self.history.events();
        let ports: std::collections::BTreeSet<u16> = events.iter().map(|e| e.port).collect();
        let mut out = BTreeMap::new();
        for port in ports {
            let writes = || {
                events
                    .iter()
                    .filter(|e| e.f == OpKind::Write && e.port == port)
            };
            let Some(bad) = writes()
                .find(|e| e.at_ms >= fault_ms && matches!(e.phase, Phase::Fail | Phase::Unknown))
            else {
                continue;
            };
            let ok = writes()
                .find(|e| e.phase == Phase::Ok && e.at_ms > bad.at_ms)
                .map(|e| e.at_ms);
            out.insert(port, (bad.at_ms, ok));
        }
        out
    }
}
