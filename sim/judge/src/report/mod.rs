//! Reports of a run, from the checkers' [`Analysis`] and the scenario:
//!
//! - [`json`]: `report.json`, versioned, every field described in `SCHEMA.md`;
//! - [`markdown`]: `report.md`, for people: summary, faults, expectations, evidence;
//! - [`svg`]: `timeline.svg`, requests per second with faults and role changes;
//! - [`html`]: `report.html`, the Markdown's content and the SVG in one page;
//! - [`document`]: the small document model Markdown and HTML share;
//! - fixed-decimal times come from [`crate::format`].
//!
//! Every renderer is a pure function of [`ReportInput`]; only [`write_all`] touches files.

pub mod document;

pub mod html;
pub mod json;
pub mod markdown;
pub mod svg;

use std::io;
use std::path::Path;

use crate::checker::{Analysis, ExpectationResult};
use crate::fault_record::FaultRecord;
use scenario::Status;

/// Which world ran the scenario: the turmoil lab, or real processes on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum World {
    Sim,
    Real,
}

impl World {
    pub fn as_str(self) -> &'static str {
        match self {
            World::Sim => "sim",
            World::Real => "real",
        }
    }

    /// How the report names the world and its clock.
    pub fn description(self) -> (&'static str, &'static str) {
        match self {
            World::Sim => ("sim (the turmoil lab)", "simulated"),
            World::Real => (
                "real (redis-server and haproxy processes on loopback)",
                "wall-clock",
            ),
        }
    }
}

/// What a report is made of.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The scenario's name (its file stem).
    pub scenario: &'a str,
    pub description: &'a str,
    /// Whether the scenario is meant to pass at its seed, so a reader can tell a
    /// regression from a known weakness.
    pub status: &'a Status,
    pub seed: u64,
    pub world: World,
    pub analysis: &'a Analysis,
    pub faults: &'a [FaultRecord],
    pub expectations: &'a [ExpectationResult],
}

/// Writes `report.json`, `report.md`, `timeline.svg` and `report.html` into `dir`,
/// creating it if needed.
pub fn write_all(dir: &Path, input: &ReportInput) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("report.json"), json::json(input))?;
    std::fs::write(dir.join("report.md"), markdown::markdown(input))?;
    std::fs::write(dir.join("timeline.svg"), svg::svg(input))?;
    std::fs::write(dir.join("report.html"), html::html(input))?;
    Ok(())
}
