//! The end-of-run redundancy check: is the lab fully redundant again? One master and one
//! synced replica per port, both behind every live redis proxy (the master UP there), and
//! the app served through its local haproxy on every port.
//!
//! It runs from a checker host added after the run, asking every live machine over the
//! simulated network, so it sees what a client would see.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use failover::admin::stat;
use failover::layout::Topology;
use failover::resp::{render, RespConnection};
use failover::runtime_api::runtime_command;
use serde::Serialize;
use tokio::time::timeout;

use crate::workload::{ClientNet, TurmoilNet};

/// What the check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Redundancy {
    pub ok: bool,
    /// Per port, the master's machine.
    pub masters: BTreeMap<u16, String>,
    /// Per port, machines replicating the master with the link up.
    pub replicas: BTreeMap<u16, Vec<String>>,
    /// What is missing, in words.
    pub problems: Vec<String>,
}

/// A live machine to ask.
#[derive(Debug, Clone)]
pub struct Live {
    pub name: String,
    pub ip: IpAddr,
    pub kind: LiveKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveKind {
    Redis,
    Proxy,
    App,
}

const T: Duration = Duration::from_secs(2);

async fn redis_info<N: ClientNet>(
    net: &N,
    ip: IpAddr,
    port: u16,
) -> Result<BTreeMap<String, String>, String> {
    let s = timeout(T, net.connect(ip, port))
        .await
        .map_err(|_| "connect timeout".to_string())?
        .map_err(|e| e.to_string())?;
    let mut c = RespConnection::new(s);
    let reply = timeout(T, c.command(&["INFO", "replication"]))
        .await
        .map_err(|_| "timeout".to_string())?
        .map_err(|e| e.to_string())?;
    Ok(render(&reply)
        .lines()
        .filter_map(|l| l.trim_end().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

async fn api<N: ClientNet>(
    net: &N,
    ip: IpAddr,
    port: u16,
    command: &str,
) -> Result<String, String> {
    let s = timeout(T, net.connect(ip, port))
        .await
        .map_err(|_| "connect timeout".to_string())?
        .map_err(|e| e.to_string())?;
    timeout(T, runtime_command(s, command))
        .await
        .map_err(|_| "timeout".to_string())?
        .map_err(|e| e.to_string())
}

/// (server address, status) per server of a backend, from `show stat`.
fn stat_rows(csv: &str, backend: &str) -> Vec<(String, String)> {
    stat::parse_stat_csv(csv)
        .unwrap_or_default()
        .iter()
        .filter(|r| {
            stat::col(r, "pxname") == backend
                && !matches!(stat::col(r, "svname"), "FRONTEND" | "BACKEND")
        })
        .map(|r| {
            let a = stat::col(r, "addr");
            let ip = a.rsplit_once(':').map(|(ip, _)| ip).unwrap_or(a);
            (ip.to_string(), stat::col(r, "status").to_string())
        })
        .collect()
}

/// Asks every live machine about every port of `topology`, over turmoil.
pub async fn check(live: &[Live], topology: &Topology) -> Redundancy {
    check_with(&TurmoilNet { ctx: None }, live, topology).await
}

/// The same check over any world's network.
pub async fn check_with<N: ClientNet>(net: &N, live: &[Live], topology: &Topology) -> Redundancy {
    let mut r = Redundancy::default();
    let ports = topology.redis_port_list();
    let name_of = |ip: &str| {
        live.iter()
            .find(|m| m.ip.to_string() == ip || m.name == ip)
            .map(|m| m.name.clone())
            .unwrap_or_else(|| ip.to_string())
    };
    for &port in &ports {
        let mut masters = Vec::new();
        let mut infos = Vec::new();
        for m in live.iter().filter(|m| m.kind == LiveKind::Redis) {
            match redis_info(net, m.ip, port).await {
                Ok(info) => {
                    if info.get("role").map(String::as_str) == Some("master") {
                        masters.push(m.clone());
                    }
                    infos.push((m.clone(), info));
                }
                Err(e) => r
                    .problems
                    .push(format!("{}:{port} does not answer: {e}", m.name)),
            }
        }
        let master = match masters.as_slice() {
            [one] => one.clone(),
            [] => {
                r.problems.push(format!("port {port} has no master"));
                continue;
            }
            many => {
                let names: Vec<_> = many.iter().map(|m| m.name.as_str()).collect();
                r.problems.push(format!(
                    "port {port} has {} masters: {}",
                    many.len(),
                    names.join(", ")
                ));
                continue;
            }
        };
        r.masters.insert(port, master.name.clone());
        let synced: Vec<String> = infos
            .iter()
            .filter(|(_, i)| {
                i.get("role").map(String::as_str) == Some("slave")
                    && i.get("master_link_status").map(String::as_str) == Some("up")
                    && i.get("master_host").map(|h| name_of(h)) == Some(master.name.clone())
            })
            .map(|(m, _)| m.name.clone())
            .collect();
        if synced.is_empty() {
            r.problems
                .push(format!("port {port}: no synced replica of {}", master.name));
        }
        r.replicas.insert(port, synced.clone());
        for proxy in live.iter().filter(|m| m.kind == LiveKind::Proxy) {
            let backend = topology.backend(port);
            let csv = match api(net, proxy.ip, topology.api_port, "show stat").await {
                Ok(c) => c,
                Err(e) => {
                    r.problems
                        .push(format!("{}'s runtime API does not answer: {e}", proxy.name));
                    continue;
                }
            };
            let rows = stat_rows(&csv, &backend);
            let status_of = |name: &str| {
                rows.iter()
                    .find(|(ip, _)| name_of(ip) == name)
                    .map(|(_, s)| s.clone())
            };
            match status_of(&master.name) {
                Some(s) if s.starts_with("UP") => {}
                Some(s) => r.problems.push(format!(
                    "{} {backend}: the master {} is {s}",
                    proxy.name, master.name
                )),
                None => r.problems.push(format!(
                    "{} {backend}: the master {} is not registered",
                    proxy.name, master.name
                )),
            }
            if !synced.iter().any(|rep| status_of(rep).is_some()) {
                r.problems.push(format!(
                    "{} {backend}: no synced replica is registered",
                    proxy.name
                ));
            }
        }
    }
    for app in live.iter().filter(|m| m.kind == LiveKind::App) {
        // Both of the app's proxies (primary and backup) must point at live, working proxies.
        match api(net, app.ip, topology.api_port, "show stat").await {
            Ok(csv) => {
                for backend in ports.iter().map(|p| topology.app_backend(*p)) {
                    let rows = stat_rows(&csv, &backend);
                    let want = topology.proxies.len();
                    if rows.len() < want {
                        r.problems.push(format!(
                            "{}'s backend {backend} has {} servers, not {want}",
                            app.name,
                            rows.len()
                        ));
                    }
                    for (ip, status) in rows {
                        let proxy = name_of(&ip);
                        let live_proxy = live
                            .iter()
                            .any(|m| m.kind == LiveKind::Proxy && m.name == proxy);
                        if !live_proxy || !status.starts_with("UP") {
                            r.problems.push(format!(
                                "{}'s backend {backend} points at {proxy}, which is {status}",
                                app.name
                            ));
                        }
                    }
                }
            }
            Err(e) => r
                .problems
                .push(format!("{}'s runtime API does not answer: {e}", app.name)),
        }
        for port in topology.app_ports() {
            let served = async {
                let s = timeout(T, net.connect(app.ip, port)).await.ok()?.ok()?;
                let mut c = RespConnection::new(s);
                let reply = timeout(T, c.command(&["SET", "redundancy-check", "1"]))
                    .await
                    .ok()?
                    .ok()?;
                Some(render(&reply))
            }
            .await;
            if served.as_deref() != Some("OK") {
                r.problems.push(format!(
                    "a write through {}:{port} is not served ({served:?})",
                    app.name
                ));
            }
        }
    }
    r.ok = r.problems.is_empty();
    r
}
