//! What the controller's integration tests share: the seed deployment they start from.

use failover_core::config::Deployment;
use failover_core::layout::{Layout, MachineInfo, MachineRole};

/// The seed's four monitored machines, redis1 master of both ports, the app's two slots.
pub fn deployment() -> Deployment {
    let m = |name: &str, role| MachineInfo {
        name: name.into(),
        addr: format!("addr-{name}"),
        role,
        instance_id: Some(format!("i-{name}")),
    };
    Deployment {
        layout: Layout::seed("addr-app"),
        machines: vec![
            m("redis1", MachineRole::Redis),
            m("redis2", MachineRole::Redis),
            m("haproxy1", MachineRole::Haproxy),
            m("haproxy2", MachineRole::Haproxy),
        ],
        masters: [(9001, "redis1".to_string()), (9002, "redis1".to_string())].into(),
        app_slots: [
            ("haproxy1".to_string(), "haproxy1".to_string()),
            ("haproxy2".to_string(), "haproxy2".to_string()),
        ]
        .into(),
    }
}
