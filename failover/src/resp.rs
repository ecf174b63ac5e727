//! A small RESP2 client: send a command as an array of bulk strings, read one reply.
//!
//! Framing is `redis-protocol`'s; this file only adds buffering over an async stream, so the
//! same client talks to simulated redis (turmoil streams) and real redis (tokio streams).

use redis_protocol::resp2::{
    decode::decode,
    encode::encode,
    types::{OwnedFrame, Resp2Frame},
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// One reply from a redis server.
pub type Reply = OwnedFrame;

#[derive(Debug, thiserror::Error)]
pub enum RespError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server closed the connection")]
    Closed,
    #[error("the server sent bytes that are not RESP2: {0}")]
    Protocol(String),
}

/// A connection to one redis server.
pub struct RespConnection<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> RespConnection<S> {
    pub fn new(stream: S) -> Self {
        Self {
            stream,
            buf: Vec::with_capacity(512),
        }
    }

    /// Sends `args` as one command and waits for its reply.
    pub async fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Reply, RespError> {
        self.send(args).await?;
        self.read_reply().await
    }

    /// Sends one command without waiting for its reply (for pipelining).
    pub async fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<(), RespError> {
        let bytes = encode_command(args);
        self.stream.write_all(&bytes).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// Reads the next reply the server sends.
    pub async fn read_reply(&mut self) -> Result<Reply, RespError> {
        loop {
            if !self.buf.is_empty() {
                match decode(&self.buf) {
                    Ok(Some((frame, used))) => {
                        self.buf.drain(..used);
                        return Ok(frame);
                    }
                    Ok(None) => {}
                    Err(e) => return Err(RespError::Protocol(e.to_string())),
                }
            }
            self.buf.reserve(4096);
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err(RespError::Closed);
            }
        }
    }

    /// Gives the stream back, for example to close it explicitly.
    pub fn into_inner(self) -> S {
        self.stream
    }
}

/// Encodes a command the way redis-cli does: an array of bulk strings.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let frame = OwnedFrame::Array(
        args.iter()
            .map(|a| OwnedFrame::BulkString(a.as_ref().to_vec()))
            .collect(),
    );
    encode_frame(&frame)
}

/// Encodes one frame into bytes.
pub fn encode_frame(frame: &OwnedFrame) -> Vec<u8> {
    let mut out = vec![0u8; frame.encode_len(false)];
    let used = encode(&mut out, frame, false).expect("buffer sized by encode_len");
    out.truncate(used);
    out
}

/// Renders a reply the way `redis-cli` prints it, one line per element, so that
/// transcripts of simulated and real servers can be compared as text.
pub fn render(reply: &Reply) -> String {
    match reply {
        OwnedFrame::SimpleString(s) => String::from_utf8_lossy(s).into_owned(),
        OwnedFrame::Error(e) => format!("(error) {e}"),
        OwnedFrame::Integer(i) => format!("(integer) {i}"),
        OwnedFrame::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        OwnedFrame::Null => "(nil)".to_string(),
        OwnedFrame::Array(items) => items.iter().map(render).collect::<Vec<_>>().join("\n"),
    }
}
