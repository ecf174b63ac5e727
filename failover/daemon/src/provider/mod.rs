//! The cloud providers behind `failover::effects::Cloud`, chosen by `[cloud] provider`.

pub mod command;

use failover::effects::{Cloud, CloudError, InstanceState};
use failover::layout::{MachineInfo, MachineRole};

use crate::config::{Config, ProviderKind};

pub enum Provider {
    Command(command::CommandCloud),
    Local(failover_local::LocalCloud),
}

impl Provider {
    pub async fn new(config: &Config) -> Result<Provider, String> {
        let c = &config.cloud;
        match c.provider {
            ProviderKind::Command => Ok(Provider::Command(command::CommandCloud::new(
                c.command.clone().expect("checked"),
            ))),
            ProviderKind::Local => {
                let l = c.local.clone().expect("checked");
                let cloud = failover_local::LocalCloud::open(
                    &l.state_dir,
                    l.boot_delay.to_std(),
                    failover_local::Ports::of(&config.topology),
                    failover_local::Binaries {
                        redis_server: l.redis_server,
                        haproxy: l.haproxy,
                    },
                )
                .map_err(|e| {
                    format!(
                        "cannot open the local cloud's directory {}: {e}",
                        l.state_dir.display()
                    )
                })?;
                Ok(Provider::Local(cloud))
            }
            ProviderKind::Ec2 => Err("the ec2 provider is not built yet".into()),
        }
    }

    /// Points DNS at a new app-facing proxy, when the provider does DNS.
    pub async fn app_facing_changed(&self, _machine: &str, _addr: &str) -> Result<(), CloudError> {
        Ok(())
    }
}

impl Cloud for Provider {
    async fn launch(&self, role: MachineRole, token: &str) -> Result<MachineInfo, CloudError> {
        match self {
            Provider::Command(c) => c.launch(role, token).await,
            Provider::Local(c) => c.launch(role, token).await,
        }
    }

    async fn terminate(&self, instance_id: &str) -> Result<(), CloudError> {
        match self {
            Provider::Command(c) => c.terminate(instance_id).await,
            Provider::Local(c) => c.terminate(instance_id).await,
        }
    }

    async fn describe(&self, instance_id: &str) -> Result<InstanceState, CloudError> {
        match self {
            Provider::Command(c) => c.describe(instance_id).await,
            Provider::Local(c) => c.describe(instance_id).await,
        }
    }
}
