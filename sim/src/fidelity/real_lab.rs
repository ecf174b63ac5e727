//! Runs a probe against real redis-server and haproxy processes on 127.0.0.1.
//!
//! Every lab endpoint (machine, port) gets its own free loopback port, so probes can run in
//! parallel and never collide with anything else on the machine. Processes are killed when
//! the lab is dropped.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::{Endpoint, Lab, Probe, Setup, Transcript};

pub struct RealLab {
    ports: BTreeMap<Endpoint, u16>,
    children: RefCell<BTreeMap<Endpoint, Child>>,
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
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
        let mut ports = BTreeMap::new();
        for ep in &setup.redis {
            ports.insert(*ep, free_port());
        }
        for (machine, config) in &setup.haproxy {
            for f in &config.frontends {
                ports.insert((*machine, f.bind_port), free_port());
            }
            if let Some(p) = config.stats_port {
                ports.insert((*machine, p), free_port());
            }
        }
        let mut children = BTreeMap::new();
        for ep in &setup.redis {
            let port = ports[ep];
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string()])
                .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args([
                    "--repl-diskless-sync",
                    "yes",
                    "--repl-diskless-sync-delay",
                    "5",
                ])
                .args(["--protected-mode", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(dir.path())
                .args(["--dbfilename", &format!("dump-{port}.rdb")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("starting redis-server: {e}"))?;
            children.insert(*ep, child);
            wait_listening(port).await?;
        }
        for (machine, config) in &setup.haproxy {
            let resolve = |host: &str, port: u16| -> (String, u16) {
                let key = ports
                    .keys()
                    .find(|(m, p)| *m == host && *p == port)
                    .copied();
                match key {
                    Some(k) => ("127.0.0.1".to_string(), ports[&k]),
                    None => ("127.0.0.1".to_string(), free_port()),
                }
            };
            let text = config.render_cfg(&|host: &str, port: u16| {
                if host.is_empty() {
                    resolve(machine, port)
                } else {
                    resolve(host, port)
                }
            });
            let path = dir.path().join(format!("{machine}.cfg"));
            std::fs::write(&path, text).map_err(|e| e.to_string())?;
            let child = Command::new(haproxy_bin())
                .arg("-db")
                .arg("-f")
                .arg(&path)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("starting haproxy: {e}"))?;
            children.insert((*machine, 0), child);
            if let Some(p) = config.stats_port {
                wait_listening(ports[&(*machine, p)]).await?;
            }
        }
        Ok(RealLab {
            ports,
            children: RefCell::new(children),
            start: Instant::now(),
            _dir: dir,
        })
    }
}

async fn wait_listening(port: u16) -> Result<(), String> {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    Err(format!("nothing listens on 127.0.0.1:{port} after 5 s"))
}

impl Lab for RealLab {
    type Stream = TcpStream;

    async fn connect(&self, endpoint: Endpoint) -> std::io::Result<TcpStream> {
        let port = self.ports.get(&endpoint).copied().unwrap_or(1);
        TcpStream::connect(("127.0.0.1", port)).await
    }

    async fn kill(&self, endpoint: Endpoint) {
        let child = {
            let mut children = self.children.borrow_mut();
            let key = if children.contains_key(&endpoint) {
                endpoint
            } else {
                (endpoint.0, 0)
            };
            children.remove(&key)
        };
        if let Some(mut child) = child {
            let _ = child.kill().await;
        }
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn address_of(&self, endpoint: Endpoint) -> (String, u16) {
        ("127.0.0.1".to_string(), self.ports[&endpoint])
    }

    fn endpoint_named(&self, host: &str, port: u16) -> Option<Endpoint> {
        if host != "127.0.0.1" && host != "localhost" {
            return None;
        }
        self.ports
            .iter()
            .find(|(_, p)| **p == port)
            .map(|(e, _)| *e)
    }
}

/// Starts the probe's processes, runs the probe, stops the processes.
pub async fn run(probe: &Probe) -> Result<Transcript, String> {
    let lab = RealLab::start(&(probe.setup)()).await?;
    let transcript = (probe.run.real)(&lab).await;
    Ok(transcript)
}
