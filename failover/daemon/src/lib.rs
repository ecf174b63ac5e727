//! failoverd: the failover library's controller, unchanged, driving real redis-server,
//! real haproxy and a real cloud, with what operators expect of a daemon.
//!
//! Layout:
//! - [`config`]: the TOML configuration, checked with file:line:col errors and bounds.
//! - [`daemon`]: `failoverd run`: the shell with the pieces below, signals, shutdown.
//! - [`connector`]: TCP, or a unix socket for a runtime API the configuration puts there.
//! - [`provider`]: the cloud providers (`command`, `local`, `ec2`).
//! - [`audit`]: the audit log (JSON lines); [`replay`]: feeding it back through the core.
//! - [`status`]: the picture, metrics and switch the HTTP API shares with the shell, and
//!   the shell's tap that keeps them; [`metrics`]: the Prometheus registry;
//!   [`http`]: the API's routes.
//! - [`probe`]: `check-config --probe`; [`demo`]: `failoverd demo`, a local deployment.

pub mod audit;
pub mod config;
pub mod connector;
pub mod daemon;
pub mod demo;
pub mod http;
pub mod metrics;
pub mod probe;
pub mod provider;
pub mod replay;
pub mod status;
