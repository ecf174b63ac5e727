//! [`Ec2Cloud`]: the library's [`Cloud`] on EC2's API.
//!
//! Launching is idempotent twice over. EC2 returns the instance a ClientToken already
//! launched, but its DescribeInstances is eventually consistent and emulators (moto 5)
//! ignore the token; so a launch first looks for an instance tagged with the token
//! (`failover:plan`), and only then calls RunInstances with the same token, which covers
//! the window in which a fresh instance is not yet visible to DescribeInstances.

use std::fmt;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::operation::run_instances::builders::RunInstancesFluentBuilder;
use aws_sdk_ec2::types::{Filter, Instance, InstanceType, ResourceType, Tag, TagSpecification};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use failover::effects::{Cloud, InstanceState};
use failover::error::CloudError;
use failover::layout::{MachineInfo, MachineRole};

use crate::config::{Ec2Config, ImageConfig, PLAN_TAG, ROLE_TAG};
use crate::errors::{ApiFailure, INSTANCE_NOT_FOUND};
use crate::route53::Route53;

/// EC2's limit on a ClientToken.
const MAX_TOKEN_LEN: usize = 64;
/// What EC2 answers a dry run that would have succeeded.
const DRY_RUN_WOULD_SUCCEED: &str = "DryRunOperation";
/// The plan tag of a probe's dry-run launch (never a controller's token: those start
/// with a number).
const PROBE_TOKEN: &str = "probe";

/// The provider: an EC2 client, and a Route53 one when records are kept.
///
/// `Debug` shows the region, the endpoint and the zone only: the SDK clients hold the
/// credentials provider, which is never printed.
pub struct Ec2Cloud {
    ec2: aws_sdk_ec2::Client,
    route53: Option<Route53>,
    config: Ec2Config,
}

impl fmt::Debug for Ec2Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ec2Cloud")
            .field("region", &self.config.region)
            .field("endpoint_url", &self.config.endpoint_url)
            .field(
                "hosted_zone_id",
                &self.config.route53.as_ref().map(|r| &r.hosted_zone_id),
            )
            .finish_non_exhaustive()
    }
}

impl Ec2Cloud {
    /// Validates `config` and builds the clients. Credentials come from the SDK's
    /// standard chain (environment, profile, web identity, ECS, instance metadata) and
    /// are resolved at the first call, not here.
    pub async fn new(config: &Ec2Config) -> Result<Ec2Cloud, CloudError> {
        config
            .validate()
            .map_err(|e| CloudError::Other(e.to_string()))?;
        let sdk = sdk_config(&config.region).await;
        let mut ec2 = aws_sdk_ec2::config::Builder::from(&sdk);
        if let Some(url) = &config.endpoint_url {
            ec2 = ec2.endpoint_url(url);
        }
        let route53 = config.route53.as_ref().map(|r| Route53::new(&sdk, r));
        tracing::info!(
            region = %config.region,
            endpoint = config.endpoint_url.as_deref().unwrap_or("(the region's)"),
            route53 = route53.is_some(),
            "EC2 provider ready"
        );
        Ok(Ec2Cloud {
            ec2: aws_sdk_ec2::Client::from_conf(ec2.build()),
            route53,
            config: config.clone(),
        })
    }

    /// Route53 UPSERT of `<machine name><record_suffix>` A → addr, when route53 is
    /// configured (otherwise nothing is done). Returns once Route53 accepted the change;
    /// it propagates to Route53's servers within about a minute (`PENDING` → `INSYNC`).
    pub async fn upsert_record(&self, machine: &str, addr: &str) -> Result<(), CloudError> {
        match &self.route53 {
            Some(route53) => route53.upsert(machine, addr).await,
            None => {
                tracing::debug!(machine, addr, "no route53 configured: no record to update");
                Ok(())
            }
        }
    }

    fn image(&self, role: MachineRole) -> &ImageConfig {
        match role {
            MachineRole::Redis => &self.config.redis,
            MachineRole::Haproxy => &self.config.haproxy,
        }
    }

    /// The instance `token` launched, if any is visible.
    async fn launched_by(
        &self,
        role: MachineRole,
        token: &str,
    ) -> Result<Option<MachineInfo>, CloudError> {
        let out = self
            .ec2
            .describe_instances()
            .filters(
                Filter::builder()
                    .name(format!("tag:{PLAN_TAG}"))
                    .values(token)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| ApiFailure::from_sdk("DescribeInstances", e))?;
        let found: Vec<&Instance> = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .collect();
        let instance = match found.as_slice() {
            [] => return Ok(None),
            [one] => *one,
            many => {
                let ids: Vec<&str> = many.iter().filter_map(|i| i.instance_id()).collect();
                return Err(CloudError::Other(format!(
                    "instances {ids:?} all carry {PLAN_TAG}={token}; one launch token names one instance"
                )));
            }
        };
        let tagged_role = tag(instance, ROLE_TAG).unwrap_or("(none)");
        if tagged_role != role_name(role) {
            return Err(CloudError::Other(format!(
                "IdempotentParameterMismatch: token {token} launched {} as {tagged_role}, not {}",
                instance.instance_id().unwrap_or("?"),
                role_name(role)
            )));
        }
        let info = machine_info(role, instance)?;
        tracing::info!(instance = ?info.instance_id, name = %info.name, token, "launch repeated: the token's instance exists");
        Ok(Some(info))
    }

