//! A local machine's software: redis-server processes on its address (one per redis
//! port), or one haproxy whose configuration is rendered here. The settings are the
//! lab's (`sim/src/haproxy/presets.rs`, the fidelity lab's redis flags), so a real-process
//! run and a turmoil run of the same case can be compared.
//!
//! Every process binds its machine's address and uses it as its source address (redis
//! `bind-source-addr`, haproxy `source`), so the nftables rules of [`crate::nft`], which
//! match on addresses, silence or cut exactly that machine.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The port scheme the software follows (`failover::layout::Topology`'s numbers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    pub redis: Vec<u16>,
    /// (redis port, proxy port, app port, redis proxies' backend name, app's backend name).
    pub routes: Vec<Route>,
    pub api: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub redis: u16,
    pub proxy: u16,
    pub app: u16,
    pub proxy_backend: String,
    pub app_backend: String,
}

impl Ports {
    pub fn of(t: &failover::layout::Topology) -> Ports {
        Ports {
            redis: t.redis_port_list(),
            routes: t
                .redis_port_list()
                .into_iter()
                .map(|p| Route {
                    redis: p,
                    proxy: t.proxy_port(p),
                    app: t.app_port(p),
                    proxy_backend: t.backend(p),
                    app_backend: t.app_backend(p),
                })
                .collect(),
            api: t.api_port,
        }
    }
}

/// What runs on a machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Software {
    /// A redis-server per redis port; a replica of `replica_of` when given.
    Redis { replica_of: Option<Ipv4Addr> },
    /// A redis proxy: these redis machines (name, address), the first active and the others
    /// backups; none for a replacement, which the controller configures.
    Proxy { servers: Vec<(String, Ipv4Addr)> },
    /// The app's haproxy: these proxies, the first active and the others backups.
    App { proxies: Vec<(String, Ipv4Addr)> },
    /// Processes described by the caller (the real-process world renders its own
    /// configurations from the lab's data). `{ip}` in arguments and files becomes the
    /// machine's address, `{dir}` in arguments its directory (its disk).
    Custom { processes: Vec<CustomProcess> },
}

/// One process of [`Software::Custom`]: its program, arguments, the port that answers
/// once it is up, and the files written into the machine's directory before it starts.
/// The arguments must name `{ip}`, so that the process is recognised as the machine's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomProcess {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub listens: u16,
    /// (file name, contents).
    pub files: Vec<(String, String)>,
}

/// Where the binaries are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binaries {
    pub redis_server: PathBuf,
    pub haproxy: PathBuf,
}

impl Default for Binaries {
    fn default() -> Self {
        let haproxy = if Path::new("/usr/sbin/haproxy").is_file() {
            "/usr/sbin/haproxy"
        } else {
            "haproxy"
        };
        Binaries {
            redis_server: "redis-server".into(),
            haproxy: haproxy.into(),
        }
    }
}

/// One process to start: program, arguments, and the port that answers once it is up.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub listens: u16,
}

/// The processes of `software` on `ip`; haproxy's configuration is written into `dir`.
pub fn launches(
    software: &Software,
    ip: Ipv4Addr,
    ports: &Ports,
    bins: &Binaries,
    dir: &Path,
) -> std::io::Result<Vec<Launch>> {
    match software {
        Software::Redis { replica_of } => Ok(ports
            .redis
            .iter()
            .map(|port| Launch {
                program: bins.redis_server.clone(),
                args: redis_args(ip, *port, *replica_of, dir),
                listens: *port,
            })
            .collect()),
        Software::Custom { processes } => {
            let fill = |t: &str| {
                t.replace("{ip}", &ip.to_string())
                    .replace("{dir}", &dir.display().to_string())
            };
            let mut out = Vec::new();
            for p in processes {
                for (name, text) in &p.files {
                    std::fs::write(dir.join(fill(name)), fill(text))?;
                }
                out.push(Launch {
                    program: p.program.clone(),
                    args: p.args.iter().map(|a| fill(a)).collect(),
                    listens: p.listens,
                });
            }
            Ok(out)
        }
        Software::Proxy { .. } | Software::App { .. } => {
            let cfg = dir.join(format!("haproxy-{ip}.cfg"));
            std::fs::write(&cfg, haproxy_cfg(software, ip, ports))?;
            Ok(vec![Launch {
                program: bins.haproxy.clone(),
                args: vec!["-db".into(), "-f".into(), cfg.display().to_string()],
                listens: ports.api,
            }])
        }
    }
}

fn redis_args(ip: Ipv4Addr, port: u16, replica_of: Option<Ipv4Addr>, dir: &Path) -> Vec<String> {
    let mut a: Vec<String> = [
        "--port",
        &port.to_string(),
        "--bind",
        &ip.to_string(),
        "--bind-source-addr",
        &ip.to_string(),
        "--save",
        "",
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
        &dir.display().to_string(),
        "--dbfilename",
        &format!("dump-{ip}-{port}.rdb"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(master) = replica_of {
        a.extend(["--replicaof".into(), master.to_string(), port.to_string()]);
    }
    a
}

/// `check inter 1s fall 3 rise 2 [backup] on-marked-down shutdown-sessions`, as the lab's.
fn server_line(c: &mut String, name: &str, ip: Ipv4Addr, port: u16, backup: bool) {
    let _ = writeln!(
        c,
        "    server {name} {ip}:{port} check inter 1000ms fall 3 rise 2{} on-marked-down shutdown-sessions",
        if backup { " backup" } else { "" }
    );
}

/// The haproxy 2.6 configuration of a proxy or of the app's haproxy on `ip`.
pub fn haproxy_cfg(software: &Software, ip: Ipv4Addr, ports: &Ports) -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "global\n    stats socket ipv4@{ip}:{} level admin\n",
        ports.api
    );
    c.push_str("defaults\n    mode tcp\n    timeout connect 5000ms\n    timeout client 50000ms\n    timeout server 50000ms\n");
    let _ = writeln!(c, "    source {ip}");
    for r in &ports.routes {
        let (front, backend) = match software {
            Software::App { .. } => (r.app, &r.app_backend),
            _ => (r.proxy, &r.proxy_backend),
        };
        let _ = writeln!(
            c,
            "\nfrontend fe_{front}\n    bind {ip}:{front}\n    default_backend {backend}"
        );
        let _ = writeln!(c, "\nbackend {backend}\n    balance roundrobin");
        match software {
            Software::Proxy { servers } => {
                // The lab's master-routing check (haproxy 2.6 doc's redis example).
                c.push_str("    option tcp-check\n    tcp-check send PING\\r\\n\n    tcp-check expect string +PONG\n    tcp-check send info\\ replication\\r\\n\n    tcp-check expect string role:master\n    tcp-check send QUIT\\r\\n\n    tcp-check expect string +OK\n");
                for (i, (name, server)) in servers.iter().enumerate() {
                    server_line(&mut c, name, *server, r.redis, i > 0);
                }
            }
            Software::App { proxies } => {
                for (i, (name, proxy)) in proxies.iter().enumerate() {
                    server_line(&mut c, name, *proxy, r.proxy, i > 0);
                }
            }
            Software::Redis { .. } | Software::Custom { .. } => {}
        }
    }
    c
}
