//! The running proxy's shared state: servers, their health counters, admin states and
//! established sessions, and the transitions between UP and DOWN.
//!
//! The health counter follows haproxy 2.6 (`check.c`): it runs from 0 to `rise + fall - 1`;
//! a server is UP while it is at least `rise`. A server starts (and leaves maintenance) at
//! exactly `rise`, so one failed check takes it DOWN at once; once fully up it takes `fall`
//! failures. Hosts are single-threaded, so the state lives in an `Rc<RefCell<_>>`.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::Notify;

use super::config::{HaproxyConfig, Server, TcpCheckRule};

use crate::trace::{record, Event, ServerStatus};

pub(crate) type Shared = Rc<RefCell<State>>;

/// The simulated clock (turmoil's), zero outside a simulation.
pub(crate) fn now() -> Duration {
    turmoil::sim_elapsed().unwrap_or_default()
}

/// haproxy's `HCHK_STATUS_*`, with their numeric codes (`show servers state`) and names
/// (`show stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Ini,
    L4Ok,
    L4Tout,
    L4Con,
    L7Tout,
    L7Rsp,
    L7Ok,
}

impl CheckStatus {
    pub fn code(self) -> u32 {
        match self {
            CheckStatus::Ini => 1,
            CheckStatus::L4Ok => 6,
            CheckStatus::L4Tout => 7,
            CheckStatus::L4Con => 8,
            CheckStatus::L7Tout => 12,
            CheckStatus::L7Rsp => 13,
            CheckStatus::L7Ok => 15,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            CheckStatus::Ini => "INI",
            CheckStatus::L4Ok => "L4OK",
            CheckStatus::L4Tout => "L4TOUT",
            CheckStatus::L4Con => "L4CON",
            CheckStatus::L7Tout => "L7TOUT",
            CheckStatus::L7Rsp => "L7RSP",
            CheckStatus::L7Ok => "L7OK",
        }
    }
    /// haproxy's `check_desc` text for the status.
    pub fn desc(self) -> &'static str {
        match self {
            CheckStatus::Ini => "Initializing",
            CheckStatus::L4Ok => "Layer4 check passed",
            CheckStatus::L4Tout => "Layer4 timeout",
            CheckStatus::L4Con => "Layer4 connection problem",
            CheckStatus::L7Tout => "Layer7 timeout",
            CheckStatus::L7Rsp => "Layer7 invalid response",
            CheckStatus::L7Ok => "Layer7 check passed",
        }
    }
    pub fn passed(self) -> bool {
        matches!(self, CheckStatus::L4Ok | CheckStatus::L7Ok)
    }
}

/// A server as the running proxy sees it.
#[derive(Debug)]
pub struct ServerState {
    /// Unique for the process's life, so a deleted server's tasks notice it is gone.
    pub uid: u64,
    pub id: u32,
    pub name: String,
    pub addr: IpAddr,
    pub port: u16,
    pub inter: Duration,
    pub fastinter: Option<Duration>,
    pub downinter: Option<Duration>,
    pub fall: u32,
    pub rise: u32,
    pub backup: bool,
    pub shutdown_on_down: bool,
    pub shutdown_backups_on_up: bool,
    /// `check` was configured (`CHK_ST_CONFIGURED`).
    pub check_configured: bool,
    /// Checks are enabled (`CHK_ST_ENABLED`, `enable/disable health`).
    pub check_enabled: bool,
    pub health: u32,
    /// Operational state: running (UP) or stopped (DOWN).
    pub running: bool,
    pub maint: bool,
    pub drain: bool,
    pub check_status: CheckStatus,
    pub check_passed: Option<bool>,
    /// A check is under way: `show stat` then prefixes the last status with "* ".
    pub check_running: bool,
    pub last_change: Duration,
    pub chkfail: u64,
    pub chkdown: u64,
    pub stot: u64,
    /// The sessions attached to the server, from the moment it was picked for them
    /// (connecting, retrying) until they end; `del server` refuses while any is.
    pub sessions: BTreeMap<u64, Rc<SessionCtl>>,
}

/// What the proxy's state holds of one session, to shut it down.
#[derive(Debug, Default)]
pub struct SessionCtl {
    /// Woken to shut the session (`shutdown-sessions`, `shutdown sessions server`).
    pub shut: Notify,
    /// The request side is shut or about to be (haproxy's `CF_SHUTW|CF_SHUTW_NOW`): the
    /// client closed, or a shutdown was already asked. haproxy's `stream_shutdown`
    /// leaves such a session alone, so a half-closed session stays attached.
    pub req_shut: Cell<bool>,
}

