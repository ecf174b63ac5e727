//! Reading commands off a connection the way redis does: RESP arrays of bulk strings
//! (what clients send) and inline commands (a plain text line, what haproxy's
//! `tcp-check send PING\r\n` sends).

use failover::resp::encode_frame;
use redis_protocol::resp2::{decode::decode, types::OwnedFrame};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Redis's limit for an inline command line without a newline (PROTO_INLINE_MAX_SIZE).
const INLINE_MAX: usize = 64 * 1024;

/// What reading the next command produced.
#[derive(Debug)]
pub enum Incoming {
    /// A command (empty inline lines are skipped, as redis does).
    Command(Vec<Vec<u8>>, usize),
    /// The peer closed the connection.
    Closed,
    /// The peer sent something redis would reject; the text is redis's error reply.
    ProtocolError(String),
}

/// A buffered reader of commands.
#[derive(Default)]
pub struct CommandReader {
    buf: Vec<u8>,
}

impl CommandReader {
    /// A reader that starts with bytes already received.
    pub fn with_buffered(buf: Vec<u8>) -> Self {
        Self { buf }
    }

    /// Bytes received but not parsed yet.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    pub fn take_buffered(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Reads the next command; the `usize` is how many bytes it took on the wire, which
    /// replicas count into their replication offset.
    pub async fn next<R: AsyncRead + Unpin>(&mut self, r: &mut R) -> std::io::Result<Incoming> {
        loop {
            if let Some(parsed) = self.parse()? {
                return Ok(parsed);
            }
            // Read straight into the buffer's spare room: no zeroed scratch buffer per read.
            self.buf.reserve(4096);
            if r.read_buf(&mut self.buf).await? == 0 {
                return Ok(Incoming::Closed);
            }
        }
    }

    /// Parses one command from the buffer if a whole one is there.
    pub fn parse(&mut self) -> std::io::Result<Option<Incoming>> {
        loop {
            if self.buf.is_empty() {
                return Ok(None);
            }
            if self.buf[0] == b'*' {
                return Ok(match decode(&self.buf) {
                    Ok(Some((frame, used))) => {
                        self.buf.drain(..used);
                        match into_args(frame) {
                            Some(args) if args.is_empty() => continue,
                            Some(args) => Some(Incoming::Command(args, used)),
                            None => Some(Incoming::ProtocolError(
                                "Protocol error: expected '$', got something else".into(),
                            )),
                        }
                    }
                    Ok(None) => None,
                    Err(_) => Some(Incoming::ProtocolError(
                        "Protocol error: invalid multibulk length".into(),
                    )),
                });
            }
            let Some(nl) = self.buf.iter().position(|&b| b == b'\n') else {
                if self.buf.len() > INLINE_MAX {
                    return Ok(Some(Incoming::ProtocolError(
                        "Protocol error: too big inline request".into(),
                    )));
                }
                return Ok(None);
            };
            let line: Vec<u8> = self.buf.drain(..=nl).collect();
            let used = line.len();
            let text = String::from_utf8_lossy(&line);
            match split_inline(text.trim_end_matches(['\r', '\n'])) {
                Some(args) if args.is_empty() => continue,
                Some(args) => return Ok(Some(Incoming::Command(args, used))),
                None => {
                    return Ok(Some(Incoming::ProtocolError(
                        "Protocol error: unbalanced quotes in request".into(),
                    )))
                }
            }
        }
    }
}

fn into_args(frame: OwnedFrame) -> Option<Vec<Vec<u8>>> {
    match frame {
        OwnedFrame::Array(items) => items
            .into_iter()
            .map(|item| match item {
                OwnedFrame::BulkString(b) | OwnedFrame::SimpleString(b) => Some(b),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Splits an inline command like redis's `sdssplitargs`: whitespace separated, with
/// double or single quotes grouping words. `None` for unbalanced quotes.
fn split_inline(line: &str) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return Some(args);
        };
        let mut word = String::new();
        if first == '"' || first == '\'' {
            chars.next();
            loop {
                match chars.next() {
                    None => return None,
                    Some(c) if c == first => break,
                    Some('\\') if first == '"' => word.push(chars.next()?),
                    Some(c) => word.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        args.push(word.into_bytes());
    }
}

/// Encodes a command as the replication stream carries it (a RESP array of bulk strings).
pub fn encode_args(args: &[Vec<u8>]) -> Vec<u8> {
    encode_frame(&OwnedFrame::Array(
        args.iter()
            .map(|a| OwnedFrame::BulkString(a.clone()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(bytes: &[u8]) -> Vec<Vec<String>> {
        let mut r = CommandReader::default();
        r.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(Incoming::Command(args, _)) = r.parse().unwrap() {
            out.push(
                args.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn reads_inline_and_resp_commands() {
        let cmds = parse_all(
            b"PING\r\ninfo replication\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n\r\nset \"a b\" 'c'\n",
        );
        assert_eq!(
            cmds,
            vec![
                vec!["PING"],
                vec!["info", "replication"],
                vec!["GET", "k"],
                vec!["set", "a b", "c"]
            ]
        );
    }

    #[test]
    fn partial_commands_wait_for_more_bytes() {
        assert!(parse_all(b"*2\r\n$3\r\nGET\r\n$1\r").is_empty());
        assert!(parse_all(b"PIN").is_empty());
    }
}
