//! failoverd's configuration: a TOML file naming the deployment (redis machines, redis
//! proxies and their runtime APIs, the app's haproxy), detection and recovery settings,
//! the cloud provider, the state file, the audit log and the HTTP address.
//!
//! Loading goes as for scenario files (and with their helpers): TOML syntax, then serde
//! with the field path tracked, then the rules of `check`. Every error names the file,
//! line, column and field, and says what would be valid.
//!
//! - `file`: the file's form; `check`: the rules and bounds; `error`: [`ConfigError`].

mod check;
mod error;
pub mod file;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use failover::config::{ControllerConfig, Deployment, PollOrder};
use failover::layout::Topology;
use scenario::{input, location, FieldPath, Location, SimDuration};
use toml::de::DeTable;

pub use check::{is_address, is_machine_name};
pub use error::ConfigError;
pub use file::{CommandFile, LocalFile, LogFormat, ProviderKind};

use error::Problem;
use file::ConfigFile;

/// A configuration file is small; anything larger is not one.
pub const CONFIG_LIMIT: u64 = 1 << 20;

/// Where a proxy's runtime API is, when it is not `addr:api_port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

impl Endpoint {
    fn parse(text: &str) -> Endpoint {
        if text.starts_with('/') {
            return Endpoint::Unix(text.into());
        }
        let (host, port) = text.rsplit_once(':').expect("checked");
        Endpoint::Tcp {
            host: host.trim_start_matches('[').trim_end_matches(']').into(),
            port: port.parse().expect("checked"),
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp { host, port } => write!(f, "{host}:{port}"),
            Endpoint::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// A checked configuration.
#[derive(Debug)]
pub struct Config {
    pub origin: String,
    pub topology: Topology,
    pub controller: ControllerConfig,
    pub deployment: Deployment,
    /// Runtime APIs not at `addr:api_port`, by the address the controller knows.
    pub runtime_apis: BTreeMap<String, Endpoint>,
    pub state_file: PathBuf,
    pub audit_log: PathBuf,
    pub listen: Option<String>,
    pub shutdown_grace: SimDuration,
    pub log_format: LogFormat,
    pub cloud: file::CloudFile,
}

impl Config {
    /// Every endpoint the deployment names: (what, endpoint), for `--probe`.
    pub fn endpoints(&self) -> Vec<(String, Endpoint)> {
        let api = |addr: &str| {
            self.runtime_apis
                .get(addr)
                .cloned()
                .unwrap_or(Endpoint::Tcp {
                    host: addr.into(),
                    port: self.topology.api_port,
                })
        };
        let mut out = Vec::new();
        for m in &self.deployment.machines {
            match m.role {
                failover::layout::MachineRole::Redis => {
                    for port in self.topology.redis_port_list() {
                        out.push((
                            format!("{} redis", m.name),
                            Endpoint::Tcp {
                                host: m.addr.clone(),
                                port,
                            },
                        ));
                    }
                }
                failover::layout::MachineRole::Haproxy => {
                    out.push((format!("{} runtime API", m.name), api(&m.addr)));
                }
            }
        }
        let app = &self.deployment.layout.app_addr;
        out.push(("app runtime API".into(), api(app)));
        out
    }
}

/// Reads and checks the file at `path`: a regular file of at most [`CONFIG_LIMIT`] bytes
/// of UTF-8.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let origin = path.display().to_string();
    let error = |location, message| ConfigError {
        origin: origin.clone(),
        location,
        field: String::new(),
        message,
    };
    let bytes = input::read_limited(path, CONFIG_LIMIT)
        .map_err(|why| error(None, why.about("the configuration file")))?;
    let text = input::utf8(bytes).map_err(|(line, column, byte)| {
        error(
            Some(Location { line, column }),
            format!("byte 0x{byte:02x} is not UTF-8; a configuration file is UTF-8 text"),
        )
    })?;
    parse(&text, &origin)
}

/// Parses and checks configuration `text`; `origin` starts every error.
pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
    let at = |span: std::ops::Range<usize>, field: String, message: String| {
        let (line, column) = location::line_column(text, span.start);
        ConfigError {
            origin: origin.to_string(),
            location: Some(Location { line, column }),
            field,
            message,
        }
    };
    if let Some((offset, c)) = text
        .char_indices()
        .find(|(_, c)| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(at(
            offset..offset,
            String::new(),
            format!(
                "control character U+{:04X}; a configuration file is text",
                u32::from(c)
            ),
        ));
    }
    let doc = DeTable::parse(text).map_err(|e| {
        let mut message = e.message().trim().replace('\n', "; ");
        let mut span = e.span();
        if span.is_none() && message == "recursion limit" {
            span = location::too_deep(text).map(|at| at..at);
            message = "nested too deep; no setting is more than 3 levels deep".into();
        }
        at(span.unwrap_or(0..0), String::new(), message)
    })?;
    let deserializer = toml::de::Deserializer::from(doc.clone());
    let file: ConfigFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let mut path = FieldPath::from_serde(e.path());
        let message = e.inner().message().trim().replace('\n', "; ");
        if let Some(key) = message
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
        {
            if !path.ends_with_key(key) {
                path = path.key(key);
            }
        }
        let span = e
            .inner()
            .span()
            .unwrap_or_else(|| location::locate(&doc, &path));
        at(span, path.to_string(), message)
    })?;
    let locate = |p: Problem| {
        at(
            location::locate(&doc, &p.path),
            p.path.to_string(),
            p.message,
        )
    };
    let topology = check::check(&file).map_err(locate)?;
    let controller = controller_config(&file);
    controller.validate().map_err(|e| {
        locate(Problem::new(
            FieldPath::root().key("recovery"),
            e.to_string(),
        ))
    })?;
    let addr_of = |name: &str| {
        file.redis
            .iter()
            .chain(&file.haproxy)
            .find(|m| m.name == name)
            .map(|m| m.addr.clone())
            .unwrap_or_else(|| file.app.addr.clone())
    };
    let instance_of = |name: &str| {
        file.redis
            .iter()
            .chain(&file.haproxy)
            .find(|m| m.name == name)
            .and_then(|m| m.instance_id.clone())
    };
    let deployment = topology.deployment(addr_of, instance_of);
    let mut runtime_apis = BTreeMap::new();
    for m in &file.haproxy {
        if let Some(api) = &m.runtime_api {
            runtime_apis.insert(m.addr.clone(), Endpoint::parse(api));
        }
    }
    if let Some(api) = &file.app.runtime_api {
        runtime_apis.insert(file.app.addr.clone(), Endpoint::parse(api));
    }
    Ok(Config {
        origin: origin.to_string(),
        topology,
        controller,
        deployment,
        runtime_apis,
        state_file: file.state_file,
        audit_log: file.audit_log,
        listen: file.listen,
        shutdown_grace: file.shutdown_grace,
        log_format: file.log_format,
        cloud: file.cloud,
    })
}

fn controller_config(f: &ConfigFile) -> ControllerConfig {
    let (d, r) = (&f.detection, &f.recovery);
    ControllerConfig {
        interval_ms: d.interval.as_millis(),
        // failoverd polls every machine at once each cycle, as the lab's safe policy does.
        polls: PollOrder::AtOnce,
        fail_count: d.fail_count,
        poll_timeout_ms: d.poll_timeout.as_millis(),
        retry_min_ms: r.retry_min.as_millis(),
        retry_max_ms: r.retry_max.as_millis(),
        capacity_retry_ms: r.capacity_retry.as_millis(),
        reachable_timeout_ms: r.reachable_timeout.as_millis(),
        check_inter_ms: r.check_inter.as_millis(),
        check_fall: r.check_fall,
        check_rise: r.check_rise,
        failed_redis: r.failed_redis.clone(),
        failed_haproxy: r.failed_haproxy.clone(),
        // The safe policy's quorum, promotion by data and budget, at the library's bounds.
        ..ControllerConfig::default()
    }
}
