//! `check-config --probe`: connects to every endpoint the configuration names and says
//! what answered, with the same admin clients the controller uses.

use std::time::Duration;

use failover::admin::{HaproxyAdmin, RedisAdmin};
use failover::layout::MachineRole;

use crate::config::{Config, ProviderKind};
use crate::connector::DaemonConnector;

/// (what, where, what answered or why not), and whether everything answered.
pub async fn probe(config: &Config) -> (Vec<String>, bool) {
    let timeout = Duration::from_millis(config.controller.poll_timeout_ms);
    let connector = DaemonConnector::new(config.topology.api_port, config.runtime_apis.clone());
    let redis = RedisAdmin::new(connector.clone(), timeout);
    let haproxy = HaproxyAdmin::new(connector.clone(), config.topology.api_port, timeout);
    let mut lines = Vec::new();
    let mut all = true;
    let mut answer = |what: String, at: String, r: Result<String, String>| {
        all &= r.is_ok();
        lines.push(match r {
            Ok(a) => format!("ok    {what} at {at}: {a}"),
            Err(e) => format!("FAIL  {what} at {at}: {e}"),
        });
    };
    for m in &config.deployment.machines {
        match m.role {
            MachineRole::Redis => {
                for port in config.topology.redis_port_list() {
                    let r = tokio::time::timeout(timeout, redis.status(&m.addr, port)).await;
                    let r = match r {
                        Ok(Ok(s)) => Ok(format!("{s:?}")),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
                    };
                    answer(format!("{} redis", m.name), format!("{}:{port}", m.addr), r);
                }
            }
            MachineRole::Haproxy => {
                let at = connector
                    .endpoint(&m.addr, config.topology.api_port)
                    .to_string();
                let r = tokio::time::timeout(timeout, haproxy.ping(&m.addr)).await;
                let r = match r {
                    Ok(Ok(())) => Ok("runtime API answered".into()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
                };
                answer(format!("{} runtime API", m.name), at, r);
            }
        }
    }
    let app = &config.deployment.layout.app_addr;
    let at = connector
        .endpoint(app, config.topology.api_port)
        .to_string();
    let r = match tokio::time::timeout(timeout, haproxy.ping(app)).await {
        Ok(Ok(())) => Ok("runtime API answered".into()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
    };
    answer("app runtime API".into(), at, r);
    // Only EC2 has an API to ask before a launch; opening the local cloud would create
    // its directory, and the command provider's commands launch for real.
    if config.cloud.provider == ProviderKind::Ec2 {
        let r = match crate::provider::Provider::new(config).await {
            Ok(p) => p
                .probe()
                .await
                .map(|l| l.join("; "))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        answer("cloud".into(), "ec2".into(), r);
    }
    (lines, all)
}
