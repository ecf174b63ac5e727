//! Runs a probe against real redis-server and haproxy processes on loopback.
//!
//! Every lab machine is a loopback address of its own (leased from `failover-local`, so
//! probes run in parallel and never collide with anything else on the machine), and its
//! servers listen on the lab's own ports there. The processes of a machine send from its
//! address too, so an nftables rule on that address silences the whole machine. Processes
//! are ended by PID, and the lab's nftables table deleted, when the lab is dropped.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use failover_local::{Address, Rule, Table};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::{Endpoint, Lab, Probe, ProcessSignal, Setup, Transcript};

/// Debian's packaged `save` rules: the real side keeps what a Debian machine keeps.
const DEBIAN_SAVE: &str = "3600 1 300 100 60 10000";

/// How to start one process again: its program and arguments.
#[derive(Clone)]
struct Launch {
    program: String,
    args: Vec<String>,
    /// The endpoint that listens once it is up.
    listens: Option<(Ipv4Addr, u16)>,
}

/// Fields drop in order: the processes end first, then the rules and the table go, then
/// the addresses are given back.
pub struct RealLab {
    children: RefCell<BTreeMap<Endpoint, Child>>,
    rules: RefCell<BTreeMap<(&'static str, &'static str), Vec<Rule>>>,
    /// Created on the first network fault: only probes that cut or silence need root.
    table: RefCell<Option<Table>>,
    launches: BTreeMap<Endpoint, Launch>,
    machines: BTreeMap<&'static str, Address>,
    /// Machines that servers name but the setup does not start: nothing listens there.
    _empty: BTreeMap<String, Address>,
    start: Instant,
    _dir: tempfile::TempDir,
}

/// Whether the real binaries are installed (`.ci/run` installs them).
pub fn binaries_present() -> Result<(), String> {
    for bin in ["redis-server", "haproxy"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
            .unwrap_or(false)
            || std::path::Path::new("/usr/sbin").join(bin).is_file();
        if !found {
            return Err(format!(
                "{bin} is not installed: run `apt-get install -y redis-server haproxy` (as .ci/run does)"
            ));
        }
    }
    Ok(())
}

/// Why a probe's real side cannot run here, if it cannot: nftables needs root and `nft`.
pub fn can_drop_packets() -> Result<(), String> {
    if !failover_local::nft::is_root() {
        return Err(
            "it drops packets with nftables, which needs root (.ci/run runs as root)".into(),
        );
    }
    let found = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
        .iter()
        .any(|p| std::path::Path::new(p).is_file());
    if !found {
        return Err(
            "nft is not installed: run `apt-get install -y nftables` (as .ci/run does)".into(),
        );
    }
    Ok(())
}

fn haproxy_bin() -> &'static str {
    if std::path::Path::new("/usr/sbin/haproxy").is_file() {
        "/usr/sbin/haproxy"
    } else {
        "haproxy"
    }
}

impl RealLab {
    pub async fn start(setup: &Setup) -> Result<RealLab, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut machines = BTreeMap::new();
        let lease = |m: &'static str, machines: &mut BTreeMap<&'static str, Address>| {
            if !machines.contains_key(m) {
                let a = Address::lease().map_err(|e| e.to_string())?;
                machines.insert(m, a);
            }
            Ok::<_, String>(())
        };
        for (m, _) in &setup.redis {
            lease(m, &mut machines)?;
        }
        for (m, _) in &setup.haproxy {
            lease(m, &mut machines)?;
        }
        let mut empty = BTreeMap::new();
        for (_, config) in &setup.haproxy {
            for s in config.backends.iter().flat_map(|b| &b.servers) {
                if !machines.contains_key(s.host.as_str()) && !empty.contains_key(&s.host) {
                    let a = Address::lease().map_err(|e| e.to_string())?;
                    empty.insert(s.host.clone(), a);
                }
            }
        }
        let mut launches = BTreeMap::new();
        for ep in &setup.redis {
            let ip = machines[ep.0].ip();
            launches.insert(*ep, redis_launch(dir.path(), ep, ip)?);
        }
        for (machine, config) in &setup.haproxy {
            let text = config.render_cfg(&|host: &str, port: u16| {
                let host = if host.is_empty() { *machine } else { host };
                let ip = machines
                    .get(host)
                    .or_else(|| empty.get(host))
                    .map(|a| a.ip())
                    .unwrap_or(Ipv4Addr::new(127, 0, 0, 1));
                (ip.to_string(), port)
            });
            let path = dir.path().join(format!("{machine}.cfg"));
            std::fs::write(&path, text).map_err(|e| e.to_string())?;
            let ip = machines[machine].ip();
            launches.insert(
                (*machine, 0),
                Launch {
                    program: haproxy_bin().to_string(),
                    args: vec!["-db".into(), "-f".into(), path.display().to_string()],
                    listens: config.stats_port.map(|p| (ip, p)),
                },
            );
        }
        let lab = RealLab {
            children: RefCell::default(),
            rules: RefCell::default(),
            table: RefCell::default(),
            launches,
            machines,
            _empty: empty,
            start: Instant::now(),
            _dir: dir,
        };
        for ep in lab.launches.keys().copied().collect::<Vec<_>>() {
            lab.spawn(ep).await?;
        }
        Ok(lab)
    }

    async fn spawn(&self, ep: Endpoint) -> Result<(), String> {
        let launch = &self.launches[&ep];
        let child = Command::new(&launch.program)
            .args(&launch.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", launch.program))?;
        self.children.borrow_mut().insert(ep, child);
        if let Some((ip, port)) = launch.listens {
            wait_listening(ip, port).await?;
        }
        Ok(())
    }

    /// The key of the process behind an endpoint: any port of an haproxy machine names
    /// its haproxy.
    fn key(&self, endpoint: Endpoint) -> Endpoint {
        if self.launches.contains_key(&endpoint) {
            endpoint
        } else {
            (endpoint.0, 0)
        }
    }

    fn ip(&self, machine: &str) -> Ipv4Addr {
        match self.machines.get(machine) {
            Some(a) => a.ip(),
            None => panic!("the probe names machine {machine}, which its setup did not start"),
        }
    }

    fn add_rules(&self, key: (&'static str, &'static str), add: impl Fn(&Table) -> Vec<Rule>) {
        let mut table = self.table.borrow_mut();
        if table.is_none() {
            *table = Some(
                Table::create("fidelity")
                    .unwrap_or_else(|e| panic!("cannot create the lab's nftables table: {e}")),
            );
        }
        let rules = add(table.as_ref().expect("created above"));
        self.rules
            .borrow_mut()
            .entry(key)
            .or_default()
            .extend(rules);
    }

    fn remove_rules(&self, key: (&'static str, &'static str)) {
        let rules = self.rules.borrow_mut().remove(&key).unwrap_or_default();
        if let Some(table) = self.table.borrow().as_ref() {
            for r in rules {
                table
                    .remove(r)
                    .unwrap_or_else(|e| panic!("cannot remove an nftables rule: {e}"));
            }
        }
    }
}

