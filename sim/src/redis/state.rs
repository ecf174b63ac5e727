//! The state of one redis server process: data, role, replication ids and offsets, the
//! backlog, connected replicas and normal clients. Shared by the process's tasks through
//! `Rc<RefCell<_>>` (a simulated host is single-threaded).

use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::sync::Notify;

use crate::disk::Disk;
use crate::signal::Signal;
use tokio::time::Instant;

use super::config::RedisConfig;
use super::keyspace::Keyspace;
use super::protocol::encode_args;

pub type Shared = Rc<std::cell::RefCell<Server>>;

/// Where a replica's link to its master stands (the states ROLE reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connect,
    Connecting,
    Handshake,
    Sync,
    Connected,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Sync => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// The replica side: which master, and how the link is doing.
#[derive(Debug, Clone)]
pub struct MasterLink {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// Last time anything arrived from the master.
    pub last_io: Option<Instant>,
    /// When the link went down; `None` before the first sync (INFO then says -1).
    pub down_since: Option<Instant>,
    /// Bumped on every REPLICAOF so that a link task for an older master stops.
    pub generation: u64,
}

/// The master side: one attached replica.
#[derive(Debug, Clone)]
pub struct ReplicaEntry {
    pub ip: String,
    pub listening_port: u16,
    pub state: &'static str,
    pub ack_offset: u64,
    pub last_ack: Instant,
}

/// The bytes of the replication stream kept for partial resyncs.
#[derive(Debug, Clone)]
pub struct Backlog {
    /// Replication offset of the first byte held.
    pub first_byte_offset: u64,
    pub bytes: VecDeque<u8>,
}

/// A normal client, as CLIENT KILL sees it.
pub struct ClientEntry {
    pub kill: Rc<Notify>,
}

pub struct Server {
    /// The machine this server runs on, for logs and the trace.
    pub machine: String,
    pub config: RedisConfig,
    pub data: Keyspace,
    pub master: Option<MasterLink>,
    pub replid: String,
    pub replid2: String,
    pub master_repl_offset: u64,
    pub second_repl_offset: i64,
    pub backlog: Option<Backlog>,
    /// The stream must start with SELECT before the next command (after a new backlog or
    /// a full sync), as real redis does; it counts in the offsets.
    pub need_select: bool,
    pub replicas: BTreeMap<u64, ReplicaEntry>,
    pub clients: BTreeMap<u64, ClientEntry>,
    pub next_id: u64,
    /// Start of the next diskless full sync that waiting replicas will share.
    pub pending_sync_at: Option<Instant>,
    pub link_generation: u64,
    /// A write was accepted since this server last became master (traced once per role
    /// epoch, which is what split-brain checking needs).
    pub wrote_as_master: bool,
    pub started: Instant,
    /// The machine's disk, where snapshots go.
    pub disk: Disk,
    /// Keys changed since the last snapshot (redis's `dirty`, for the save rules).
    pub dirty: u64,
    /// When the last snapshot was saved, or the server started (`unixtime` seconds).
    pub lastsave: u64,
    rng: ChaCha8Rng,
    /// Wakes the tasks that ship the stream to replicas.
    pub offset_tx: Signal<u64>,
    /// Wakes WAIT when replicas acknowledge.
    pub ack_tx: Signal<u64>,
    /// Wakes the replica link task when REPLICAOF changes the master.
    pub link_tx: Signal<u64>,
}

impl Server {
    pub fn new(config: RedisConfig, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let replid = random_replid(&mut rng);
        let master = config.replicaof.as_ref().map(|(host, port)| MasterLink {
            host: host.clone(),
            port: *port,
            state: LinkState::Connect,
            last_io: None,
            down_since: None,
            generation: 0,
        });
        Self {
            machine: String::new(),
            config,
            data: Keyspace::default(),
            master,
            replid,
            replid2: "0".repeat(40),
            master_repl_offset: 0,
            second_repl_offset: -1,
            backlog: None,
            need_select: true,
            replicas: BTreeMap::new(),
            clients: BTreeMap::new(),
            next_id: 1,
            pending_sync_at: None,
            link_generation: 0,
            wrote_as_master: false,
            started: Instant::now(),
            disk: Disk::default(),
            dirty: 0,
            lastsave: super::persistence::unixtime(),
            rng,
            offset_tx: Signal::new(0),
            ack_tx: Signal::new(0),
            link_tx: Signal::new(0),
        }
    }

