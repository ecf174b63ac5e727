//! One operation: which kind (drawn from the mix), the command it sends, and what its reply
//! means.

use failover::resp::{render, Reply};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use redis_protocol::resp2::types::OwnedFrame;

use super::config::Mix;
use judge::history::OpKind;

/// An operation about to be invoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub f: OpKind,
    pub key: String,
    /// What a write or rpush sends; `None` for read and incr.
    pub value: Option<String>,
}

impl Op {
    /// The command as redis-cli would send it.
    pub fn command(&self) -> Vec<String> {
        let verb = match self.f {
            OpKind::Write => "SET",
            OpKind::Read => "GET",
            OpKind::Incr => "INCR",
            OpKind::Rpush => "RPUSH",
        };
        let mut args = vec![verb.to_string(), self.key.clone()];
        args.extend(self.value.clone());
        args
    }
}

/// Draws an operation kind with the mix's odds. An all-zero mix means writes only, the one
/// kind every checker can use.
pub fn draw_kind(mix: &Mix, rng: &mut ChaCha8Rng) -> OpKind {
    let weights = [
        (OpKind::Write, mix.write),
        (OpKind::Read, mix.read),
        (OpKind::Incr, mix.incr),
        (OpKind::Rpush, mix.rpush),
    ];
    let total: u64 = weights.iter().map(|(_, w)| u64::from(*w)).sum();
    if total == 0 {
        return OpKind::Write;
    }
    let mut pick = rng.random_range(0..total);
    for (kind, weight) in weights {
        if pick < u64::from(weight) {
            return kind;
        }
        pick -= u64::from(weight);
    }
    OpKind::Write
}

/// How an operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged, with the value read or the counter for reads and incrs.
    Ok(Option<String>),
    /// Certainly not applied.
    Fail(String),
    /// Perhaps applied.
    Unknown(String),
}

/// What a reply says about an operation. Error replies are rejections (redis checks
/// READONLY, NOREPLICAS, OOM... before it executes anything); a reply of an unexpected shape
/// is `Unknown`, since we cannot tell what the server did.
pub fn interpret(f: OpKind, reply: &Reply) -> Outcome {
    match (f, reply) {
        (_, OwnedFrame::Error(e)) => Outcome::Fail(e.to_string()),
        (OpKind::Write, OwnedFrame::SimpleString(s)) if s.as_slice() == b"OK" => Outcome::Ok(None),
        (OpKind::Read, OwnedFrame::BulkString(b)) => {
            Outcome::Ok(Some(String::from_utf8_lossy(b).into_owned()))
        }
        (OpKind::Read, OwnedFrame::Null) => Outcome::Ok(None),
        (OpKind::Incr, OwnedFrame::Integer(i)) => Outcome::Ok(Some(i.to_string())),
        (OpKind::Rpush, OwnedFrame::Integer(_)) => Outcome::Ok(None),
        (_, other) => Outcome::Unknown(format!("unexpected reply: {}", render(other))),
    }
}