    /// RunInstances for one machine of `role`, as configured; the caller adds the tags
    /// (which name the plan) and the token.
    fn run_request(&self, role: MachineRole) -> RunInstancesFluentBuilder {
        let image = self.image(role);
        let groups = &image.security_group_ids;
        self.ec2
            .run_instances()
            .image_id(&image.image_id)
            .instance_type(InstanceType::from(image.instance_type.as_str()))
            .min_count(1)
            .max_count(1)
            .set_subnet_id(image.subnet_id.clone())
            .set_security_group_ids((!groups.is_empty()).then(|| groups.clone()))
            .set_key_name(image.key_name.clone())
    }

    /// For `failoverd check-config --probe`: each role's launch as a dry run (EC2 checks
    /// the permission and, on AWS, the image, type, subnet and groups, and launches
    /// nothing), then the hosted zone when one is configured. One line per check that
    /// answered; the first that failed is the error.
    pub async fn probe(&self) -> Result<Vec<String>, CloudError> {
        let mut lines = Vec::new();
        for role in [MachineRole::Redis, MachineRole::Haproxy] {
            let image = self.image(role);
            let request = self
                .run_request(role)
                .tag_specifications(tags(role, PROBE_TOKEN, image))
                .dry_run(true);
            match request.send().await {
                Err(e) => {
                    let failure = ApiFailure::from_sdk("RunInstances (dry run)", e);
                    if !failure.is(DRY_RUN_WOULD_SUCCEED) {
                        return Err(failure.into());
                    }
                }
                Ok(out) => {
                    // An endpoint that ignores DryRun launched one: take it back.
                    for id in out.instances().iter().filter_map(|i| i.instance_id()) {
                        self.terminate(id).await?;
                    }
                    return Err(CloudError::Other(
                        "the EC2 endpoint ignored DryRun and launched an instance (terminated again)".into(),
                    ));
                }
            }
            lines.push(format!(
                "EC2 ({}): launching a {} machine ({} from {}) would succeed",
                self.config.region,
                role_name(role),
                image.instance_type,
                image.image_id
            ));
        }
        if let Some(route53) = &self.route53 {
            lines.push(route53.probe().await?);
        }
        Ok(lines)
    }
}

impl Cloud for Ec2Cloud {
    async fn launch(&self, role: MachineRole, token: &str) -> Result<MachineInfo, CloudError> {
        check_token(token)?;
        if let Some(info) = self.launched_by(role, token).await? {
            return Ok(info);
        }
        let request = self
            .run_request(role)
            .client_token(token)
            .tag_specifications(tags(role, token, self.image(role)));
        let out = request
            .send()
            .await
            .map_err(|e| ApiFailure::from_sdk("RunInstances", e))?;
        let instance = match out.instances() {
            [one] => one,
            other => {
                return Err(CloudError::Other(format!(
                    "RunInstances returned {} instances for one",
                    other.len()
                )))
            }
        };
        let info = machine_info(role, instance)?;
        tracing::info!(
            instance = ?info.instance_id,
            name = %info.name,
            addr = %info.addr,
            state = ?instance.state().and_then(|s| s.name()).map(|n| n.as_str()),
            token,
            "launched"
        );
        Ok(info)
    }

    async fn terminate(&self, instance_id: &str) -> Result<(), CloudError> {
        match self
            .ec2
            .terminate_instances()
            .instance_ids(instance_id)
            .send()
            .await
        {
            Ok(out) => {
                let state = out
                    .terminating_instances()
                    .first()
                    .and_then(|c| c.current_state())
                    .and_then(|s| s.name())
                    .map(|n| n.as_str().to_string());
                tracing::info!(instance = instance_id, state = ?state, "terminating");
                Ok(())
            }
            Err(e) => {
                let failure = ApiFailure::from_sdk("TerminateInstances", e);
                if failure.is(INSTANCE_NOT_FOUND) {
                    // Gone for good: what terminating it was for.
                    tracing::info!(instance = instance_id, "already gone");
                    Ok(())
                } else {
                    Err(failure.into())
                }
            }
        }
    }

    async fn describe(&self, instance_id: &str) -> Result<InstanceState, CloudError> {
        let out = match self
            .ec2
            .describe_instances()
            .instance_ids(instance_id)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let failure = ApiFailure::from_sdk("DescribeInstances", e);
                return Err(if failure.is(INSTANCE_NOT_FOUND) {
                    CloudError::NotFound(instance_id.to_string())
                } else {
                    failure.into()
                });
            }
        };
        let instance = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| i.instance_id() == Some(instance_id))
            .ok_or_else(|| CloudError::NotFound(instance_id.to_string()))?;
        let name = instance
            .state()
            .and_then(|s| s.name())
            .ok_or_else(|| CloudError::Other(format!("{instance_id} has no state")))?;
        state_from_name(instance_id, name.as_str())
    }
}

