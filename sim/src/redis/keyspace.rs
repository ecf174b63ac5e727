//! The data a redis server holds: strings and lists, ordered by key so that snapshots and
//! anything derived from them are deterministic.

use std::collections::{BTreeMap, VecDeque};

use redis_protocol::resp2::types::OwnedFrame;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(Vec<u8>),
    List(VecDeque<Vec<u8>>),
}

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keyspace {
    keys: BTreeMap<Vec<u8>, Value>,
}

impl Keyspace {
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn clear(&mut self) {
        self.keys.clear();
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<&Vec<u8>>, &'static str> {
        match self.keys.get(key) {
            None => Ok(None),
            Some(Value::Str(v)) => Ok(Some(v)),
            Some(Value::List(_)) => Err(WRONGTYPE),
        }
    }

    pub fn set(&mut self, key: &[u8], value: &[u8]) {
        self.keys.insert(key.to_vec(), Value::Str(value.to_vec()));
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        self.keys.contains_key(key)
    }

    pub fn del(&mut self, key: &[u8]) -> bool {
        self.keys.remove(key).is_some()
    }

    pub fn incr_by(&mut self, key: &[u8], by: i64) -> Result<i64, &'static str> {
        let current = match self.keys.get(key) {
            None => 0,
            Some(Value::Str(v)) => parse_i64(v).ok_or(NOT_INTEGER)?,
            Some(Value::List(_)) => return Err(WRONGTYPE),
        };
        let next = current
            .checked_add(by)
            .ok_or("ERR increment or decrement would overflow")?;
        self.keys
            .insert(key.to_vec(), Value::Str(next.to_string().into_bytes()));
        Ok(next)
    }

    pub fn rpush(&mut self, key: &[u8], values: &[Vec<u8>]) -> Result<usize, &'static str> {
        let entry = self
            .keys
            .entry(key.to_vec())
            .or_insert_with(|| Value::List(VecDeque::new()));
        match entry {
            Value::List(list) => {
                list.extend(values.iter().cloned());
                Ok(list.len())
            }
            Value::Str(_) => Err(WRONGTYPE),
        }
    }

    /// LRANGE with redis's index rules (negative counts from the end, out of range clamps).
    pub fn lrange(&self, key: &[u8], start: i64, stop: i64) -> Result<Vec<Vec<u8>>, &'static str> {
        let list = match self.keys.get(key) {
            None => return Ok(Vec::new()),
            Some(Value::List(list)) => list,
            Some(Value::Str(_)) => return Err(WRONGTYPE),
        };
        let len = list.len() as i64;
        let start = if start < 0 {
            (len + start).max(0)
        } else {
            start
        };
        let stop = if stop < 0 {
            len + stop
        } else {
            stop.min(len - 1)
        };
        if start > stop || start >= len {
            return Ok(Vec::new());
        }
        Ok(list
            .iter()
            .skip(start as usize)
            .take((stop - start + 1) as usize)
            .cloned()
            .collect())
    }

    /// The commands that rebuild this keyspace on an empty server: the snapshot a master
    /// ships to a replica during a full sync.
    pub fn to_commands(&self) -> Vec<Vec<Vec<u8>>> {
        self.keys
            .iter()
            .map(|(k, v)| match v {
                Value::Str(s) => vec![b"SET".to_vec(), k.clone(), s.clone()],
                Value::List(items) => {
                    let mut cmd = vec![b"RPUSH".to_vec(), k.clone()];
                    cmd.extend(items.iter().cloned());
                    cmd
                }
            })
            .collect()
    }

    /// Approximate serialized size in bytes, which sets how long a full sync transfer takes.
    pub fn snapshot_size(&self) -> usize {
        self.keys
            .iter()
            .map(|(k, v)| {
                k.len()
                    + match v {
                        Value::Str(s) => s.len() + 4,
                        Value::List(items) => items.iter().map(|i| i.len() + 2).sum::<usize>() + 4,
                    }
            })
            .sum::<usize>()
            + 64
    }

    /// Every key and value, for checkers that read a server's final state.
    pub fn dump(&self) -> &BTreeMap<Vec<u8>, Value> {
        &self.keys
    }
}

pub fn parse_i64(bytes: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(bytes).ok()?;
    // Redis rejects leading '+', spaces and leading zeros ("01").
    if s.is_empty()
        || s.starts_with('+')
        || (s.len() > 1 && s.starts_with('0'))
        || s.starts_with("-0")
    {
        return None;
    }
    s.parse().ok()
}

pub fn frame_list(items: Vec<Vec<u8>>) -> OwnedFrame {
    OwnedFrame::Array(items.into_iter().map(OwnedFrame::BulkString).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lrange_follows_redis_index_rules() {
        let mut ks = Keyspace::default();
        ks.rpush(b"l", &[b"a".to_vec(), b"b".to_vec(), b"c".to_vec()])
            .unwrap();
        let s = |v: Vec<Vec<u8>>| {
            v.into_iter()
                .map(|x| String::from_utf8(x).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(s(ks.lrange(b"l", 0, -1).unwrap()), ["a", "b", "c"]);
        assert_eq!(s(ks.lrange(b"l", -2, 10).unwrap()), ["b", "c"]);
        assert_eq!(s(ks.lrange(b"l", 2, 1).unwrap()), Vec::<String>::new());
        assert_eq!(s(ks.lrange(b"l", -100, 0).unwrap()), ["a"]);
    }

    #[test]
    fn incr_rejects_non_integers_and_wrong_types() {
        let mut ks = Keyspace::default();
        assert_eq!(ks.incr_by(b"n", 1), Ok(1));
        ks.set(b"s", b"01");
        assert_eq!(ks.incr_by(b"s", 1), Err(NOT_INTEGER));
        ks.rpush(b"l", &[b"x".to_vec()]).unwrap();
        assert_eq!(ks.incr_by(b"l", 1), Err(WRONGTYPE));
    }
}
