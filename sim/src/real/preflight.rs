//! What the real world needs before it starts: root (nftables), nft, redis-server and
//! haproxy; and a scenario whose every fault it can make.

use scenario::{FaultAction, Scenario};

#[derive(Debug, thiserror::Error)]
pub enum RealError {
    #[error("the real world needs root: it silences and cuts machines with an nftables table of its own (run as root, as .ci/run does)")]
    NotRoot,
    #[error("{0} is not installed: run `apt-get install -y redis-server haproxy nftables` (as .ci/run does)")]
    Missing(&'static str),
    #[error("fault {index} ({kind}) cannot be made in the real world: {why}")]
    Unsupported {
        index: usize,
        kind: String,
        why: String,
    },
    #[error("the real world could not start: {0}")]
    Start(String),
    #[error(
        "the real run was interrupted (Ctrl-C); every process and the nftables table were removed"
    )]
    Interrupted,
}

fn found(bin: &str) -> bool {
    let in_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
        .unwrap_or(false);
    in_path
        || ["/usr/sbin", "/sbin", "/usr/bin"]
            .iter()
            .any(|d| std::path::Path::new(d).join(bin).is_file())
}

/// Checks the machine, then the scenario.
pub fn check(scenario: &Scenario) -> Result<(), RealError> {
    if !failover_local::nft::is_root() {
        return Err(RealError::NotRoot);
    }
    for bin in ["nft", "redis-server", "haproxy"] {
        if !found(bin) {
            return Err(RealError::Missing(bin));
        }
    }
    check_faults(scenario)
}

/// This kernel has no netem, and there is no userspace relay: latency faults are refused
/// rather than silently run without their latency. Pausing the controller, which runs in
/// this process, is refused too.
pub fn check_faults(scenario: &Scenario) -> Result<(), RealError> {
    for (index, f) in scenario.faults.iter().enumerate() {
        let why = match &f.action {
            FaultAction::Latency { .. } => Some(
                "added latency needs netem (tc qdisc), which this kernel lacks; the real world has no userspace relay".to_string(),
            ),
            FaultAction::Pause { process, .. } if process == "controller" => {
                Some("the controller runs inside failover-sim; it can be killed and restarted, not frozen".to_string())
            }
            _ => None,
        };
        if let Some(why) = why {
            return Err(RealError::Unsupported {
                index,
                kind: f.action.kind().to_string(),
                why,
            });
        }
    }
    if scenario.topology.latency.as_millis() > 5 {
        return Err(RealError::Unsupported {
            index: 0,
            kind: "topology latency".into(),
            why: format!(
                "[topology] latency = {} ms needs netem; loopback has none (the lab's default is 1 ms or less)",
                scenario.topology.latency.as_millis()
            ),
        });
    }
    Ok(())
}