impl ServerState {
    /// Takes new connections: UP and neither in maintenance nor draining.
    pub fn usable(&self) -> bool {
        self.running && !self.maint && !self.drain
    }
    pub fn checks_active(&self) -> bool {
        self.check_configured && self.check_enabled && !self.maint
    }
    fn full_health(&self) -> u32 {
        self.rise + self.fall - 1
    }
    /// `srv_getinter()`: `inter` when fully up, `downinter` when fully down, else
    /// `fastinter`; each falls back to `inter`.
    pub fn interval(&self) -> Duration {
        if self.health == self.full_health() {
            self.inter
        } else if !self.running && self.health == 0 {
            self.downinter.unwrap_or(self.inter)
        } else {
            self.fastinter.unwrap_or(self.inter)
        }
    }
    /// The `status` column of `show stat`.
    pub fn status_text(&self) -> String {
        if self.maint {
            return "MAINT".into();
        }
        // Draining shows the same transition counter as UP (real 2.6: "DRAIN 1/3").
        if self.drain && self.running {
            return if !self.checks_active() || self.health == self.full_health() {
                "DRAIN".into()
            } else {
                format!("DRAIN {}/{}", self.health + 1 - self.rise, self.fall)
            };
        }
        if !self.checks_active() {
            return if self.running {
                "no check".into()
            } else {
                "DOWN".into()
            };
        }
        if self.running {
            if self.health == self.full_health() {
                "UP".into()
            } else {
                format!("UP {}/{}", self.health + 1 - self.rise, self.fall)
            }
        } else if self.health == 0 {
            "DOWN".into()
        } else {
            format!("DOWN {}/{}", self.health, self.rise)
        }
    }
}

#[derive(Debug)]
pub struct BackendState {
    pub id: u32,
    pub name: String,
    pub rules: Vec<TcpCheckRule>,
    pub allbackups: bool,
    pub servers: Vec<ServerState>,
    /// Round robin among the usable active servers: the position to try first.
    pub rr_next: usize,
}

/// Everything the proxy's tasks share.
#[derive(Debug)]
pub struct State {
    pub config: HaproxyConfig,
    pub backends: Vec<BackendState>,
    /// `(frontend name, proxy id)` in config order.
    pub frontends: Vec<(String, u32)>,
    next_uid: u64,
    next_session: u64,
}

/// Why a server changed state, for the log.
pub(crate) enum Cause<'a> {
    Check(CheckStatus),
    Admin(&'a str),
}

impl State {
    /// Builds the state; `resolve` turns a configured host into an address (haproxy
    /// resolves names once, at startup).
    pub fn new(config: HaproxyConfig, resolve: &dyn Fn(&str) -> IpAddr) -> State {
        // Proxy ids follow config order from 2, as haproxy 2.6 numbers them (observed).
        let mut next_id = 2;
        let mut frontends = Vec::new();
        for f in &config.frontends {
            frontends.push((f.name.clone(), next_id));
            next_id += 1;
        }
        let mut state = State {
            backends: Vec::new(),
            frontends,
            config: config.clone(),
            next_uid: 1,
            next_session: 1,
        };
        for b in &config.backends {
            let mut servers = Vec::new();
            for (i, s) in b.servers.iter().enumerate() {
                let uid = state.take_uid();
                servers.push(new_server(uid, i as u32 + 1, s, resolve(&s.host), false));
            }
            state.backends.push(BackendState {
                id: next_id,
                name: b.name.clone(),
                rules: b.tcp_check.clone(),
                allbackups: b.allbackups,
                servers,
                rr_next: 0,
            });
            next_id += 1;
        }
        state
    }

    pub fn take_uid(&mut self) -> u64 {
        self.next_uid += 1;
        self.next_uid - 1
    }

    pub fn backend(&self, name: &str) -> Option<usize> {
        self.backends.iter().position(|b| b.name == name)
    }

    pub fn locate(&self, uid: u64) -> Option<(usize, usize)> {
        self.backends.iter().enumerate().find_map(|(bi, b)| {
            b.servers
                .iter()
                .position(|s| s.uid == uid)
                .map(|si| (bi, si))
        })
    }

    pub fn server(&self, uid: u64) -> Option<&ServerState> {
        self.locate(uid)
            .map(|(bi, si)| &self.backends[bi].servers[si])
    }

    /// Picks a server for a connection, as `balance roundrobin` with equal weights does:
    /// the usable active servers in turn (server order, starting with the first), else
    /// the first usable backup. (`option allbackups` makes every backup eligible; the
    /// model still takes the first one.) `avoid` is the server a redispatch leaves, taken
    /// again only when nothing else is usable.
    pub fn pick(&mut self, backend: &str, avoid: Option<u64>) -> Option<u64> {
        let bi = self.backend(backend)?;
        let b = &mut self.backends[bi];
        let usable = |backup: bool| -> Vec<usize> {
            let all: Vec<usize> = (0..b.servers.len())
                .filter(|&i| b.servers[i].backup == backup && b.servers[i].usable())
                .collect();
            let others: Vec<usize> = all
                .iter()
                .copied()
                .filter(|&i| Some(b.servers[i].uid) != avoid)
                .collect();
            if others.is_empty() {
                all
            } else {
                others
            }
        };
        let active = usable(false);
        if let Some(&first) = active.first() {
            let at = active
                .iter()
                .copied()
                .find(|&i| i >= b.rr_next)
                .unwrap_or(first);
            b.rr_next = at + 1;
            return Some(b.servers[at].uid);
        }
        usable(true).first().map(|&i| b.servers[i].uid)
    }

