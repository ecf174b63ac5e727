//! A fault-injecting HTTP front for moto, on loopback, in plain tokio: moto cannot answer
//! with a capacity or throttling error, so the front answers the requests of one armed
//! API action with EC2's error reply and forwards every other request to moto unchanged.
//! One request per connection (`Connection: close` both ways), which the SDK's client
//! honours, so the front need not track keep-alive.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// An error reply to give instead of forwarding.
#[derive(Clone)]
pub struct Fault {
    /// The Query API action it answers (`RunInstances`).
    pub action: &'static str,
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
}

pub const CAPACITY: Fault = Fault {
    action: "RunInstances",
    // EC2 sends its capacity errors as server errors.
    status: 500,
    code: "InsufficientInstanceCapacity",
    message: "We currently do not have sufficient r5.large capacity in the Availability Zone you requested (us-east-1a).",
};

pub const THROTTLED_TERMINATE: Fault = Fault {
    action: "TerminateInstances",
    status: 503,
    code: "RequestLimitExceeded",
    message: "Request limit exceeded.",
};

#[derive(Default)]
struct State {
    armed: Option<Fault>,
    /// Every request the front saw: its action and its ClientToken, if any, and whether
    /// it was answered with the fault.
    seen: Vec<Seen>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub action: String,
    pub client_token: Option<String>,
    pub faulted: bool,
}

pub struct FaultFront {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    accept: JoinHandle<()>,
}

impl FaultFront {
    pub async fn start(moto_endpoint: &str) -> FaultFront {
        let upstream = moto_endpoint
            .strip_prefix("http://")
            .expect("moto on http")
            .to_string();
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, upstream.clone(), shared.clone()));
            }
        });
        FaultFront {
            endpoint,
            state,
            accept,
        }
    }

    /// Answers every request of `fault.action` with the fault until disarmed.
    pub fn arm(&self, fault: Fault) {
        self.state.lock().unwrap().armed = Some(fault);
    }

    pub fn disarm(&self) {
        self.state.lock().unwrap().armed = None;
    }

    pub fn seen(&self, action: &str) -> Vec<Seen> {
        let state = self.state.lock().unwrap();
        state
            .seen
            .iter()
            .filter(|s| s.action == action)
            .cloned()
            .collect()
    }
}

impl Drop for FaultFront {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn serve(mut client: TcpStream, upstream: String, state: Arc<Mutex<State>>) {
    let Some((head, body)) = read_request(&mut client).await else {
        return;
    };
    let params = form(&body);
    let action = params
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone());
    let client_token = params
        .iter()
        .find(|(k, _)| k == "ClientToken")
        .map(|(_, v)| v.clone());
    let fault = {
        let mut state = state.lock().unwrap();
        let fault = state
            .armed
            .clone()
            .filter(|f| action.as_deref() == Some(f.action));
        state.seen.push(Seen {
            action: action.clone().unwrap_or_default(),
            client_token,
            faulted: fault.is_some(),
        });
        fault
    };
    let reply = match fault {
        Some(fault) => error_reply(&fault),
        None => forward(&upstream, &head, &body).await,
    };
    let _ = client.write_all(&reply).await;
    let _ = client.shutdown().await;
}

/// EC2's error document, as the Query protocol returns it.
fn error_reply(fault: &Fault) -> Vec<u8> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>fault-front-0001</RequestID></Response>",
        fault.code, fault.message
    );
    let reason = if fault.status == 500 {
        "Internal Server Error"
    } else {
        "Service Unavailable"
    };
    format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: text/xml;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        fault.status,
        body.len()
    )
    .into_bytes()
}

/// Sends the request to moto with `Connection: close`, reads the reply to its end and
/// marks it `Connection: close` too.
async fn forward(upstream: &str, head: &str, body: &[u8]) -> Vec<u8> {
    let mut moto = TcpStream::connect(upstream).await.expect("connect to moto");
    let mut request = without_connection_header(head);
    request.push_str("Connection: close\r\n\r\n");
    moto.write_all(request.as_bytes()).await.unwrap();
    moto.write_all(body).await.unwrap();
    let mut reply = Vec::new();
    moto.read_to_end(&mut reply).await.unwrap();
    let split = find(&reply, b"\r\n\r\n").expect("moto's reply has a head") + 4;
    let head = String::from_utf8_lossy(&reply[..split - 4]).to_string();
    let mut out = without_connection_header(&head);
    out.push_str("Connection: close\r\n\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(&reply[split..]);
    out
}

/// The head's lines, each ending in CRLF, without any `Connection` header.
fn without_connection_header(head: &str) -> String {
    head.split("\r\n")
        .filter(|line| !line.is_empty())
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .map(|line| format!("{line}\r\n"))
        .collect()
}

/// One request: its head (without the blank line) and its body, by Content-Length.
async fn read_request(client: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        let n = client.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        assert!(buf.len() < 1 << 20, "request head over 1 MiB");
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).expect("ASCII head");
    let lower = head.to_ascii_lowercase();
    assert!(
        !lower.contains("transfer-encoding: chunked"),
        "the front reads Content-Length bodies only: {head}"
    );
    let length: usize = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().expect("a Content-Length number"));
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = client.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((head, body))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `application/x-www-form-urlencoded` pairs (the Query protocol's body).
fn form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
