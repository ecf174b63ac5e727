//! What the controller must know about the deployment it guards: which machines run what,
//! on which ports, and how haproxy names things. [`Topology`] is the one description of
//! the deployment's shape; the controller's [`Layout`] and [`Deployment`], the lab's
//! machines and haproxy configurations, the workload's ports and the redundancy check are
//! all derived from it, so a port added here is a port everywhere.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::config::Deployment;

/// What a machine is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MachineRole {
    Redis,
    Haproxy,
}

impl MachineRole {
    pub fn name(self) -> &'static str {
        match self {
            MachineRole::Redis => "redis",
            MachineRole::Haproxy => "haproxy",
        }
    }
}

/// A machine the controller knows: its name, the address to reach it, and the cloud
/// instance behind it (if the controller launched it or was told).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineInfo {
    pub name: String,
    pub addr: String,
    pub role: MachineRole,
    #[serde(default)]
    pub instance_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Ports of the redis servers on every redis machine (one master and one replica each).
    pub redis_ports: Vec<u16>,
    /// The runtime API port of every haproxy (the redis proxies and the app's own).
    pub haproxy_api_port: u16,
    /// Prefix of the redis proxies' backend names: backend `<prefix><port>`.
    pub backend_prefix: String,
    /// Address of the app's local haproxy (its runtime API is on `haproxy_api_port`).
    pub app_addr: String,
    /// The app haproxy's backends, each with one server per redis proxy:
    /// (backend name, the port it forwards to on the proxies).
    pub app_backends: Vec<(String, u16)>,
}

impl Layout {
    /// The seed lab's layout ([`Topology::seed`]).
    pub fn seed(app_addr: &str) -> Self {
        Topology::seed().layout(app_addr)
    }

    pub fn backend(&self, port: u16) -> String {
        format!("{}{port}", self.backend_prefix)
    }
}

/// The shape of a deployment: its machines, how many redis servers each redis machine
/// holds, and the port scheme the proxies follow. Redis port `redis_base + i` (i from 1)
/// is served by every redis proxy on `proxy_base + i` and by the app's local haproxy on
/// `app_base + i`; every haproxy's runtime API is on `api_port`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    /// The redis machines. The first starts as master of every port, the others as its
    /// replicas; a proxy lists them in this order, the first active and the rest backups.
    pub redis_machines: Vec<String>,
    /// Redis servers per redis machine, on ports `redis_base + 1 ..= redis_base + n`.
    pub redis_ports: u16,
    /// The redis proxies; the app's haproxy uses the first and keeps the rest as backups.
    pub proxies: Vec<String>,
    /// The machine whose local haproxy the clients use.
    pub app: String,
    /// The machine that runs the controller.
    pub monitor: String,
    pub redis_base: u16,
    pub proxy_base: u16,
    pub app_base: u16,
    /// The runtime API port of every haproxy (the redis proxies and the app's own).
    pub api_port: u16,
    /// The redis proxies name the backend of redis port `p` `<prefix><p>`.
    pub backend_prefix: String,
}

impl Topology {
    /// The redis ports per machine a lab may have. The port scheme alone would allow up
    /// to 998 (then `redis_base + n` reaches the runtime API's 9999; `proxy_base + n` and
    /// `app_base + n` would reach the next range at 1000). 32 is three times the seed's
    /// "about ten redis servers" per machine, and keeps a lab run within three times the
    /// seed lab's cost, which grows with the servers, checks and polls (32 ports: 2.9 times
    /// the 2-port lab's instructions under callgrind).
    pub const REDIS_PORTS: RangeInclusive<u16> = 1..=32;

    /// The seed: redis1 and redis2 with 9001 and 9002, haproxy1 and haproxy2 with 8001
    /// and 8002 (backends `redis_9001`, `redis_9002`), the app's haproxy on 7001 and 7002
    /// (backends `8001`, `8002`), runtime APIs on 9999, the controller on monit.
    pub fn seed() -> Self {
        Topology {
            redis_machines: vec!["redis1".into(), "redis2".into()],
            redis_ports: 2,
            proxies: vec!["haproxy1".into(), "haproxy2".into()],
            app: "app".into(),
            monitor: "monit".into(),
            redis_base: 9000,
            proxy_base: 8000,
            app_base: 7000,
            api_port: 9999,
            backend_prefix: "redis_".into(),
        }
    }

