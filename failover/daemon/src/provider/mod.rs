//! The cloud providers behind `failover::effects::Cloud`, chosen by `[cloud] provider`.

pub mod command;

use failover::effects::{Cloud, CloudError, InstanceState};
use failover::layout::{MachineInfo, MachineRole};

use crate::config::{Config, ProviderKind};

pub enum Provider {
    Command(command::CommandCloud),
    Local(failover_local::LocalCloud),
    // Boxed: the SDK's clients are large, and a Provider is moved around by value.
    Ec2(Box<failover_ec2::Ec2Cloud>),
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
            ProviderKind::Ec2 => {
                let ec2 = c.ec2.as_ref().expect("checked");
                failover_ec2::Ec2Cloud::new(ec2)
                    .await
                    .map(|c| Provider::Ec2(Box::new(c)))
                    .map_err(|e| format!("cannot set up the EC2 provider: {e}"))
            }
        }
    }

    /// Points DNS at a new app-facing proxy, when the provider does DNS.
    pub async fn app_facing_changed(&self, machine: &str, addr: &str) -> Result<(), CloudError> {
        match self {
            Provider::Ec2(c) => c.upsert_record(machine, addr).await,
            Provider::Command(_) | Provider::Local(_) => Ok(()),
        }
    }

    /// For `check-config --probe`: what the provider's API answered (EC2's dry-run
    /// launches and hosted zone); the others have nothing to ask before a launch.
    pub async fn probe(&self) -> Result<Vec<String>, CloudError> {
        match self {
            Provider::Ec2(c) => c.probe().await,
            Provider::Command(_) => Ok(vec![
                "command provider: nothing to ask before a launch".into()
            ]),
            Provider::Local(_) => Ok(vec!["local provider: this machine".into()]),
        }
    }
}

impl Cloud for Provider {
    async fn launch(&self, role: MachineRole, token: &str) -> Result<MachineInfo, CloudError> {
        match self {
            Provider::Command(c) => c.launch(role, token).await,
            Provider::Local(c) => c.launch(role, token).await,
            Provider::Ec2(c) => c.launch(role, token).await,
        }
    }

    async fn terminate(&self, instance_id: &str) -> Result<(), CloudError> {
        match self {
            Provider::Command(c) => c.terminate(instance_id).await,
            Provider::Local(c) => c.terminate(instance_id).await,
            Provider::Ec2(c) => c.terminate(instance_id).await,
        }
    }

    async fn describe(&self, instance_id: &str) -> Result<InstanceState, CloudError> {
        match self {
            Provider::Command(c) => c.describe(instance_id).await,
            Provider::Local(c) => c.describe(instance_id).await,
            Provider::Ec2(c) => c.describe(instance_id).await,
        }
    }
}
