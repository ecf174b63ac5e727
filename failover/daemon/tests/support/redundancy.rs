//! "Fully redundant again?", asked of the real processes as the lab's checker host asks
//! its machines: per port, the master failoverd believes in is a master, every other
//! monitored redis machine is its replica with the link up (synced), every monitored
//! proxy has the master UP and the replica registered (present, not in maintenance), the
//! app's servers point at monitored proxies and are UP, and no plan is under way.

use std::time::Duration;

use failover::admin::{HaproxyAdmin, RedisAdmin};
use failover::connector::TokioConnector;
use failover::layout::{MachineRole, Topology};
use failover::observation::RedisStatus;
use serde_json::Value;

use super::deployment::get;

/// What is missing, or `Ok` when fully redundant.
pub async fn check(topology: &Topology, http: u16, app_addr: &str) -> Result<(), String> {
    let (_, body) = get(http, "/status")
        .await
        .ok_or("failoverd's /status does not answer")?;
    let status: Value = serde_json::from_str(&body).map_err(|e| format!("/status: {e}: {body}"))?;
    if status["active_plans"]
        .as_array()
        .is_none_or(|a| !a.is_empty())
    {
        return Err("a plan is under way".into());
    }
    let monitored: Vec<(String, String, MachineRole)> = status["monitored"]
        .as_array()
        .ok_or("no monitored list")?
        .iter()
        .map(|m| {
            let role = if m["role"] == "redis" {
                MachineRole::Redis
            } else {
                MachineRole::Haproxy
            };
            (
                m["name"].as_str().unwrap_or("").to_string(),
                m["addr"].as_str().unwrap_or("").to_string(),
                role,
            )
        })
        .collect();
    let addr_of = |name: &str| monitored.iter().find(|m| m.0 == name).map(|m| m.1.clone());
    let t = Duration::from_millis(500);
    let redis = RedisAdmin::new(TokioConnector, t);
    let haproxy = HaproxyAdmin::new(TokioConnector, topology.api_port, t);
    for port in topology.redis_port_list() {
        let master = status["masters"][port.to_string()]
            .as_str()
            .ok_or("no master")?
            .to_string();
        let maddr = addr_of(&master)
            .ok_or_else(|| format!("master {master} of {port} is not monitored"))?;
        match redis.status(&maddr, port).await {
            Ok(RedisStatus::Master { .. }) => {}
            other => return Err(format!("{master}:{port} is not a master: {other:?}")),
        }
        let replicas: Vec<_> = monitored
            .iter()
            .filter(|m| m.2 == MachineRole::Redis && m.0 != master)
            .collect();
        if replicas.is_empty() {
            return Err(format!("port {port} has no replica"));
        }
        for (name, addr, _) in &replicas {
            match redis.status(addr, port).await {
                Ok(RedisStatus::Replica {
                    link_up: true,
                    ref master_host,
                    ..
                }) if *master_host == maddr => {}
                other => {
                    return Err(format!(
                        "{name}:{port} is not a synced replica of {master}: {other:?}"
                    ))
                }
            }
        }
        for (proxy, paddr, _) in monitored.iter().filter(|m| m.2 == MachineRole::Haproxy) {
            let backend = topology.backend(port);
            let st = haproxy
                .status(paddr, &backend, &master)
                .await
                .map_err(|e| e.to_string())?;
            if st.as_deref() != Some("UP") {
                return Err(format!("{proxy} {backend}/{master} is {st:?}, not UP"));
            }
            for (name, _, _) in &replicas {
                let st = haproxy
                    .status(paddr, &backend, name)
                    .await
                    .map_err(|e| e.to_string())?;
                if st.is_none() || st.as_deref() == Some("MAINT") {
                    return Err(format!(
                        "{proxy} {backend}/{name} is not registered ({st:?})"
                    ));
                }
            }
        }
        let app_backend = topology.app_backend(port);
        let rows = haproxy
            .servers(app_addr, &app_backend)
            .await
            .map_err(|e| e.to_string())?;
        for row in rows {
            if !monitored
                .iter()
                .any(|m| m.2 == MachineRole::Haproxy && m.1 == row.addr)
            {
                return Err(format!(
                    "the app's {app_backend}/{} points at {}, no monitored proxy",
                    row.name, row.addr
                ));
            }
            let st = haproxy
                .status(app_addr, &app_backend, &row.name)
                .await
                .map_err(|e| e.to_string())?;
            if st.as_deref() != Some("UP") {
                return Err(format!("the app's {app_backend}/{} is {st:?}", row.name));
            }
        }
    }
    Ok(())
}
