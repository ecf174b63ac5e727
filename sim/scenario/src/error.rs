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
        // Path, field and message all echo the file, whose strings may hold escapes such
        // as "\u001b[2J": written raw, they would drive the reader's terminal.
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

/// `text` with every control character (newlines too) written as an escape such as
/// `\u{1b}`, so echoed input can neither drive a terminal nor forge a line of output.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_echoed_input_are_escaped() {
        assert_eq!(
            printable("a\u{1b}[2Jb\nc\td\u{85}é"),
            "a\\u{1b}[2Jb\\u{a}c\\u{9}d\\u{85}é"
        );
        let e = ScenarioError {
            origin: "x\u{7}.toml".into(),
            location: Some(Location { line: 1, column: 2 }),
            field: "faults[0].\u{1b}".into(),
            message: "unknown machine '\u{1b}[31mred'".into(),
        };
        assert_eq!(
            e.to_string(),
            "x\\u{7}.toml:1:2: faults[0].\\u{1b}: unknown machine '\\u{1b}[31mred'"
        );
    }
}
