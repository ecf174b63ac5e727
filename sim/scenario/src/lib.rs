//! Scenario files: what a lab run does, written in TOML.
//!
//! ```toml
//! description = "The master's machine crashes while the app writes"
//! status = "must-pass"
//! duration = "2m"
//! seed = 1
//!
//! [workload]
//! rate = 100
//!
//! [[faults]]
//! at = "30s"
//! kind = "crash"
//! machine = "redis1"
//! ```
//!
//! The doc comments of [`Scenario`], its tables, [`Status`] and [`FaultAction`] are the
//! reference for every key.
//!
//! `status` is required: `"must-pass"` (the run at the pinned seed meets every expectation
//! and every fault takes effect), or `"known-weakness"` with `reason = "..."` saying what
//! fails today. A known weakness without a reason, or with an empty one, is an error, and so
//! is a reason on a must-pass scenario. Scenarios built in code (`failover-sim explore`,
//! tests) set [`Status`] themselves. Loading goes: TOML syntax (toml's spanned `DeTable`), then serde into the file
//! form with the field path tracked, then each fault's kind, then the lab's rules. Every
//! error, at any stage, names the file, line, column and field:
//! `scenarios/crash.toml:9:11: faults[0].machine: unknown machine 'redis3'; valid machines: ...`.
//!
//! Layout:
//! - [`schema`]: the scenario and its tables (`[topology]`, `[workload]`, ...).
//! - [`fault`]: the faults the nemesis applies.
//! - [`duration`]: durations written as `"500ms"`, `"5s"`, `"2m"`, `"1h"`.
//! - [`lab`]: the machine, process and port names a file may use.
//! - `file`: the TOML file form and its conversion to and from [`Scenario`].
//! - `validate`: the lab's rules (names, times, ranges).
//! - [`location`]: field paths and their line and column in the text.
//! - [`error`]: the error a person sees, [`ScenarioError`].
//! - [`input`]: reading a file without trusting it (kind, size, UTF-8).

pub mod duration;
pub mod error;
pub mod fault;
mod file;
pub mod input;
pub mod lab;
pub mod location;
pub mod schema;
mod validate;

use std::path::Path;

use failover_core::layout::Topology as LabTopology;
use toml::de::DeTable;

pub use duration::SimDuration;
pub use error::{Location, ScenarioError};
pub use fault::{Fault, FaultAction, FAULT_KINDS};
pub use lab::{processes_of, redis_port_of_process, redis_process};
pub use location::FieldPath;
pub use schema::{Expect, FailoverSettings, Mix, Policy, Scenario, Status, Topology, Workload};

use error::Problem;
use file::ScenarioFile;

/// Reads and checks the scenario file at `path`; errors name the file as given. Only a
/// regular file of at most [`input::SCENARIO_LIMIT`] bytes of UTF-8 is read.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let origin = path.display().to_string();
    let error = |location, message| ScenarioError {
        origin: origin.clone(),
        location,
        field: String::new(),
        message,
    };
    let bytes = input::read_limited(path, input::SCENARIO_LIMIT)
        .map_err(|why| error(None, why.about("the scenario file")))?;
    let text = input::utf8(bytes).map_err(|(line, column, byte)| {
        error(
            Some(Location { line, column }),
            format!("byte 0x{byte:02x} is not UTF-8; a scenario file is UTF-8 text"),
        )
    })?;
    parse(&text, &origin)
}

