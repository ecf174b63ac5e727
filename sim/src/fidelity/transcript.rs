//! What a probe saw, normalized for comparison between the model and the real binaries.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use failover::resp::{render, Reply};

use super::Lab;

/// One observation: text that must match exactly, and optionally when it was seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    pub at: Option<Duration>,
    /// How far apart the model's and the binary's times may be, when wider than the
    /// comparison's default (an event whose time depends on the phase of a check cycle).
    pub tolerance: Option<Duration>,
}

#[derive(Debug, Clone, Default)]
pub struct Transcript {
    pub lines: Vec<Line>,
    replids: BTreeMap<String, String>,
}

impl Transcript {
    pub fn note(&mut self, text: impl Into<String>) {
        self.lines.push(Line {
            text: text.into(),
            at: None,
            tolerance: None,
        });
    }

    /// An event whose time matters (compared with a tolerance).
    pub fn event(&mut self, text: impl Into<String>, at: Duration) {
        self.lines.push(Line {
            text: text.into(),
            at: Some(at),
            tolerance: None,
        });
    }

    /// An event whose time may legitimately vary by up to `tolerance`.
    pub fn event_within(&mut self, text: impl Into<String>, at: Duration, tolerance: Duration) {
        self.lines.push(Line {
            text: text.into(),
            at: Some(at),
            tolerance: Some(tolerance),
        });
    }

    /// A reply, rendered as redis-cli prints it.
    pub fn reply(&mut self, label: &str, reply: &Reply) {
        self.note(format!("{label} -> {}", render(reply).replace('\n', " | ")));
    }

    /// A reply or the error reaching the server produced.
    pub fn result<E: std::fmt::Display>(&mut self, label: &str, result: &Result<Reply, E>) {
        match result {
            Ok(r) => self.reply(label, r),
            Err(e) => self.note(format!("{label} -> failed: {}", error_kind(&e.to_string()))),
        }
    }

    fn replid_label(&mut self, id: &str) -> String {
        if id.chars().all(|c| c == '0') {
            return "zeros".into();
        }
        let next = format!("id{}", self.replids.len() + 1);
        self.replids.entry(id.to_string()).or_insert(next).clone()
    }

