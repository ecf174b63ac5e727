//! The `local` cloud: a machine is a fresh loopback address of this host, and its
//! software is processes started on it (redis-server, haproxy), after an optional boot
//! delay. Terminating a machine kills its processes by PID.
//!
//! Every machine has a record (JSON, written atomically) in the cloud's directory, so a
//! launch with a token already seen returns the same machine, also from another process
//! or after a restart (EC2's ClientToken): failoverd killed mid-plan launches nothing twice.
//! A process that opens the directory again takes back the address leases of the
//! machines still alive and finishes the boots that were under way.
//!
//! Machines' processes run in their own process groups and are not tied to the process
//! that started them: a machine outlives a failoverd that is killed, as a real one does.
//! [`LocalCloud::end_all`] ends every process of every machine of the directory (tests,
//! the demo).

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use failover::effects::{Cloud, CloudError, InstanceState};
use failover::layout::{MachineInfo, MachineRole};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::software::{launches, Binaries, Ports, Software};

/// A local machine as recorded in the cloud's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineRecord {
    pub token: String,
    pub name: String,
    pub role: MachineRole,
    pub ip: Ipv4Addr,
    pub software: Software,
    /// Its processes, once booted: (port it listens on, PID).
    pub pids: Vec<(u16, u32)>,
    pub boot_at_unix_ms: u64,
    pub terminated: bool,
}

impl MachineRecord {
    pub fn instance_id(&self) -> String {
        format!("local-{}", self.name)
    }

    pub fn info(&self) -> MachineInfo {
        MachineInfo {
            name: self.name.clone(),
            addr: self.ip.to_string(),
            role: self.role,
            instance_id: Some(self.instance_id()),
        }
    }
}

struct Inner {
    dir: PathBuf,
    boot_delay: Duration,
    ports: Ports,
    bins: Binaries,
    /// Records are read and written under this lock (one process writes a directory at a
    /// time: the test that set the machines up, then failoverd).
    records: Mutex<()>,
    leases: Mutex<BTreeMap<Ipv4Addr, Address>>,
    booting: Mutex<BTreeSet<String>>,
}

#[derive(Clone)]
pub struct LocalCloud(Arc<Inner>);

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn other(e: impl std::fmt::Display) -> CloudError {
    CloudError::Other(e.to_string())
}

/// Whether `pid` is a live (not zombie) process whose command line names `ip`: a PID
/// reused by another process is never signalled.
fn ours(pid: u32, ip: Ipv4Addr) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit_once(") ").map(|(_, rest)| rest.chars().next());
    if !matches!(state, Some(Some(c)) if c != 'Z' && c != 'X') {
        return false;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline);
    cmdline.contains(&ip.to_string())
}

impl LocalCloud {
    /// Opens (creating) the cloud's directory, takes back the leases of its live machines
    /// and resumes the boots under way. Call within a tokio runtime.
    pub fn open(
        dir: &Path,
        boot_delay: Duration,
        ports: Ports,
        bins: Binaries,
    ) -> std::io::Result<LocalCloud> {
        std::fs::create_dir_all(dir.join("machines"))?;
        let cloud = LocalCloud(Arc::new(Inner {
            dir: dir.to_path_buf(),
            boot_delay,
            ports,
            bins,
            records: Mutex::new(()),
            leases: Mutex::new(BTreeMap::new()),
            booting: Mutex::new(BTreeSet::new()),
        }));
        for r in cloud.records() {
            if r.terminated {
                continue;
            }
            if let Some(lease) = Address::lease_exact(r.ip) {
                cloud
                    .0
                    .leases
                    .lock()
                    .expect("not poisoned")
                    .insert(r.ip, lease);
            }
            if r.pids.is_empty() {
                cloud.boot(r.token.clone());
            }
        }
        Ok(cloud)
    }

    fn path(&self, token: &str) -> PathBuf {
        let safe: String = token
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.0.dir.join("machines").join(format!("{safe}.json"))
    }

    fn read(&self, token: &str) -> Option<MachineRecord> {
        let text = std::fs::read_to_string(self.path(token)).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn write(&self, r: &MachineRecord) -> std::io::Result<()> {
        let path = self.path(&r.token);
        let tmp = path.with_extension("tmp");
        std::fs::write(
            &tmp,
            serde_json::to_string_pretty(r).expect("records serialize"),
        )?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &path)
    }