    /// The address to connect to for server `uid`.
    pub fn addr_of(&self, uid: u64) -> Option<SocketAddr> {
        self.server(uid).map(|s| SocketAddr::new(s.addr, s.port))
    }

    /// How many active servers of the server's backend take connections (`srv_act`).
    pub fn usable_active(&self, uid: u64) -> usize {
        self.locate(uid).map_or(0, |(bi, _)| {
            let b = &self.backends[bi];
            b.servers.iter().filter(|s| !s.backup && s.usable()).count()
        })
    }

    /// Attaches a new session to server `uid`.
    pub fn open_session(&mut self, uid: u64) -> Option<(u64, Rc<SessionCtl>)> {
        let (bi, si) = self.locate(uid)?;
        let sid = self.next_session;
        self.next_session += 1;
        let s = &mut self.backends[bi].servers[si];
        let ctl = Rc::new(SessionCtl::default());
        s.sessions.insert(sid, ctl.clone());
        s.stot += 1;
        Some((sid, ctl))
    }

    /// Moves a session to another server (a redispatch).
    pub fn move_session(&mut self, from: u64, to: u64, sid: u64) {
        let Some((bi, si)) = self.locate(from) else {
            return;
        };
        let Some(ctl) = self.backends[bi].servers[si].sessions.remove(&sid) else {
            return;
        };
        if let Some((bi, si)) = self.locate(to) {
            let s = &mut self.backends[bi].servers[si];
            s.sessions.insert(sid, ctl);
            s.stot += 1;
        }
    }

    /// Attaches a session again after its turnaround; false when its server is gone.
    pub fn reattach(&mut self, uid: u64, sid: u64, ctl: &Rc<SessionCtl>) -> bool {
        let Some((bi, si)) = self.locate(uid) else {
            return false;
        };
        self.backends[bi].servers[si]
            .sessions
            .insert(sid, ctl.clone());
        true
    }

    pub fn close_session(&mut self, uid: u64, sid: u64) {
        if let Some((bi, si)) = self.locate(uid) {
            self.backends[bi].servers[si].sessions.remove(&sid);
        }
    }

    /// Asks every session of the server whose request side is still open to shut
    /// (haproxy's `srv_shutdown_streams`); they stay attached until their tasks end.
    pub(crate) fn shutdown_sessions(proxy: &str, s: &mut ServerState) {
        let mut n = 0;
        for ctl in s.sessions.values().filter(|c| !c.req_shut.get()) {
            ctl.req_shut.set(true);
            // notify_one stores a permit, so a session busy writing still sees it.
            ctl.shut.notify_one();
            n += 1;
        }
        if n > 0 {
            let server = s.name.clone();
            record(
                proxy,
                Event::SessionsShutDown {
                    server,
                    sessions: n,
                },
            );
        }
    }

    /// Counts the usable servers of a backend: (active, backup), for the log.
    fn left(&self, bi: usize) -> (usize, usize) {
        let b = &self.backends[bi];
        let n = |backup: bool| {
            b.servers
                .iter()
                .filter(|s| s.backup == backup && s.usable())
                .count()
        };
        (n(false), n(true))
    }

    /// Marks a server DOWN (operational state stopped).
    pub(crate) fn set_stopped(&mut self, bi: usize, si: usize, cause: Cause) {
        let s = &mut self.backends[bi].servers[si];
        if !s.running {
            return;
        }
        s.running = false;
        s.last_change = now();
        s.chkdown += 1;
        if s.shutdown_on_down {
            Self::shutdown_sessions(&self.config.name, s);
        }
        self.log_change(bi, si, ServerStatus::Down, cause);
    }

    /// Marks a server UP; with `on-marked-up shutdown-backup-sessions` an active server
    /// coming back closes the sessions on the backend's backups.
    pub(crate) fn set_running(&mut self, bi: usize, si: usize, cause: Cause) {
        let s = &mut self.backends[bi].servers[si];
        if s.running {
            return;
        }
        s.running = true;
        s.last_change = now();
        if s.shutdown_backups_on_up && !s.backup {
            for b in self.backends[bi].servers.iter_mut().filter(|b| b.backup) {
                Self::shutdown_sessions(&self.config.name, b);
            }
        }
        self.log_change(bi, si, ServerStatus::Up, cause);
    }