/// One HTTPS client (rustls on ring; plain HTTP too, for moto) for every SDK client, and
/// bounded waits: a connect that hangs, or an endpoint that never answers, fails the
/// call instead of holding the controller's step for ever.
async fn sdk_config(region: &str) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(120))
        .build();
    aws_config::defaults(BehaviorVersion::v2026_01_12())
        .region(Region::new(region.to_string()))
        .http_client(http)
        .timeout_config(timeouts)
        .load()
        .await
}

/// The controller's tokens are `<epoch>-plan-<id>`; anything EC2 would refuse, or that a
/// tag filter would read as a wildcard, is refused here with the reason.
fn check_token(token: &str) -> Result<(), CloudError> {
    let ok = !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token
            .bytes()
            .all(|b| (0x21..0x7f).contains(&b) && !matches!(b, b'*' | b'?' | b'\\'));
    if ok {
        Ok(())
    } else {
        Err(CloudError::Other(format!(
            "launch token {token:?} must be 1 to {MAX_TOKEN_LEN} printable ASCII characters without spaces, `*`, `?` or `\\`"
        )))
    }
}

fn role_name(role: MachineRole) -> &'static str {
    match role {
        MachineRole::Redis => "redis",
        MachineRole::Haproxy => "haproxy",
    }
}

fn tag<'a>(instance: &'a Instance, key: &str) -> Option<&'a str> {
    instance
        .tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// The provider's tags (role, plan) and the configured ones, set at launch so an
/// instance is never visible untagged.
fn tags(role: MachineRole, token: &str, image: &ImageConfig) -> TagSpecification {
    let own = [(ROLE_TAG, role_name(role)), (PLAN_TAG, token)];
    let configured = image.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    own.into_iter()
        .chain(configured)
        .fold(
            TagSpecification::builder().resource_type(ResourceType::Instance),
            |spec, (key, value)| spec.tags(Tag::builder().key(key).value(value).build()),
        )
        .build()
}

/// The machine as the controller knows it: named after its role and instance id (unique,
/// stable across a repeated launch, and a DNS label), reached at its private address.
fn machine_info(role: MachineRole, instance: &Instance) -> Result<MachineInfo, CloudError> {
    let id = instance
        .instance_id()
        .ok_or_else(|| CloudError::Other("EC2 returned an instance without an id".into()))?;
    let addr = instance.private_ip_address().ok_or_else(|| {
        CloudError::Other(format!(
            "{id} has no private IP address (state {:?})",
            instance.state().and_then(|s| s.name()).map(|n| n.as_str())
        ))
    })?;
    Ok(MachineInfo {
        name: format!("{}-{id}", role_name(role)),
        addr: addr.to_string(),
        role,
        instance_id: Some(id.to_string()),
    })
}

/// EC2's state names; stopping and stopped are not states failover puts a machine in,
/// and the trait has no word for them, so they are reported as errors that say so.
fn state_from_name(instance_id: &str, name: &str) -> Result<InstanceState, CloudError> {
    match name {
        "pending" => Ok(InstanceState::Pending),
        "running" => Ok(InstanceState::Running),
        "shutting-down" => Ok(InstanceState::ShuttingDown),
        "terminated" => Ok(InstanceState::Terminated),
        other => Err(CloudError::Other(format!(
            "{instance_id} is {other}: failover neither stops nor starts instances"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_map_by_name() {
        let cases = [
            ("pending", InstanceState::Pending),
            ("running", InstanceState::Running),
            ("shutting-down", InstanceState::ShuttingDown),
            ("terminated", InstanceState::Terminated),
        ];
        for (name, state) in cases {
            assert_eq!(state_from_name("i-1", name), Ok(state));
        }
        assert!(matches!(
            state_from_name("i-1", "stopped"),
            Err(CloudError::Other(m)) if m.contains("i-1 is stopped")
        ));
    }

    #[test]
    fn tokens_are_checked() {
        assert!(check_token("1234abcd-plan-7").is_ok());
        assert!(check_token(&"x".repeat(64)).is_ok());
        for bad in ["", "a b", "plan-*", "plan-?", "a\\b", "é"] {
            assert!(check_token(bad).is_err(), "{bad:?}");
        }
        assert!(check_token(&"x".repeat(65)).is_err());
    }

    #[test]
    fn tags_are_the_role_the_plan_and_the_configured_ones() {
        let image = ImageConfig {
            image_id: "ami-12c6146b".into(),
            instance_type: "t3.micro".into(),
            subnet_id: None,
            security_group_ids: vec![],
            tags: [("team".to_string(), "cache".to_string())].into(),
            key_name: None,
        };
        let spec = tags(MachineRole::Haproxy, "9-plan-2", &image);
        let pairs: Vec<(&str, &str)> = spec
            .tags()
            .iter()
            .map(|t| (t.key().unwrap(), t.value().unwrap()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("failover:role", "haproxy"),
                ("failover:plan", "9-plan-2"),
                ("team", "cache")
            ]
        );
        assert_eq!(spec.resource_type(), Some(&ResourceType::Instance));
    }
}
