//! What the controller must know about the deployment it guards: which machines run what,
//! on which ports, and how haproxy names things. In the seed lab this is fixed; in
//! production it comes from `failoverd`'s configuration.

use serde::{Deserialize, Serialize};

/// What a machine is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MachineRole {
    Redis,
    Haproxy,
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
    /// The seed lab: ports 9001/9002, backends `redis_9001`/`redis_9002`, runtime APIs on
    /// 9999, the app's haproxy forwarding its backends `8001`/`8002`.
    pub fn seed(app_addr: &str) -> Self {
        Self {
            redis_ports: vec![9001, 9002],
            haproxy_api_port: 9999,
            backend_prefix: "redis_".into(),
            app_addr: app_addr.into(),
            app_backends: vec![("8001".into(), 8001), ("8002".into(), 8002)],
        }
    }

    pub fn backend(&self, port: u16) -> String {
        format!("{}{port}", self.backend_prefix)
    }
}
