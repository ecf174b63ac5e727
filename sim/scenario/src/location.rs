//! Where in a file a problem is: the field's path (`faults[2].machine`) and, found from it,
//! the line and column of the value in the text.
//!
//! Semantic checks run on typed values that no longer know their position, so they report a
//! [`FieldPath`]; [`locate`] walks the spanned document the parser kept (toml's `DeTable`)
//! down that path. A path that leaves the document (a field that is missing) stops at the
//! deepest table that exists, which is where the field would go.

use std::fmt;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// One step of a path: a table key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// The path of a field from the top of the file, e.g. `faults[2].machine`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// The whole file.
    pub fn root() -> FieldPath {
        FieldPath(Vec::new())
    }

    /// This path, then table key `key`.
    pub fn key(&self, key: &str) -> FieldPath {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.to_string()));
        next
    }

    /// This path, then array index `index`.
    pub fn index(&self, index: usize) -> FieldPath {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    /// The path serde_path_to_error recorded while deserializing.
    pub fn from_serde(path: &serde_path_to_error::Path) -> FieldPath {
        use serde_path_to_error::Segment as S;
        let mut out = FieldPath::root();
        for segment in path.iter() {
            out = match segment {
                S::Seq { index } => out.index(*index),
                S::Map { key } => out.key(key),
                S::Enum { variant } => out.key(variant),
                // Nothing better is known about such a step; the path up to here still helps.
                S::Unknown => break,
            };
        }
        out
    }

    /// Whether the last step is table key `key`.
    pub fn ends_with_key(&self, key: &str) -> bool {
        matches!(self.0.last(), Some(Segment::Key(last)) if last == key)
    }

    /// Whether this is the whole file (no field).
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// The byte span of the value at `path` in `doc`, or of the deepest table or array on the
/// way to it that exists.
pub fn locate(doc: &Spanned<DeTable<'_>>, path: &FieldPath) -> Range<usize> {
    let mut span = doc.span();
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    let mut array: Option<&[Spanned<DeValue<'_>>]> = None;
    for segment in &path.0 {
        let next = match segment {
            Segment::Key(key) => table.and_then(|t| t.get(key.as_str())),
            Segment::Index(index) => array.and_then(|a| a.get(*index)),
        };
        let Some(value) = next else { break };
        span = value.span();
        table = value.get_ref().as_table();
        array = value.get_ref().as_array().map(|a| &a[..]);
    }
    span
}

/// Whether the value at `path` is written in `doc`.
pub fn exists(doc: &Spanned<DeTable<'_>>, path: &FieldPath) -> bool {
    let mut value: Option<&DeValue<'_>> = None;
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    for segment in &path.0 {
        let next = match segment {
            Segment::Key(key) => table.and_then(|t| t.get(key.as_str())),
            Segment::Index(index) => value.and_then(|v| v.as_array()).and_then(|a| a.get(*index)),
        };
        let Some(next) = next else { return false };
        value = Some(next.get_ref());
        table = next.get_ref().as_table();
    }
    true
}

/// 1-based line and column (in characters) of byte `offset` in `text`. An offset past the
/// end or inside a character is moved back to a character boundary rather than trusted.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}
