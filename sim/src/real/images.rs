//! What each real machine runs, as `failover-local` software: the same processes and
//! settings as the lab's machines (`lab::machine_spec`, `lab::boot::replacement_spec`).
//! haproxy's configuration is rendered from the model's `HaproxyConfig` (the presets);
//! `{ip}` stands for the machine's own address, known once the cloud leased it.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use failover::config::Policy;
use failover::layout::{MachineRole, Topology};
use failover_local::{Binaries, CustomProcess, Software};

use crate::haproxy::config::HaproxyConfig;
use crate::haproxy::presets;

/// Debian's packaged `save` rules (redis 7.0's redis.conf), no AOF.
const DEBIAN_SAVE: &str = "3600 1 300 100 60 10000";

/// A redis machine: a redis-server per port, replicas of `master` when given.
pub fn redis(topology: &Topology, bins: &Binaries, master: Option<Ipv4Addr>) -> Software {
    let processes = topology
        .redis_port_list()
        .into_iter()
        .map(|port| {
            let p = port.to_string();
            let mut args: Vec<String> = [
                "--port",
                &p,
                "--bind",
                "{ip}",
                "--bind-source-addr",
                "{ip}",
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
                "{dir}",
                "--dbfilename",
                &format!("dump-{port}.rdb"),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            if let Some(m) = master {
                args.extend(["--replicaof".into(), m.to_string(), p.clone()]);
            }
            CustomProcess {
                program: bins.redis_server.clone(),
                args,
                listens: port,
                files: Vec::new(),
            }
        })
        .collect();
    Software::Custom { processes }
}

/// An haproxy machine running `config`; `ips` gives the addresses of the machines its
/// servers name.
pub fn haproxy(
    config: &HaproxyConfig,
    ips: &BTreeMap<String, Ipv4Addr>,
    bins: &Binaries,
) -> Software {
    let own = config.name.clone();
    let text = config.render_cfg(&|host: &str, port: u16| {
        if host == own || host.is_empty() {
            ("{ip}".to_string(), port)
        } else {
            let ip = ips.get(host).copied().unwrap_or(Ipv4Addr::LOCALHOST);
            (ip.to_string(), port)
        }
    });
    let file = "haproxy-{ip}.cfg".to_string();
    Software::Custom {
        processes: vec![CustomProcess {
            program: bins.haproxy.clone(),
            args: vec!["-db".into(), "-f".into(), format!("{{dir}}/{file}")],
            listens: config.stats_port.unwrap_or(9999),
            files: vec![(file, text)],
        }],
    }
}

/// A seed redis proxy (haproxy1, haproxy2), its checks as `policy` sets them.
pub fn proxy(
    topology: &Topology,
    policy: Policy,
    name: &str,
    ips: &BTreeMap<String, Ipv4Addr>,
    bins: &Binaries,
) -> Software {
    haproxy(&presets::haproxy_node(topology, name, policy), ips, bins)
}

/// The app machine's haproxy, its checks as `policy` sets them.
pub fn app(
    topology: &Topology,
    policy: Policy,
    ips: &BTreeMap<String, Ipv4Addr>,
    bins: &Binaries,
) -> Software {
    haproxy(&presets::app_local(topology, policy), ips, bins)
}

/// What a freshly launched machine of `role` runs (the lab's images, `lab::boot`): empty
/// masters, or a proxy with frontends and backends and no servers.
pub fn replacement(
    topology: &Topology,
    policy: Policy,
    name: &str,
    role: MachineRole,
    bins: &Binaries,
) -> Software {
    match role {
        MachineRole::Redis => redis(topology, bins, None),
        MachineRole::Haproxy => {
            let mut config = presets::haproxy_node(topology, name, policy);
            for b in &mut config.backends {
                b.servers.clear();
            }
            haproxy(&config, &BTreeMap::new(), bins)
        }
    }
}
