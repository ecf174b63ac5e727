//! The controller's cloud in the real world: the simulated EC2's control plane
//! (`cloud::CloudState`: API latencies, launch and boot times, capacity errors and slow
//! boots armed by the nemesis, idempotent tokens, all drawn from the run's seed) decides
//! *when*; the `local` cloud of `failover-local` makes the machine: a fresh loopback
//! address whose processes start at the drawn boot time. Both worlds face the same cloud.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use failover::config::Policy;
use failover::effects::{Cloud, CloudError, InstanceState};
use failover::layout::{MachineInfo, MachineRole, Topology};
use failover_local::{Binaries, LocalCloud};

use super::images;
use crate::cloud::state::CloudState;
use crate::cloud::timing::DESCRIBE_LATENCY;

#[derive(Clone)]
pub struct RealCloud {
    pub state: Rc<RefCell<CloudState>>,
    pub local: LocalCloud,
    pub start: Instant,
    pub topology: Rc<Topology>,
    /// The failover design the replacements are configured for.
    pub policy: Policy,
    pub bins: Binaries,
}

impl Cloud for RealCloud {
    async fn launch(&self, role: MachineRole, token: &str) -> Result<MachineInfo, CloudError> {
        let latency = self.state.borrow_mut().api_latency();
        tokio::time::sleep(latency).await;
        let now = self.start.elapsed();
        // The address is the local cloud's to give; the control plane's is replaced.
        let info = self
            .state
            .borrow_mut()
            .launch(role, token, now, |_| String::new())?;
        let boot_at = self
            .state
            .borrow()
            .instance(info.instance_id.as_deref().unwrap_or_default())
            .map(|i| i.boot_at)
            .unwrap_or(now);
        let software =
            images::replacement(&self.topology, self.policy, &info.name, role, &self.bins);
        let record = self.local.launch_named(
            token,
            &info.name,
            role,
            software,
            boot_at.saturating_sub(now),
        )?;
        Ok(MachineInfo {
            addr: record.ip.to_string(),
            ..info
        })
    }

    async fn terminate(&self, instance_id: &str) -> Result<(), CloudError> {
        let latency = self.state.borrow_mut().api_latency();
        tokio::time::sleep(latency).await;
        let now = self.start.elapsed();
        // The machine itself is ended by the world's driver when the control plane says.
        self.state.borrow_mut().terminate(instance_id, now)
    }

    async fn describe(&self, instance_id: &str) -> Result<InstanceState, CloudError> {
        tokio::time::sleep(DESCRIBE_LATENCY).await;
        let now = self.start.elapsed();
        self.state.borrow().describe(instance_id, now)
    }
}