    /// The seed with `n` redis servers per redis machine, `n` in [`Self::REDIS_PORTS`].
    pub fn with_redis_ports(n: u16) -> Result<Self, String> {
        if !Self::REDIS_PORTS.contains(&n) {
            return Err(format!(
                "redis_ports must be {} to {}; {n} is out of range",
                Self::REDIS_PORTS.start(),
                Self::REDIS_PORTS.end()
            ));
        }
        let t = Topology {
            redis_ports: n,
            ..Self::seed()
        };
        t.check()?;
        Ok(t)
    }

    /// Whether the port ranges fit in u16 and no port serves two purposes.
    pub fn check(&self) -> Result<(), String> {
        let n = self.redis_ports;
        if n == 0 {
            return Err("a redis machine needs at least one redis port".into());
        }
        let range = |what: &str, base: u16| {
            base.checked_add(n)
                .map(|last| (what.to_string(), base + 1, last))
                .ok_or_else(|| format!("{what} ports {base}+1..={base}+{n} go past 65535"))
        };
        let mut ranges = vec![
            range("redis", self.redis_base)?,
            range("proxy", self.proxy_base)?,
            range("app", self.app_base)?,
        ];
        ranges.push(("runtime API".into(), self.api_port, self.api_port));
        for (i, (a, a_first, a_last)) in ranges.iter().enumerate() {
            for (b, b_first, b_last) in &ranges[i + 1..] {
                if a_first <= b_last && b_first <= a_last {
                    return Err(format!(
                        "{a} ports {a_first}..={a_last} overlap {b} ports {b_first}..={b_last}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The redis ports of every redis machine, ascending.
    pub fn redis_port_list(&self) -> Vec<u16> {
        (1..=self.redis_ports)
            .map(|i| self.redis_base + i)
            .collect()
    }

    /// The port the redis proxies serve `redis_port` on.
    pub fn proxy_port(&self, redis_port: u16) -> u16 {
        redis_port - self.redis_base + self.proxy_base
    }

    /// The port the app's haproxy serves `redis_port` on.
    pub fn app_port(&self, redis_port: u16) -> u16 {
        redis_port - self.redis_base + self.app_base
    }

    /// The app's haproxy frontends, ascending: the ports clients can use.
    pub fn app_ports(&self) -> Vec<u16> {
        self.redis_port_list()
            .into_iter()
            .map(|p| self.app_port(p))
            .collect()
    }

    /// The redis port behind the app's frontend `app_port`, if it is one.
    pub fn redis_port_of_app(&self, app_port: u16) -> Option<u16> {
        let i = app_port.checked_sub(self.app_base)?;
        (1..=self.redis_ports)
            .contains(&i)
            .then(|| self.redis_base + i)
    }

    /// The redis proxies' backend for `redis_port`, e.g. `redis_9001`.
    pub fn backend(&self, redis_port: u16) -> String {
        format!("{}{redis_port}", self.backend_prefix)
    }

    /// The app haproxy's backend for `redis_port`: named by the proxy port it forwards
    /// to, e.g. `8001`.
    pub fn app_backend(&self, redis_port: u16) -> String {
        self.proxy_port(redis_port).to_string()
    }

    /// Every machine, in the order the lab creates them (which fixes their addresses):
    /// redis machines, proxies, the app, the monitor.
    pub fn machines(&self) -> Vec<String> {
        let mut out = self.redis_machines.clone();
        out.extend(self.proxies.iter().cloned());
        out.push(self.app.clone());
        out.push(self.monitor.clone());
        out
    }

    /// The role of a machine the controller monitors; `None` for the app, the monitor and
    /// unknown names.
    pub fn role_of(&self, machine: &str) -> Option<MachineRole> {
        if self.redis_machines.iter().any(|m| m == machine) {
            Some(MachineRole::Redis)
        } else if self.proxies.iter().any(|m| m == machine) {
            Some(MachineRole::Haproxy)
        } else {
            None
        }
    }

    /// The controller's layout, with the app's haproxy at `app_addr`.
    pub fn layout(&self, app_addr: &str) -> Layout {
        let ports = self.redis_port_list();
        Layout {
            app_backends: ports
                .iter()
                .map(|p| (self.app_backend(*p), self.proxy_port(*p)))
                .collect(),
            redis_ports: ports,
            haproxy_api_port: self.api_port,
            backend_prefix: self.backend_prefix.clone(),
            app_addr: app_addr.into(),
        }
    }

    /// The deployment the controller starts from: every redis machine and proxy
    /// monitored, the first redis machine master of every port, each of the app's
    /// servers (named after a proxy) pointing at that proxy. `addr` and `instance` give
    /// a machine's address and its cloud instance.
    pub fn deployment(
        &self,
        addr: impl Fn(&str) -> String,
        instance: impl Fn(&str) -> Option<String>,
    ) -> Deployment {
        let machine = |name: &String, role| MachineInfo {
            name: name.clone(),
            addr: addr(name),
            role,
            instance_id: instance(name),
        };
        let mut machines: Vec<MachineInfo> = self
            .redis_machines
            .iter()
            .map(|m| machine(m, MachineRole::Redis))
            .collect();
        machines.extend(
            self.proxies
                .iter()
                .map(|m| machine(m, MachineRole::Haproxy)),
        );
        let first = self.redis_machines.first().cloned().unwrap_or_default();
        Deployment {
            layout: self.layout(&addr(&self.app)),
            machines,
            masters: self
                .redis_port_list()
                .into_iter()
                .map(|p| (p, first.clone()))
                .collect(),
            app_slots: self
                .proxies
                .iter()
                .map(|p| (p.clone(), p.clone()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_is_the_seed_lab() {
        let t = Topology::seed();
        assert_eq!(t.redis_port_list(), vec![9001, 9002]);
        assert_eq!(t.app_ports(), vec![7001, 7002]);
        assert_eq!((t.proxy_port(9002), t.app_port(9002)), (8002, 7002));
        assert_eq!(
            (t.backend(9001), t.app_backend(9001)),
            ("redis_9001".into(), "8001".into())
        );
        assert_eq!(
            t.machines(),
            ["redis1", "redis2", "haproxy1", "haproxy2", "app", "monit"]
        );
        let layout = Layout::seed("10.0.0.5");
        assert_eq!(layout.redis_ports, vec![9001, 9002]);
        assert_eq!(layout.haproxy_api_port, 9999);
        assert_eq!(
            layout.app_backends,
            vec![("8001".to_string(), 8001), ("8002".to_string(), 8002)]
        );
        assert_eq!(layout.backend(9002), "redis_9002");
    }

    #[test]
    fn ports_follow_the_scheme_and_stay_apart() {
        let t = Topology::with_redis_ports(10).unwrap();
        assert_eq!(t.redis_port_list(), (9001..=9010).collect::<Vec<_>>());
        assert_eq!(t.app_ports(), (7001..=7010).collect::<Vec<_>>());
        assert_eq!(t.redis_port_of_app(7010), Some(9010));
        assert_eq!(t.redis_port_of_app(7011), None);
        assert_eq!(t.redis_port_of_app(7000), None);
        assert_eq!(t.redis_port_of_app(80), None);
        assert!(Topology::with_redis_ports(0).is_err());
        assert!(Topology::with_redis_ports(33).is_err());
        assert!(Topology::with_redis_ports(32).is_ok());

        // Past the lab's bound the scheme itself holds until redis ports reach the API.
        let wide = |n| Topology {
            redis_ports: n,
            ..Topology::seed()
        };
        assert_eq!(wide(998).check(), Ok(()));
        assert_eq!(
            wide(999).check(),
            Err("redis ports 9001..=9999 overlap runtime API ports 9999..=9999".into())
        );
        let low = Topology {
            app_base: 7990,
            ..wide(20)
        };
        assert_eq!(
            low.check(),
            Err("proxy ports 8001..=8020 overlap app ports 7991..=8010".into())
        );
        let high = Topology {
            redis_base: 65530,
            ..wide(10)
        };
        assert!(high.check().unwrap_err().contains("past 65535"));
    }

    #[test]
    fn the_deployment_monitors_every_redis_machine_and_proxy() {
        let t = Topology::with_redis_ports(3).unwrap();
        let d = t.deployment(|m| format!("addr-{m}"), |m| Some(format!("i-{m}")));
        let names: Vec<_> = d
            .machines
            .iter()
            .map(|m| (m.name.as_str(), m.role))
            .collect();
        assert_eq!(
            names,
            [
                ("redis1", MachineRole::Redis),
                ("redis2", MachineRole::Redis),
                ("haproxy1", MachineRole::Haproxy),
                ("haproxy2", MachineRole::Haproxy)
            ]
        );
        assert_eq!(d.layout.app_addr, "addr-app");
        assert_eq!(d.layout.redis_ports, vec![9001, 9002, 9003]);
        assert_eq!(d.masters.len(), 3);
        assert!(d.masters.values().all(|m| m == "redis1"));
        assert_eq!(d.app_slots["haproxy2"], "haproxy2");
        assert_eq!(d.machines[0].instance_id.as_deref(), Some("i-redis1"));
        assert_eq!(t.role_of("haproxy1"), Some(MachineRole::Haproxy));
        assert_eq!(t.role_of("app"), None);
    }
}