/// Parses and checks scenario `text`; `origin` (usually the file's path) starts every
/// error message.
pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
    let at = |span: Option<std::ops::Range<usize>>, field: String, message: String| {
        let location = span.map(|span| {
            let (line, column) = location::line_column(text, span.start);
            Location { line, column }
        });
        ScenarioError {
            origin: origin.to_string(),
            location,
            field,
            message,
        }
    };

    // toml calls a NUL or another control character "string values must be quoted"
    // wherever it stands; the character itself is what a person needs to hear about.
    if let Some((offset, c)) = text
        .char_indices()
        .find(|(_, c)| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        let what = if c == '\0' {
            "a NUL byte (U+0000)".to_string()
        } else {
            format!("control character U+{:04X}", u32::from(c))
        };
        return Err(at(
            Some(offset..offset),
            String::new(),
            format!(
                "{what}; a scenario file is text, with no control characters other than \
                 tab and newline (inside a quoted string write it as an escape, such as \\u{:04X})",
                u32::from(c)
            ),
        ));
    }

    let doc = DeTable::parse(text).map_err(|e| {
        // toml's syntax messages may span lines ("invalid string\nexpected ..."); one line
        // keeps `file:line:col: message` greppable.
        let mut message = e.message().trim().replace('\n', "; ");
        let mut span = e.span();
        if span.is_none() && message == "recursion limit" {
            span = location::too_deep(text).map(|at| at..at);
            message = format!(
                "nested too deep: toml allows at most {} levels (each part of a dotted key \
                 and each table or array inside another is one); no scenario field is more \
                 than 4 levels deep",
                location::TOML_DEPTH_LIMIT
            );
        }
        at(span.or(Some(0..0)), String::new(), message)
    })?;

    // serde reads a struct from an array too, field by field in order, so `workload =
    // [4, 100]` would mean 4 clients at 100/s: refuse any table written as an array.
    if let Some((path, span)) = location::table_written_as_array(&doc) {
        return Err(at(
            Some(span),
            path.to_string(),
            if path.to_string().starts_with("faults[") {
                format!("{path} must be a table (a `[[faults]]` entry), not an array")
            } else {
                format!("{path} must be a table (`[{path}]` or `{path} = {{ ... }}`), not an array")
            },
        ));
    }

    let deserializer = toml::de::Deserializer::from(doc.clone());
    let file: ScenarioFile = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let mut path = FieldPath::from_serde(e.path());
        let message = e.inner().message().trim().replace('\n', "; ");
        // serde reports an unknown key at its table (except at the top level, where
        // serde_path_to_error already names it); the key itself is the field to fix.
        if let Some(key) = unknown_field(&message) {
            if !path.ends_with_key(key) {
                path = path.key(key);
            }
        }
        let span = e
            .inner()
            .span()
            .unwrap_or_else(|| location::locate(&doc, &path));
        at(Some(span), path.to_string(), message)
    })?;

    let locate = |problem: Problem| {
        let span = location::locate(&doc, &problem.path);
        at(Some(span), problem.path.to_string(), problem.message)
    };
    let mut scenario = file.into_scenario().map_err(locate)?;
    // The default ports depend on the topology, which serde's per-table defaults cannot
    // see; an out-of-range topology keeps the seed's and fails validation below.
    let ports = FieldPath::root().key("workload").key("ports");
    if !location::exists(&doc, &ports) {
        if let Ok(lab) = LabTopology::with_redis_ports(scenario.topology.redis_ports) {
            scenario.workload.ports = lab.app_ports();
        }
    }
    // The default interval depends on the policy, which serde's defaults cannot see either.
    let interval = FieldPath::root().key("failover").key("interval");
    if !location::exists(&doc, &interval) {
        scenario.failover.interval = FailoverSettings::default_interval(scenario.failover.policy);
    }
    validate::validate(&scenario).map_err(locate)?;
    Ok(scenario)
}

/// The key named by serde's "unknown field `x`, expected ..." message.
fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next()
}

/// The TOML text of `scenario`, which [`parse`] reads back as an equal scenario. Defaults
/// are written out so a saved scenario keeps its meaning if a default changes.
///
/// Fails only for values no file could hold (a seed above 2^63-1).
pub fn to_toml(scenario: &Scenario) -> Result<String, ScenarioError> {
    toml::to_string(&ScenarioFile::from_scenario(scenario)).map_err(|e| ScenarioError {
        origin: "<to_toml>".to_string(),
        location: None,
        field: String::new(),
        message: e.to_string(),
    })
}