fn redis_launch(dir: &std::path::Path, ep: &Endpoint, ip: Ipv4Addr) -> Result<Launch, String> {
    // The machine's disk: kept across restarts of its processes, as a real machine's is.
    let disk: PathBuf = dir.join(ep.0);
    std::fs::create_dir_all(&disk).map_err(|e| e.to_string())?;
    let port = ep.1.to_string();
    let args = [
        "--port",
        &port,
        "--bind",
        &ip.to_string(),
        "--bind-source-addr",
        &ip.to_string(),
        "--save",
        DEBIAN_SAVE,
        "--appendonly",
        "no",
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "5",
        "--protected-mode",
        "no",
        "--daemonize",
        "no",
        "--dir",
        &disk.display().to_string(),
        "--dbfilename",
        &format!("dump-{port}.rdb"),
    ];
    Ok(Launch {
        program: "redis-server".into(),
        args: args.iter().map(|a| a.to_string()).collect(),
        listens: Some((ip, ep.1)),
    })
}

async fn wait_listening(ip: Ipv4Addr, port: u16) -> Result<(), String> {
    for _ in 0..200 {
        if TcpStream::connect((ip, port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err(format!("nothing listens on {ip}:{port} after 5 s"))
}

impl Lab for RealLab {
    type Stream = TcpStream;

    async fn connect(&self, endpoint: Endpoint) -> std::io::Result<TcpStream> {
        match self.machines.get(endpoint.0) {
            Some(a) => TcpStream::connect((a.ip(), endpoint.1)).await,
            None => Err(std::io::ErrorKind::ConnectionRefused.into()),
        }
    }

    async fn signal(&self, endpoint: Endpoint, signal: ProcessSignal) {
        let key = self.key(endpoint);
        let pid = {
            let children = self.children.borrow();
            let Some(pid) = children.get(&key).and_then(|c| c.id()) else {
                return;
            };
            Pid::from_raw(pid as i32)
        };
        let sig = match signal {
            ProcessSignal::Kill => Signal::SIGKILL,
            ProcessSignal::Term => Signal::SIGTERM,
            ProcessSignal::Stop => Signal::SIGSTOP,
            ProcessSignal::Cont => Signal::SIGCONT,
        };
        let _ = kill(pid, sig);
        if matches!(signal, ProcessSignal::Kill | ProcessSignal::Term) {
            // Returns once it exited (a SIGTERMed redis first writes its snapshot).
            let child = self.children.borrow_mut().remove(&key);
            if let Some(mut child) = child {
                let _ = child.wait().await;
            }
        }
    }

    async fn restart(&self, endpoint: Endpoint) {
        let key = self.key(endpoint);
        if self.children.borrow().contains_key(&key) {
            return;
        }
        if let Err(e) = self.spawn(key).await {
            panic!("restarting {endpoint:?}: {e}");
        }
    }

    async fn silence(&self, machine: &'static str) {
        let ip = self.ip(machine);
        self.add_rules((machine, ""), |t| {
            t.silence(ip)
                .unwrap_or_else(|e| panic!("silencing {machine}: {e}"))
        });
    }

    async fn unsilence(&self, machine: &'static str) {
        self.remove_rules((machine, ""));
    }

    async fn cut(&self, a: &'static str, b: &'static str) {
        let (ia, ib) = (self.ip(a), self.ip(b));
        self.add_rules((a, b), |t| {
            t.cut(ia, ib)
                .unwrap_or_else(|e| panic!("cutting {a} from {b}: {e}"))
        });
    }

    async fn heal(&self, a: &'static str, b: &'static str) {
        self.remove_rules((a, b));
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn address_of(&self, endpoint: Endpoint) -> (String, u16) {
        (self.ip(endpoint.0).to_string(), endpoint.1)
    }

    fn endpoint_named(&self, host: &str, port: u16) -> Option<Endpoint> {
        let ip: Ipv4Addr = host.parse().ok()?;
        self.machines
            .iter()
            .find(|(_, a)| a.ip() == ip)
            .map(|(m, _)| (*m, port))
    }
}

/// Starts the probe's processes, runs the probe, stops the processes.
pub async fn run(probe: &Probe) -> Result<Transcript, String> {
    let lab = RealLab::start(&(probe.setup)()).await?;
    let transcript = (probe.run.real)(&lab).await;
    Ok(transcript)
}
