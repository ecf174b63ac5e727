//! The error a person sees when a configuration cannot be used:
//! `failoverd.toml:LINE:COL: field: what is wrong and what would be valid`.

use std::fmt;

use scenario::error::printable;
use scenario::{FieldPath, Location};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub origin: String,
    pub location: Option<Location>,
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Everything here may echo the file: escaped so it cannot drive a terminal.
        write!(f, "{}", printable(&self.origin))?;
        if let Some(at) = self.location {
            write!(f, ":{}:{}", at.line, at.column)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", printable(&self.field))?;
        }
        write!(f, ": {}", printable(&self.message))
    }
}

impl std::error::Error for ConfigError {}

/// A problem found on typed values, before its place in the text is looked up.
#[derive(Clone, Debug)]
pub struct Problem {
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
