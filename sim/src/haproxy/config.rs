//! HAProxy configuration as data, and its rendering to a real `haproxy.cfg`.
//!
//! Durations are (de)serialized as whole milliseconds (`"inter": 1000`), the unit
//! HAProxy itself assumes for a bare number. [`HaproxyConfig::render_cfg`] writes an
//! equivalent configuration for the real haproxy 2.6, so the model and the binary can be
//! run side by side on the same data.

use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One haproxy process: its frontends, backends and runtime API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaproxyConfig {
    /// The proxy's name; also the host a real frontend bind is resolved for.
    pub name: String,
    /// TCP port of the runtime API (stats socket, level admin), if any.
    #[serde(default)]
    pub stats_port: Option<u16>,
    #[serde(with = "millis")]
    pub timeout_connect: Duration,
    #[serde(with = "millis")]
    pub timeout_client: Duration,
    #[serde(with = "millis")]
    pub timeout_server: Duration,
    /// `timeout check`; when unset a check is bounded by the server's `inter`.
    #[serde(default, with = "opt_millis")]
    pub timeout_check: Option<Duration>,
    pub frontends: Vec<Frontend>,
    pub backends: Vec<Backend>,
}

/// A listening port and the backend it feeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frontend {
    pub name: String,
    pub bind_port: u16,
    pub backend: String,
}

/// A group of servers and how they are checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backend {
    pub name: String,
    pub servers: Vec<Server>,
    /// `option tcp-check` rules; empty means a plain connect check.
    #[serde(default)]
    pub tcp_check: Vec<TcpCheckRule>,
    /// `option allbackups`.
    #[serde(default)]
    pub allbackups: bool,
}

/// One `server` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    pub name: String,
    /// A turmoil host name or an IP address.
    pub host: String,
    pub port: u16,
    #[serde(default)]
    pub check: bool,
    #[serde(default = "default_inter", with = "millis")]
    pub inter: Duration,
    #[serde(default, with = "opt_millis")]
    pub fastinter: Option<Duration>,
    #[serde(default, with = "opt_millis")]
    pub downinter: Option<Duration>,
    #[serde(default = "default_fall")]
    pub fall: u32,
    #[serde(default = "default_rise")]
    pub rise: u32,
    #[serde(default)]
    pub backup: bool,
    /// `on-marked-down shutdown-sessions`.
    #[serde(default)]
    pub on_marked_down_shutdown_sessions: bool,
    /// `on-marked-up shutdown-backup-sessions`.
    #[serde(default)]
    pub on_marked_up_shutdown_backup_sessions: bool,
}

impl Server {
    /// A server with HAProxy's defaults (no check, inter 2s, fall 3, rise 2).
    pub fn new(name: &str, host: &str, port: u16) -> Server {
        Server {
            name: name.to_string(),
            host: host.to_string(),
            port,
            check: false,
            inter: default_inter(),
            fastinter: None,
            downinter: None,
            fall: default_fall(),
            rise: default_rise(),
            backup: false,
            on_marked_down_shutdown_sessions: false,
            on_marked_up_shutdown_backup_sessions: false,
        }
    }
}

/// One `tcp-check` rule. Strings are raw bytes to send or expect (already unescaped: a
/// CRLF is a real CRLF here, `\r\n` in the rendered config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum TcpCheckRule {
    Connect,
    Send(String),
    ExpectString(String),
}

fn default_inter() -> Duration {
    Duration::from_millis(2000)
}
fn default_fall() -> u32 {
    3
}
fn default_rise() -> u32 {
    2
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

mod opt_millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

/// Escapes a tcp-check argument the way haproxy's config parser reads it back.
fn escape_arg(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            ' ' => out.push_str("\\ "),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '#' => out.push_str("\\#"),
            _ => out.push(c),
        }
    }
    out
}

fn ms(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

impl HaproxyConfig {
    /// The frontend listening on `port`, if any.
    pub fn frontend_on(&self, port: u16) -> Option<&Frontend> {
        self.frontends.iter().find(|f| f.bind_port == port)
    }

    /// Renders a real haproxy 2.6 configuration. `resolve(host, port)` maps a model address
    /// to the real one on loopback: servers use `resolve(server.host, server.port)`,
    /// frontends `resolve(self.name, bind_port)`, the stats socket
    /// `resolve(self.name, stats_port)`, and the source address of its connections to
    /// servers and of its checks `resolve(self.name, 0)`: a machine's packets must carry its
    /// own address, or a rule that silences the machine would not catch them.
    pub fn render_cfg(&self, resolve: &dyn Fn(&str, u16) -> (String, u16)) -> String {
        let mut c = String::new();
        let _ = writeln!(c, "# generated from the model config of {}", self.name);
        c.push_str("global\n");
        if let Some(port) = self.stats_port {
            let (ip, port) = resolve(&self.name, port);
            let _ = writeln!(c, "    stats socket ipv4@{ip}:{port} level admin");
        }
        c.push_str("\ndefaults\n    mode tcp\n");
        let _ = writeln!(c, "    source {}", resolve(&self.name, 0).0);
        let _ = writeln!(c, "    timeout connect {}", ms(self.timeout_connect));
        let _ = writeln!(c, "    timeout client {}", ms(self.timeout_client));
        let _ = writeln!(c, "    timeout server {}", ms(self.timeout_server));
        if let Some(t) = self.timeout_check {
            let _ = writeln!(c, "    timeout check {}", ms(t));
        }
        for f in &self.frontends {
            let (ip, port) = resolve(&self.name, f.bind_port);
            let _ = writeln!(c, "\nfrontend {}", f.name);
            let _ = writeln!(c, "    bind {ip}:{port}");
            let _ = writeln!(c, "    default_backend {}", f.backend);
        }
        for b in &self.backends {
            let _ = writeln!(c, "\nbackend {}", b.name);
            // A dynamic algorithm, so that `add server` works at run time.
            c.push_str("    balance roundrobin\n");
            if b.allbackups {
                c.push_str("    option allbackups\n");
            }
            if !b.tcp_check.is_empty() {
                c.push_str("    option tcp-check\n");
                for rule in &b.tcp_check {
                    match rule {
                        TcpCheckRule::Connect => c.push_str("    tcp-check connect\n"),
                        TcpCheckRule::Send(s) => {
                            let _ = writeln!(c, "    tcp-check send {}", escape_arg(s));
                        }
                        TcpCheckRule::ExpectString(s) => {
                            let _ = writeln!(c, "    tcp-check expect string {}", escape_arg(s));
                        }
                    }
                }
            }
            for s in &b.servers {
                let (ip, port) = resolve(&s.host, s.port);
                let _ = write!(c, "    server {} {ip}:{port}", s.name);
                if s.check {
                    let _ = write!(c, " check inter {}", ms(s.inter));
                    if let Some(t) = s.fastinter {
                        let _ = write!(c, " fastinter {}", ms(t));
                    }
                    if let Some(t) = s.downinter {
                        let _ = write!(c, " downinter {}", ms(t));
                    }
                    let _ = write!(c, " fall {} rise {}", s.fall, s.rise);
                }
                if s.backup {
                    c.push_str(" backup");
                }
                if s.on_marked_down_shutdown_sessions {
                    c.push_str(" on-marked-down shutdown-sessions");
                }
                if s.on_marked_up_shutdown_backup_sessions {
                    c.push_str(" on-marked-up shutdown-backup-sessions");
                }
                c.push('\n');
            }
        }
        c
    }
}
