//! The optional DNS step: an A record per app-facing machine, UPSERTed when the machine's
//! address changes, so the app can follow a replacement by name.

use std::net::Ipv4Addr;

use aws_config::SdkConfig;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use failover::error::CloudError;

use crate::config::Route53Config;
use crate::errors::ApiFailure;

pub(crate) struct Route53 {
    client: aws_sdk_route53::Client,
    config: Route53Config,
}

impl Route53 {
    pub(crate) fn new(sdk: &SdkConfig, config: &Route53Config) -> Route53 {
        let mut builder = aws_sdk_route53::config::Builder::from(sdk);
        if let Some(url) = &config.endpoint_url {
            builder = builder.endpoint_url(url);
        }
        Route53 {
            client: aws_sdk_route53::Client::from_conf(builder.build()),
            config: config.clone(),
        }
    }

    /// The zone answers and is the one configured.
    pub(crate) async fn probe(&self) -> Result<String, CloudError> {
        let out = self
            .client
            .get_hosted_zone()
            .id(&self.config.hosted_zone_id)
            .send()
            .await
            .map_err(|e| ApiFailure::from_sdk("GetHostedZone", e))?;
        let name = out.hosted_zone().map_or("?", |z| z.name());
        Ok(format!(
            "Route53: hosted zone {} ({name}) answered; records will be <machine>{}",
            self.config.hosted_zone_id, self.config.record_suffix
        ))
    }

    pub(crate) async fn upsert(&self, machine: &str, addr: &str) -> Result<(), CloudError> {
        let name = self
            .config
            .record_name(machine)
            .map_err(CloudError::Other)?;
        let ip: Ipv4Addr = addr.parse().map_err(|_| {
            CloudError::Other(format!(
                "{machine}'s address {addr:?} is not an IPv4 address, which an A record needs"
            ))
        })?;
        let change = upsert_change(&name, ip, self.config.ttl)
            .map_err(|e| CloudError::Other(format!("building the change of {name}: {e}")))?;
        let out = self
            .client
            .change_resource_record_sets()
            .hosted_zone_id(&self.config.hosted_zone_id)
            .change_batch(change)
            .send()
            .await
            .map_err(|e| ApiFailure::from_sdk("ChangeResourceRecordSets", e))?;
        let info = out.change_info();
        tracing::info!(
            record = %name,
            addr = %ip,
            zone = %self.config.hosted_zone_id,
            change = info.map_or("?", |i| i.id()),
            status = info.map_or("?", |i| i.status().as_str()),
            "DNS record upserted"
        );
        Ok(())
    }
}

fn upsert_change(
    name: &str,
    ip: Ipv4Addr,
    ttl: u32,
) -> Result<ChangeBatch, aws_sdk_route53::error::BuildError> {
    let record = ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::A)
        .ttl(i64::from(ttl))
        .resource_records(ResourceRecord::builder().value(ip.to_string()).build()?)
        .build()?;
    let change = Change::builder()
        .action(ChangeAction::Upsert)
        .resource_record_set(record)
        .build()?;
    ChangeBatch::builder()
        .comment("failover: the machine's address changed")
        .changes(change)
        .build()
}
