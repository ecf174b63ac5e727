//! The configuration file's form, as serde reads it. Every table refuses unknown keys, so
//! a misspelt setting is an error at its line rather than a default silently kept.

use std::path::PathBuf;

use failover::plan::StepKind;
use scenario::SimDuration;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Where the controller's state is kept between restarts.
    pub state_file: PathBuf,
    /// The audit log (JSON lines), appended to.
    pub audit_log: PathBuf,
    /// The HTTP API's address (`host:port`); none means no HTTP API.
    #[serde(default)]
    pub listen: Option<String>,
    /// How long SIGTERM waits for the steps under way.
    #[serde(default = "default_grace")]
    pub shutdown_grace: SimDuration,
    #[serde(default)]
    pub log_format: LogFormat,
    #[serde(default)]
    pub topology: TopologyFile,
    pub redis: Vec<MachineFile>,
    pub haproxy: Vec<MachineFile>,
    pub app: AppFile,
    #[serde(default)]
    pub detection: DetectionFile,
    #[serde(default)]
    pub recovery: RecoveryFile,
    pub cloud: CloudFile,
}

fn default_grace() -> SimDuration {
    SimDuration::from_secs(10)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The port scheme (see `failover::layout::Topology`); the defaults are the seed's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopologyFile {
    pub redis_ports: u16,
    pub redis_base: u16,
    pub proxy_base: u16,
    pub app_base: u16,
    pub api_port: u16,
    pub backend_prefix: String,
}

impl Default for TopologyFile {
    fn default() -> Self {
        let seed = failover::layout::Topology::seed();
        TopologyFile {
            redis_ports: seed.redis_ports,
            redis_base: seed.redis_base,
            proxy_base: seed.proxy_base,
            app_base: seed.app_base,
            api_port: seed.api_port,
            backend_prefix: seed.backend_prefix,
        }
    }
}

/// A redis machine or a redis proxy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineFile {
    pub name: String,
    pub addr: String,
    #[serde(default)]
    pub instance_id: Option<String>,
    /// A proxy's runtime API, when not `addr:api_port`: `host:port` or a unix socket path.
    #[serde(default)]
    pub runtime_api: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppFile {
    pub addr: String,
    #[serde(default)]
    pub runtime_api: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectionFile {
    pub interval: SimDuration,
    pub fail_count: u32,
    pub poll_timeout: SimDuration,
}

impl Default for DetectionFile {
    fn default() -> Self {
        let c = failover::config::ControllerConfig::default();
        DetectionFile {
            interval: SimDuration::from_millis(c.interval_ms),
            fail_count: c.fail_count,
            poll_timeout: SimDuration::from_millis(c.poll_timeout_ms),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoveryFile {
    pub retry_min: SimDuration,
    pub retry_max: SimDuration,
    pub capacity_retry: SimDuration,
    pub reachable_timeout: SimDuration,
    pub check_inter: SimDuration,
    pub check_fall: u32,
    pub check_rise: u32,
    pub failed_redis: Vec<StepKind>,
    pub failed_haproxy: Vec<StepKind>,
}

impl Default for RecoveryFile {
    fn default() -> Self {
        let c = failover::config::ControllerConfig::default();
        RecoveryFile {
            retry_min: SimDuration::from_millis(c.retry_min_ms),
            retry_max: SimDuration::from_millis(c.retry_max_ms),
            capacity_retry: SimDuration::from_millis(c.capacity_retry_ms),
            reachable_timeout: SimDuration::from_millis(c.reachable_timeout_ms),
            check_inter: SimDuration::from_millis(c.check_inter_ms),
            check_fall: c.check_fall,
            check_rise: c.check_rise,
            failed_redis: c.failed_redis,
            failed_haproxy: c.failed_haproxy,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Command,
    Local,
    Ec2,
}

/// `provider` names the table below it that configures it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudFile {
    pub provider: ProviderKind,
    #[serde(default)]
    pub command: Option<CommandFile>,
    #[serde(default)]
    pub local: Option<LocalFile>,
    #[serde(default)]
    pub ec2: Option<failover_ec2::config::Ec2Config>,
}

/// Commands for any other cloud or a datacenter: each is a program and its arguments,
/// where `{role}`, `{token}` and `{instance_id}` are replaced.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandFile {
    pub launch: Vec<String>,
    pub terminate: Vec<String>,
    pub describe: Vec<String>,
    #[serde(default = "default_command_timeout")]
    pub timeout: SimDuration,
}

fn default_command_timeout() -> SimDuration {
    SimDuration::from_secs(300)
}

/// Machines on this host's loopback addresses (tests, the demo).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalFile {
    /// Where the provider keeps its machines' records and files.
    pub state_dir: PathBuf,
    /// Time between launch and the machine's software starting.
    #[serde(default)]
    pub boot_delay: SimDuration,
    #[serde(default = "default_redis_server")]
    pub redis_server: PathBuf,
    #[serde(default = "default_haproxy")]
    pub haproxy: PathBuf,
}

fn default_redis_server() -> PathBuf {
    "redis-server".into()
}

fn default_haproxy() -> PathBuf {
    if std::path::Path::new("/usr/sbin/haproxy").is_file() {
        "/usr/sbin/haproxy".into()
    } else {
        "haproxy".into()
    }
}
