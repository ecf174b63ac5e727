//! What the moto tests share: a moto server of their own, a fault-injecting front, and
//! raw SDK clients to set up and inspect what the provider did.

#![allow(dead_code)] // each test binary uses its own part

pub mod fault_front;
pub mod moto;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use failover_ec2::{Ec2Config, ImageConfig, Route53Config};

pub const REGION: &str = "us-east-1";
/// One of the AMIs moto knows.
pub const AMI: &str = "ami-12c6146b";

/// An SDK configuration for the tests' own calls (setting up subnets, reading tags).
pub async fn sdk(endpoint: &str) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .http_client(http)
        .load()
        .await
}

pub async fn ec2(endpoint: &str) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&sdk(endpoint).await)
}

/// A VPC, a subnet and a security group in moto, for launches to use.
pub struct Network {
    pub subnet_id: String,
    pub group_id: String,
}

pub async fn network(endpoint: &str) -> Network {
    let ec2 = ec2(endpoint).await;
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.20.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc_id = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.20.1.0/24")
        .send()
        .await
        .unwrap();
    let group = ec2
        .create_security_group()
        .group_name("redis")
        .description("failover test")
        .vpc_id(&vpc_id)
        .send()
        .await
        .unwrap();
    Network {
        subnet_id: subnet.subnet().unwrap().subnet_id().unwrap().to_string(),
        group_id: group.group_id().unwrap().to_string(),
    }
}

pub fn image(network: Option<&Network>, instance_type: &str) -> ImageConfig {
    ImageConfig {
        image_id: AMI.into(),
        instance_type: instance_type.into(),
        subnet_id: network.map(|n| n.subnet_id.clone()),
        security_group_ids: network
            .map(|n| vec![n.group_id.clone()])
            .unwrap_or_default(),
        tags: [("team".to_string(), "cache".to_string())].into(),
        key_name: None,
    }
}

pub fn config(endpoint: &str, network: Option<&Network>) -> Ec2Config {
    Ec2Config {
        region: REGION.into(),
        endpoint_url: Some(endpoint.into()),
        redis: image(network, "r5.large"),
        haproxy: image(network, "t3.micro"),
        route53: None,
    }
}

pub fn route53(endpoint: &str, zone_id: &str) -> Route53Config {
    Route53Config {
        hosted_zone_id: zone_id.into(),
        record_suffix: ".lb.example.internal".into(),
        ttl: 30,
        endpoint_url: Some(endpoint.into()),
    }
}
