//! The error a person sees when a scenario file cannot be used: which file, where in it,
//! which field, and what would be valid, as `file.toml:LINE:COL: field: message`.

use std::fmt;

use crate::location::FieldPath;

/// A line and column in a scenario file, both counted from 1 (columns in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// Why a scenario file could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file's path (or whatever name [`crate::parse`] was given).
    pub origin: String,
    /// Where in the file; `None` when the file could not be read at all.
    pub location: Option<Location>,
    /// The field's path, e.g. `faults[2].machine`; empty for the file as a whole.
    pub field: String,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(at) = self.location {
            write!(f, ":{}:{}", at.line, at.column)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// A problem found after parsing, before its position is looked up in the text.
#[derive(Clone, Debug)]
pub(crate) struct Problem {
    pub path: FieldPath,
    pub message: String,
}

impl Problem {
    pub fn new(path: FieldPath, message: impl Into<String>) -> Problem {
        Problem {
            path,
            message: message.into(),
        }
    }
}