    /// INFO replication: its field names in order, then the values that must agree,
    /// normalized (addresses to endpoints, ids to labels, numbers to -1 / 0 / n).
    pub fn info<L: Lab>(&mut self, lab: &L, label: &str, info: &str) {
        let fields: Vec<(String, String)> = info
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| l.trim_end().split_once(':'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        self.note(format!("{label} fields: {}", names.join(",")));
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let mut out = String::new();
        for (k, v) in &fields {
            let value = match k.as_str() {
                "role"
                | "master_link_status"
                | "master_sync_in_progress"
                | "connected_slaves"
                | "repl_backlog_active"
                | "slave_read_only"
                | "master_failover_state" => v.clone(),
                "master_host" => {
                    let port = get("master_port").and_then(|p| p.parse().ok()).unwrap_or(0);
                    endpoint(lab, v, port)
                }
                "master_replid" | "master_replid2" => self.replid_label(v),
                "master_repl_offset"
                | "slave_repl_offset"
                | "slave_read_repl_offset"
                | "second_repl_offset"
                | "master_last_io_seconds_ago"
                | "master_link_down_since_seconds" => sign(v),
                k if k.starts_with("slave") && v.starts_with("ip=") => {
                    let kv: BTreeMap<&str, &str> =
                        v.split(',').filter_map(|p| p.split_once('=')).collect();
                    let port = kv.get("port").and_then(|p| p.parse().ok()).unwrap_or(0);
                    format!(
                        "{} state={} offset={}",
                        endpoint(lab, kv.get("ip").unwrap_or(&""), port),
                        kv.get("state").unwrap_or(&""),
                        sign(kv.get("offset").unwrap_or(&""))
                    )
                }
                _ => continue,
            };
            let _ = write!(out, "{k}={value} ");
        }
        self.note(format!("{label}: {}", out.trim_end()));
    }

    /// ROLE, normalized like INFO.
    pub fn role<L: Lab>(&mut self, lab: &L, label: &str, reply: &Reply) {
        let text = match reply {
            Reply::Array(items) => {
                let s = |i: usize| items.get(i).map(render).unwrap_or_default();
                match s(0).as_str() {
                    "master" => {
                        let replicas = match items.get(2) {
                            Some(Reply::Array(rs)) => rs
                                .iter()
                                .map(|r| match r {
                                    Reply::Array(f) => {
                                        let port = f
                                            .get(1)
                                            .map(render)
                                            .and_then(|p| p.parse().ok())
                                            .unwrap_or(0);
                                        endpoint(
                                            lab,
                                            &f.first().map(render).unwrap_or_default(),
                                            port,
                                        )
                                    }
                                    _ => "?".into(),
                                })
                                .collect::<Vec<_>>()
                                .join(","),
                            _ => "?".into(),
                        };
                        format!(
                            "master offset={} replicas=[{replicas}]",
                            sign(&s(1).replace("(integer) ", ""))
                        )
                    }
                    "slave" => {
                        let port = s(2).replace("(integer) ", "").parse().unwrap_or(0);
                        format!(
                            "slave of {} state={} offset={}",
                            endpoint(lab, &s(1), port),
                            s(3),
                            sign(&s(4).replace("(integer) ", ""))
                        )
                    }
                    other => format!("unexpected ROLE {other}"),
                }
            }
            other => format!("unexpected ROLE reply {}", render(other)),
        };
        self.note(format!("{label} ROLE: {text}"));
    }

    /// Compares two transcripts: texts must be equal, times within `tolerance`.
    pub fn compare(&self, other: &Transcript, tolerance: Duration) -> Result<(), String> {
        let mut problems = String::new();
        let n = self.lines.len().max(other.lines.len());
        for i in 0..n {
            match (self.lines.get(i), other.lines.get(i)) {
                (Some(a), Some(b)) => {
                    if a.text != b.text {
                        let _ = writeln!(
                            problems,
                            "line {i}: model {:?}\n        real  {:?}",
                            a.text, b.text
                        );
                    } else if let (Some(x), Some(y)) = (a.at, b.at) {
                        let diff = x.abs_diff(y);
                        if diff > a.tolerance.unwrap_or(tolerance).max(tolerance) {
                            let _ = writeln!(
                                problems,
                                "line {i}: {:?} at {:.1}s in the model, {:.1}s for real",
                                a.text,
                                x.as_secs_f64(),
                                y.as_secs_f64()
                            );
                        }
                    }
                }
                (a, b) => {
                    let _ = writeln!(
                        problems,
                        "line {i}: model {:?}\n        real  {:?}",
                        a.map(|l| &l.text),
                        b.map(|l| &l.text)
                    );
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            match l.at {
                Some(at) => {
                    let _ = writeln!(out, "[{:6.2}s] {}", at.as_secs_f64(), l.text);
                }
                None => {
                    let _ = writeln!(out, "          {}", l.text);
                }
            }
        }
        out
    }
}

fn endpoint<L: Lab>(lab: &L, host: &str, port: u16) -> String {
    match lab.endpoint_named(host, port) {
        Some((m, p)) => format!("{m}:{p}"),
        None => format!("unknown({host}:{port})"),
    }
}

fn sign(v: &str) -> String {
    match v.parse::<i64>() {
        Ok(n) if n < 0 => "-1".into(),
        Ok(0) => "0".into(),
        Ok(_) => "n".into(),
        Err(_) => format!("?{v}"),
    }
}

/// Errors differ in wording between turmoil and the kernel; what matters is their kind.
pub fn error_kind(text: &str) -> &'static str {
    let t = text.to_ascii_lowercase();
    if t.contains("refused") || t.starts_with("connectionrefused") {
        "connection refused"
    } else if t.contains("closed")
        || t.contains("reset")
        || t.contains("eof")
        || t.contains("broken pipe")
    {
        "connection closed"
    } else if t.contains("timed out") || t.contains("timeout") || t.contains("elapsed") {
        "timeout"
    } else {
        "other error"
    }
}