    fn log_change(&self, bi: usize, si: usize, status: ServerStatus, cause: Cause) {
        let b = &self.backends[bi];
        let s = &b.servers[si];
        let (active, backup) = self.left(bi);
        let why = match cause {
            Cause::Check(st) => format!("{}, check {}", st.desc(), st.name()),
            Cause::Admin(what) => what.to_string(),
        };
        record(
            &self.config.name,
            Event::ServerState {
                backend: b.name.clone(),
                server: s.name.clone(),
                status,
                reason: why,
                active_left: active,
                backup_left: backup,
            },
        );
    }

    /// Applies one finished check to a server (haproxy's `set_server_check_status`).
    pub fn apply_check(&mut self, uid: u64, status: CheckStatus) {
        let Some((bi, si)) = self.locate(uid) else {
            return;
        };
        let s = &mut self.backends[bi].servers[si];
        if !s.checks_active() {
            return;
        }
        s.check_status = status;
        s.check_passed = Some(status.passed());
        if status.passed() {
            if s.health < s.full_health() {
                s.health += 1;
                if s.health >= s.rise {
                    s.health = s.full_health();
                }
            }
        } else if s.health > 0 {
            s.chkfail += 1;
            s.health -= 1;
            if s.health < s.rise {
                s.health = 0;
            }
        }
        let (health, rise, running) = (s.health, s.rise, s.running);
        if health >= rise && !running {
            self.set_running(bi, si, Cause::Check(status));
        } else if health < rise && running {
            self.set_stopped(bi, si, Cause::Check(status));
        }
    }

    /// `set server state maint` / `disable server`. With `on-marked-down
    /// shutdown-sessions` entering maintenance closes the server's sessions (observed on
    /// haproxy 2.6.12); without it they stay open.
    pub fn enter_maint(&mut self, bi: usize, si: usize) {
        let s = &mut self.backends[bi].servers[si];
        if s.maint {
            return;
        }
        s.maint = true;
        s.health = 0;
        s.last_change = now();
        if s.shutdown_on_down {
            Self::shutdown_sessions(&self.config.name, s);
        }
        let was_running = s.running;
        s.running = false;
        if was_running {
            s.chkdown += 1;
        }
        self.log_change(bi, si, ServerStatus::Maint, Cause::Admin("admin"));
    }

    /// Leaves maintenance: the server is UP at once, its health at `rise` so that the
    /// first failed check takes it DOWN again (the re-enabling pitfall).
    pub fn leave_maint(&mut self, bi: usize, si: usize) {
        let s = &mut self.backends[bi].servers[si];
        if !s.maint {
            return;
        }
        s.maint = false;
        if s.checks_active() {
            s.health = s.rise;
        }
        self.set_running(bi, si, Cause::Admin("leaving maintenance"));
    }

    /// `set server health up|down`.
    pub fn force_health(&mut self, bi: usize, si: usize, up: bool) {
        let s = &mut self.backends[bi].servers[si];
        if s.maint {
            s.health = if up { s.full_health() } else { 0 };
            return;
        }
        if up {
            s.health = s.full_health();
            self.set_running(bi, si, Cause::Admin("changed from CLI"));
        } else {
            s.health = 0;
            self.set_stopped(bi, si, Cause::Admin("changed from CLI"));
        }
    }

    /// Adds a server at run time (`add server`): in maintenance, checks disabled.
    pub fn add_server(&mut self, bi: usize, server: &Server, addr: IpAddr) -> u64 {
        let uid = self.take_uid();
        let b = &mut self.backends[bi];
        let id = b.servers.iter().map(|s| s.id).max().unwrap_or(0) + 1;
        b.servers.push(new_server(uid, id, server, addr, true));
        uid
    }
}

fn new_server(uid: u64, id: u32, s: &Server, addr: IpAddr, dynamic: bool) -> ServerState {
    ServerState {
        uid,
        id,
        name: s.name.clone(),
        addr,
        port: s.port,
        inter: s.inter,
        fastinter: s.fastinter,
        downinter: s.downinter,
        fall: s.fall.max(1),
        rise: s.rise.max(1),
        backup: s.backup,
        shutdown_on_down: s.on_marked_down_shutdown_sessions,
        shutdown_backups_on_up: s.on_marked_up_shutdown_backup_sessions,
        check_configured: s.check,
        check_enabled: s.check && !dynamic,
        // haproxy starts a server UP at health `rise`: one failure takes it down.
        health: if dynamic { 0 } else { s.rise.max(1) },
        running: !dynamic,
        maint: dynamic,
        drain: false,
        check_status: CheckStatus::Ini,
        check_passed: None,
        check_running: false,
        last_change: now(),
        chkfail: 0,
        chkdown: 0,
        stot: 0,
        sessions: BTreeMap::new(),
    }
}