    /// Every machine recorded, by token.
    pub fn records(&self) -> Vec<MachineRecord> {
        let Ok(dir) = std::fs::read_dir(self.0.dir.join("machines")) else {
            return Vec::new();
        };
        let mut out: Vec<MachineRecord> = dir
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|t| serde_json::from_str(&t).ok())
            .collect();
        out.sort_by(|a, b| a.token.cmp(&b.token));
        out
    }

    /// The machine named `name`, if recorded.
    pub fn machine(&self, name: &str) -> Option<MachineRecord> {
        self.records().into_iter().find(|r| r.name == name)
    }

    /// Launches (or finds, for a token seen before) a machine named `name` running
    /// `software`; its processes start after `delay`. Returns at once, as EC2 does.
    pub fn launch_named(
        &self,
        token: &str,
        name: &str,
        role: MachineRole,
        software: Software,
        delay: Duration,
    ) -> Result<MachineRecord, CloudError> {
        let guard = self.0.records.lock().expect("not poisoned");
        if let Some(r) = self.read(token) {
            drop(guard);
            if !r.terminated && r.pids.is_empty() {
                self.boot(r.token.clone());
            }
            return Ok(r);
        }
        // The directory is the truth about addresses in use: a lease given back by a
        // process that went away can be handed out again while its machine still runs.
        // Such an address is kept (it is one of ours) and the next one tried.
        let used: BTreeSet<Ipv4Addr> = self
            .records()
            .iter()
            .filter(|r| !r.terminated)
            .map(|r| r.ip)
            .collect();
        let lease = loop {
            let lease = Address::lease().map_err(other)?;
            if !used.contains(&lease.ip()) {
                break lease;
            }
            self.0
                .leases
                .lock()
                .expect("not poisoned")
                .insert(lease.ip(), lease);
        };
        let r = MachineRecord {
            token: token.to_string(),
            name: name.to_string(),
            role,
            ip: lease.ip(),
            software,
            pids: Vec::new(),
            boot_at_unix_ms: unix_ms() + delay.as_millis() as u64,
            terminated: false,
        };
        self.write(&r).map_err(other)?;
        self.0
            .leases
            .lock()
            .expect("not poisoned")
            .insert(r.ip, lease);
        drop(guard);
        tracing::info!(target: "local", machine = %r.name, ip = %r.ip, token, "machine launched");
        self.boot(r.token.clone());
        Ok(r)
    }

    /// Starts the machine's processes at its boot time, once (per process).
    fn boot(&self, token: String) {
        if !self
            .0
            .booting
            .lock()
            .expect("not poisoned")
            .insert(token.clone())
        {
            return;
        }
        let cloud = self.clone();
        tokio::spawn(async move {
            if let Some(r) = cloud.read(&token) {
                let wait = r.boot_at_unix_ms.saturating_sub(unix_ms());
                tokio::time::sleep(Duration::from_millis(wait)).await;
                if let Err(e) = cloud.start_software(&token) {
                    tracing::error!(target: "local", machine = %r.name, error = %e, "machine did not boot");
                }
            }
            cloud.0.booting.lock().expect("not poisoned").remove(&token);
        });
    }

    fn start_software(&self, token: &str) -> std::io::Result<()> {
        let _guard = self.0.records.lock().expect("not poisoned");
        let Some(mut r) = self.read(token) else {
            return Ok(());
        };
        if r.terminated || !r.pids.is_empty() {
            return Ok(());
        }
        let dir = self.0.dir.join("data").join(&r.name);
        std::fs::create_dir_all(&dir)?;
        for l in launches(&r.software, r.ip, &self.0.ports, &self.0.bins, &dir)? {
            let log = std::fs::File::create(dir.join(format!("{}.log", l.listens)))?;
            let mut child = tokio::process::Command::new(&l.program)
                .args(&l.args)
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .process_group(0)
                .spawn()?;
            let pid = child.id().unwrap_or(0);
            r.pids.push((l.listens, pid));
            // Reaped by whoever started it, so a killed process leaves no zombie.
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
        }
        self.write(&r)?;
        tracing::info!(target: "local", machine = %r.name, ip = %r.ip, pids = ?r.pids, "machine booted");
        Ok(())
    }

    /// Whether the machine's process listening on `port` is alive (not a zombie).
    pub fn alive(&self, name: &str, port: u16) -> bool {
        self.machine(name)
            .is_some_and(|r| r.pids.iter().any(|(p, pid)| *p == port && ours(*pid, r.ip)))
    }

    /// Starts again the machine's process listening on `port` (after a kill or a stop),
    /// with the same software and the same directory (its disk). `Ok(false)` when it is
    /// still alive, or the machine is terminated or not booted yet.
    pub fn restart(&self, name: &str, port: u16) -> std::io::Result<bool> {
        let _guard = self.0.records.lock().expect("not poisoned");
        let Some(mut r) = self.records().into_iter().find(|r| r.name == name) else {
            return Ok(false);
        };
        let running = r.pids.iter().any(|(p, pid)| *p == port && ours(*pid, r.ip));
        if r.terminated || r.pids.is_empty() || running {
            return Ok(false);
        }
        let dir = self.0.dir.join("data").join(&r.name);
        let all = launches(&r.software, r.ip, &self.0.ports, &self.0.bins, &dir)?;
        let Some(l) = all.into_iter().find(|l| l.listens == port) else {
            return Ok(false);
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{}.log", l.listens)))?;
        let mut child = tokio::process::Command::new(&l.program)
            .args(&l.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()?;
        let pid = child.id().unwrap_or(0);
        tokio::spawn(async move {
            let _ = child.wait().await;
        });
        r.pids.retain(|(p, _)| *p != port);
        r.pids.push((port, pid));
        self.write(&r)?;
        tracing::info!(target: "local", machine = %r.name, port, pid, "process restarted");
        Ok(true)
    }

    /// Sends `signal` to the machine's processes (all, or the one listening on `port`).
    pub fn signal(
        &self,
        name: &str,
        port: Option<u16>,
        signal: Signal,
    ) -> Result<Vec<u32>, String> {
        let r = self
            .machine(name)
            .ok_or_else(|| format!("no machine {name}"))?;
        let mut hit = Vec::new();
        for (p, pid) in &r.pids {
            if port.is_some_and(|want| want != *p) || !ours(*pid, r.ip) {
                continue;
            }
            kill(Pid::from_raw(*pid as i32), signal).map_err(|e| format!("kill {pid}: {e}"))?;
            hit.push(*pid);
        }
        Ok(hit)
    }

    /// Kills a machine's processes and records it terminated; its address is given back.
    pub fn end(&self, name: &str) -> Result<(), CloudError> {
        let _guard = self.0.records.lock().expect("not poisoned");
        let Some(mut r) = self.records().into_iter().find(|r| r.name == name) else {
            return Err(CloudError::NotFound(name.to_string()));
        };
        for (_, pid) in &r.pids {
            if ours(*pid, r.ip) {
                let pid = Pid::from_raw(*pid as i32);
                // A stopped process gets SIGKILL too; SIGCONT is not needed for it.
                let _ = kill(pid, Signal::SIGKILL);
            }
        }
        if !r.terminated {
            r.terminated = true;
            self.write(&r).map_err(other)?;
            tracing::info!(target: "local", machine = %r.name, "machine terminated");
        }
        self.0.leases.lock().expect("not poisoned").remove(&r.ip);
        Ok(())
    }

    /// Ends every machine of the directory (tests, the demo), and waits until their
    /// processes are gone.
    pub async fn end_all(&self) {
        let records = self.records();
        for r in &records {
            let _ = self.end(&r.name);
        }
        for _ in 0..100 {
            if records
                .iter()
                .all(|r| r.pids.iter().all(|(_, pid)| !ours(*pid, r.ip)))
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn state(&self, r: &MachineRecord) -> InstanceState {
        if r.terminated {
            InstanceState::Terminated
        } else if r.pids.is_empty() {
            InstanceState::Pending
        } else {
            InstanceState::Running
        }
    }
}

fn role_word(role: MachineRole) -> &'static str {
    match role {
        MachineRole::Redis => "redis",
        MachineRole::Haproxy => "haproxy",
    }
}

impl Cloud for LocalCloud {
    async fn launch(&self, role: MachineRole, token: &str) -> Result<MachineInfo, CloudError> {
        // The plan part of the token (`<epoch>-plan-<id>`) with a short epoch keeps the
        // name readable in haproxy's stats and unique across fresh states.
        let short: String = match token.split_once("-plan-") {
            Some((epoch, plan)) => format!("plan{plan}-{}", &epoch[..epoch.len().min(6)]),
            None => token
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(32)
                .collect(),
        };
        let software = match role {
            MachineRole::Redis => Software::Redis { replica_of: None },
            MachineRole::Haproxy => Software::Proxy {
                servers: Vec::new(),
            },
        };
        let name = format!("{}-{short}", role_word(role));
        let r = self.launch_named(token, &name, role, software, self.0.boot_delay)?;
        Ok(r.info())
    }

    async fn terminate(&self, instance_id: &str) -> Result<(), CloudError> {
        let Some(r) = self
            .records()
            .into_iter()
            .find(|r| r.instance_id() == instance_id)
        else {
            // Gone or never ours: terminating what does not exist is done.
            return Ok(());
        };
        self.end(&r.name)
    }

    async fn describe(&self, instance_id: &str) -> Result<InstanceState, CloudError> {
        self.records()
            .into_iter()
            .find(|r| r.instance_id() == instance_id)
            .map(|r| self.state(&r))
            .ok_or_else(|| CloudError::NotFound(instance_id.to_string()))
    }
}
