//! A client of HAProxy's runtime API (the "stats socket" at level admin).
//!
//! In its non-interactive mode HAProxy reads one command line, writes the whole reply and
//! closes the connection, so a reply is everything read until EOF. The reply text is kept
//! exactly as received: callers decide what counts as success (a lone "\n" for most
//! commands, see `real-behaviour.md`).

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Sends one runtime-API command over a fresh connection and returns the raw reply.
pub async fn runtime_command<S>(mut stream: S, command: &str) -> std::io::Result<String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut line = command.trim_end_matches('\n').to_string();
    line.push('\n');
    stream.write_all(line.as_bytes()).await?;
    stream.flush().await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}