    pub fn is_replica(&self) -> bool {
        self.master.is_some()
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn new_replid(&mut self) -> String {
        random_replid(&mut self.rng)
    }

    /// Creates the backlog if there is none (the first replica attaching does this).
    pub fn ensure_backlog(&mut self) {
        if self.backlog.is_none() {
            self.backlog = Some(Backlog {
                first_byte_offset: self.master_repl_offset + 1,
                bytes: VecDeque::new(),
            });
            self.need_select = true;
        }
    }

    /// Appends raw stream bytes to the backlog and advances the offset. Used by a master for
    /// the commands it propagates and by a replica for the stream it applies, so that a
    /// promoted replica can serve partial resyncs.
    pub fn append_stream(&mut self, bytes: &[u8]) {
        let Some(backlog) = self.backlog.as_mut() else {
            return;
        };
        backlog.bytes.extend(bytes.iter().copied());
        let excess = backlog.bytes.len().saturating_sub(self.config.backlog_size);
        if excess > 0 {
            backlog.bytes.drain(..excess);
            backlog.first_byte_offset += excess as u64;
        }
        self.master_repl_offset += bytes.len() as u64;
        self.offset_tx.set(self.master_repl_offset);
    }

    /// Propagates a write to the replication stream, as a master does.
    pub fn propagate(&mut self, args: &[Vec<u8>]) {
        // Real redis keeps no stream, and counts no offset, until a replica has attached.
        if self.backlog.is_none() && self.replicas.is_empty() {
            return;
        }
        if self.need_select {
            self.need_select = false;
            self.append_stream(&encode_args(&[b"SELECT".to_vec(), b"0".to_vec()]));
        }
        self.append_stream(&encode_args(args));
    }

    /// Stream bytes from `offset` (the first byte wanted) to the end, if still held.
    pub fn stream_from(&self, offset: u64) -> Option<Vec<u8>> {
        let backlog = self.backlog.as_ref()?;
        let end = self.master_repl_offset + 1;
        if offset < backlog.first_byte_offset || offset > end {
            return None;
        }
        let skip = (offset - backlog.first_byte_offset) as usize;
        Some(backlog.bytes.iter().skip(skip).copied().collect())
    }

    /// Whether a replica asking `PSYNC replid offset` can continue from our backlog.
    pub fn can_partial_resync(&self, replid: &str, offset: i64) -> bool {
        if offset < 1 || self.backlog.is_none() {
            return false;
        }
        let ok_id =
            replid == self.replid || (replid == self.replid2 && offset <= self.second_repl_offset);
        ok_id && self.stream_from(offset as u64).is_some()
    }

    /// REPLICAOF NO ONE: keep the data, start a new history, remember the old one so the
    /// other replicas can partially resync (PSYNC2).
    pub fn promote(&mut self) {
        self.master = None;
        self.wrote_as_master = false;
        self.link_generation += 1;
        self.link_tx.set(self.link_generation);
        self.shift_replid();
        self.ensure_backlog();
    }

    pub fn shift_replid(&mut self) {
        self.replid2 = std::mem::take(&mut self.replid);
        self.replid = self.new_replid();
        self.second_repl_offset = self.master_repl_offset as i64 + 1;
    }

    /// Replicas acknowledged with lag ≤ `min-replicas-max-lag`.
    pub fn good_replicas(&self, now: Instant) -> i64 {
        self.replicas
            .values()
            .filter(|r| {
                r.state == "online"
                    && now.saturating_duration_since(r.last_ack).as_secs() as i64
                        <= self.config.min_replicas_max_lag
            })
            .count() as i64
    }
}

fn random_replid(rng: &mut ChaCha8Rng) -> String {
    (0..40)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).expect("hex digit"))
        .collect()
}
