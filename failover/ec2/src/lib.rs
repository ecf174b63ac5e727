//! failover's EC2 provider: the library's [`failover::effects::Cloud`] on the AWS SDK for
//! Rust, and the optional Route53 record of an app-facing machine.
//!
//! Layout:
//! - [`config`]: [`Ec2Config`] as failoverd's configuration holds it, with the bounds of
//!   every field ([`Ec2Config::validate`]).
//! - [`cloud`]: [`Ec2Cloud`]: RunInstances with the controller's token as ClientToken
//!   (idempotent), DescribeInstances, TerminateInstances (already gone is done), and
//!   [`Ec2Cloud::probe`] (dry-run launches) for `failoverd check-config --probe`.
//! - `route53`: [`Ec2Cloud::upsert_record`]'s UPSERT of an A record.
//! - `errors`: SDK failures as [`failover::error::CloudError`] kinds
//!   (`InsufficientInstanceCapacity` is `Capacity`; the rest `Other`, `NotFound`).
//!
//! Credentials come only from the SDK's standard chain and appear in no type of this
//! crate. The endpoint can be set (moto, a VPC endpoint).
//!
//! Tests (`tests/moto.rs`) run against moto's server on loopback, never AWS. moto cannot
//! answer with a capacity error, so the capacity path goes through a fault-injecting HTTP
//! front in the test (plain tokio, `tests/support/fault_front.rs`) that answers
//! RunInstances with EC2's `InsufficientInstanceCapacity` error while armed and forwards
//! everything else to moto.
//!
//! Build cost: the SDK's service crates are the largest in the workspace; the workspace
//! compiles them unoptimized and without debug info in dev builds, and this crate turns
//! the SDK's default features off (one TLS stack, rustls on ring; no aws-lc C build).
//! Measured figures are in the crate's README.md.

pub mod cloud;
pub mod config;
mod errors;
mod route53;

pub use cloud::Ec2Cloud;
pub use config::{Ec2Config, Ec2ConfigError, ImageConfig, Route53Config};
