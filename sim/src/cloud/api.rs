//! [`SimCloud`]: the [`Cloud`] the controller calls from inside the simulation. Each call
//! waits its API latency in simulated time, then acts on the shared [`CloudState`].
//!
//! The state sits in an `Rc<RefCell<_>>` shared with the driver loop outside the
//! simulation: the lab is single-threaded and no borrow is held across an `.await`, so
//! the two sides never overlap.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use failover::effects::{Cloud, CloudError, InstanceState};
use failover::layout::{MachineInfo, MachineRole};

use super::state::{role_of_name, CloudState};
use super::timing::DESCRIBE_LATENCY;

/// The simulated EC2 API. Cloning shares the same cloud.
#[derive(Clone)]
pub struct SimCloud {
    state: Rc<RefCell<CloudState>>,
}

impl SimCloud {
    /// An empty cloud whose every draw follows from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            state: Rc::new(RefCell::new(CloudState::new(seed))),
        }
    }

    /// A cloud in which every `(name, ip)` is a running instance `i-<name>`. Launches
    /// continue each role's numbering.
    pub fn with_machines<'a>(
        seed: u64,
        machines: impl IntoIterator<Item = (&'a str, std::net::IpAddr)>,
    ) -> Self {
        let cloud = Self::new(seed);
        for (name, ip) in machines {
            cloud.register_seed_machine(name, ip);
        }
        cloud
    }

    /// Registers a seed machine as a running instance `i-<name>`.
    pub fn register_seed_machine(&self, name: &str, ip: std::net::IpAddr) {
        self.state
            .borrow_mut()
            .register(name, role_of_name(name), &ip.to_string());
    }

    /// The shared state, for the driver (between steps) and for tests.
    pub fn state(&self) -> &Rc<RefCell<CloudState>> {
        &self.state
    }

    /// Simulated time inside the simulation; `None` when called from outside a host,
    /// where the API cannot run (its latencies are simulated sleeps).
    fn now() -> Result<Duration, CloudError> {
        turmoil::sim_elapsed()
            .ok_or_else(|| CloudError::Other("the EC2 API is only reachable in the lab".into()))
    }
}

impl Cloud for SimCloud {
    async fn launch(&self, role: MachineRole, token: &str) -> Result<MachineInfo, CloudError> {
        Self::now()?;
        let latency = self.state.borrow_mut().api_latency();
        tokio::time::sleep(latency).await;
        let now = Self::now()?;
        // turmoil's DNS gives a new name the next free IP, the one `sim.host` will
        // use for it when it boots.
        self.state
            .borrow_mut()
            .launch(role, token, now, |name| turmoil::lookup(name).to_string())
    }

    async fn terminate(&self, instance_id: &str) -> Result<(), CloudError> {
        Self::now()?;
        let latency = self.state.borrow_mut().api_latency();
        tokio::time::sleep(latency).await;
        let now = Self::now()?;
        self.state.borrow_mut().terminate(instance_id, now)
    }

    async fn describe(&self, instance_id: &str) -> Result<InstanceState, CloudError> {
        Self::now()?;
        tokio::time::sleep(DESCRIBE_LATENCY).await;
        let now = Self::now()?;
        self.state.borrow().describe(instance_id, now)
    }
}
