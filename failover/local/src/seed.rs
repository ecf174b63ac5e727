//! The seed deployment as local machines: the topology's redis machines (the first master
//! of every port, the others its replicas), its proxies routing to them, and the app's
//! haproxy routing to the proxies. Used by failoverd's real-process tests and its demo.

use std::time::{Duration, Instant};

use failover::admin::{HaproxyAdmin, RedisAdmin};
use failover::connector::TokioConnector;
use failover::effects::CloudError;
use failover::layout::{MachineRole, Topology};
use failover::observation::RedisStatus;

use crate::cloud::{LocalCloud, MachineRecord};
use crate::software::Software;

/// The token of a seed machine (`seed-<name>`), apart from any plan's.
pub fn token(name: &str) -> String {
    format!("seed-{name}")
}

/// Launches every machine of the seed deployment at once (no boot delay); the app's
/// machine is named `app`.
pub fn launch(cloud: &LocalCloud, t: &Topology) -> Result<Vec<MachineRecord>, CloudError> {
    let now = Duration::ZERO;
    let mut out = Vec::new();
    let mut master = None;
    for name in &t.redis_machines {
        let software = Software::Redis { replica_of: master };
        let r = cloud.launch_named(&token(name), name, MachineRole::Redis, software, now)?;
        master = master.or(Some(r.ip));
        out.push(r);
    }
    let servers: Vec<_> = out.iter().map(|r| (r.name.clone(), r.ip)).collect();
    let mut proxies = Vec::new();
    for name in &t.proxies {
        let software = Software::Proxy {
            servers: servers.clone(),
        };
        let r = cloud.launch_named(&token(name), name, MachineRole::Haproxy, software, now)?;
        proxies.push((r.name.clone(), r.ip));
        out.push(r);
    }
    out.push(cloud.launch_named(
        &token("app"),
        "app",
        MachineRole::Haproxy,
        Software::App { proxies },
        now,
    )?);
    Ok(out)
}

/// Waits until every replica is in sync with the first redis machine on every port and
/// every proxy routes each port to it; the error says what was still missing.
pub async fn wait_ready(cloud: &LocalCloud, t: &Topology, limit: Duration) -> Result<(), String> {
    let start = Instant::now();
    let redis = RedisAdmin::new(TokioConnector, Duration::from_millis(500));
    let haproxy = HaproxyAdmin::new(TokioConnector, t.api_port, Duration::from_millis(500));
    let ip = |name: &str| {
        cloud
            .machine(name)
            .map(|r| r.ip.to_string())
            .unwrap_or_default()
    };
    let master = t.redis_machines.first().cloned().unwrap_or_default();
    loop {
        let mut missing = None;
        'check: for port in t.redis_port_list() {
            for replica in t.redis_machines.iter().skip(1) {
                match redis.status(&ip(replica), port).await {
                    Ok(RedisStatus::Replica {
                        link_up: true,
                        master_host,
                        ..
                    }) if master_host == ip(&master) => {}
                    other => {
                        missing = Some(format!("{replica}:{port} is not in sync: {other:?}"));
                        break 'check;
                    }
                }
            }
            for proxy in &t.proxies {
                let st = haproxy.status(&ip(proxy), &t.backend(port), &master).await;
                if !matches!(st.as_ref().map(|s| s.as_deref()), Ok(Some("UP"))) {
                    missing = Some(format!("{proxy} does not route {port} to {master}: {st:?}"));
                    break 'check;
                }
            }
        }
        match missing {
            None => return Ok(()),
            Some(why) if start.elapsed() > limit => {
                return Err(format!(
                    "the seed deployment is not ready after {limit:?}: {why}"
                ))
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
