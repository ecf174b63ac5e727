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

/// The first place where `doc` writes an array where the scenario format has a table:
/// the top-level tables, `workload.mix`, and each entry of `faults` (an array of tables).
pub fn table_written_as_array(doc: &Spanned<DeTable<'_>>) -> Option<(FieldPath, Range<usize>)> {
    let root = FieldPath::root();
    let top = doc.get_ref();
    let is_array = |v: &Spanned<DeValue<'_>>| v.get_ref().as_array().is_some();
    for key in ["topology", "workload", "failover", "expect"] {
        if let Some(v) = top.get(key).filter(|v| is_array(v)) {
            return Some((root.key(key), v.span()));
        }
    }
    if let Some(mix) = top
        .get("workload")
        .and_then(|w| w.get_ref().as_table())
        .and_then(|w| w.get("mix"))
        .filter(|v| is_array(v))
    {
        return Some((root.key("workload").key("mix"), mix.span()));
    }
    let faults = top.get("faults").and_then(|f| f.get_ref().as_array())?;
    faults
        .iter()
        .enumerate()
        .find(|(_, f)| is_array(f))
        .map(|(i, f)| (root.key("faults").index(i), f.span()))
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

/// How deep toml lets keys and values nest (its parser's recursion limit): each part of
/// a dotted key and each table or array inside another is a level.
pub const TOML_DEPTH_LIMIT: usize = 80;

/// The byte offset where `text` first nests [`TOML_DEPTH_LIMIT`] levels deep, found by a
/// light scan of its structure (strings and comments skipped, key parts counted until
/// the `=`, brackets counted until they close). toml reports its recursion limit without a
/// position, so without this the error would point at 1:1, however far into the file it
/// is.
pub fn too_deep(text: &str) -> Option<usize> {
    #[derive(PartialEq)]
    enum In {
        Code,
        Comment,
        Basic,
        Literal,
        MultiBasic,
        MultiLiteral,
    }
    let bytes = text.as_bytes();
    let mut state = In::Code;
    // Open brackets, innermost last: b'{' (inline table), b'[' (array or table header).
    let mut open: Vec<u8> = Vec::new();
    let mut in_key = true;
    let mut key_parts = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let rest = &bytes[i..];
        match state {
            In::Comment => {
                if b == b'\n' {
                    state = In::Code;
                    continue;
                }
            }
            In::Basic => match b {
                b'\\' => i += 1,
                b'"' | b'\n' => state = In::Code,
                _ => {}
            },
            In::Literal => {
                if b == b'\'' || b == b'\n' {
                    state = In::Code;
                }
            }
            In::MultiBasic => {
                if b == b'\\' {
                    i += 1;
                } else if rest.starts_with(b"\"\"\"") {
                    state = In::Code;
                    i += 2;
                }
            }
            In::MultiLiteral => {
                if rest.starts_with(b"'''") {
                    state = In::Code;
                    i += 2;
                }
            }
            In::Code => match b {
                b'#' => state = In::Comment,
                b'"' if rest.starts_with(b"\"\"\"") => {
                    state = In::MultiBasic;
                    i += 2;
                }
                b'"' => state = In::Basic,
                b'\'' if rest.starts_with(b"'''") => {
                    state = In::MultiLiteral;
                    i += 2;
                }
                b'\'' => state = In::Literal,
                b'.' if in_key => {
                    key_parts += 1;
                    if open.len() + key_parts >= TOML_DEPTH_LIMIT {
                        return Some(i);
                    }
                }
                b'=' if in_key => {
                    in_key = false;
                    key_parts = 0;
                }
                b'{' | b'[' => {
                    open.push(b);
                    // A table header's brackets and an inline table's keys are keys.
                    in_key = b == b'{' || (in_key && open.iter().all(|o| *o == b'['));
                    if open.len() + key_parts >= TOML_DEPTH_LIMIT {
                        return Some(i);
                    }
                }
                b'}' | b']' => {
                    open.pop();
                    key_parts = 0;
                    in_key = false;
                }
                b',' => {
                    key_parts = 0;
                    in_key = open.last() == Some(&b'{');
                }
                b'\n' if open.is_empty() => {
                    key_parts = 0;
                    in_key = true;
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_place_nesting_reaches_the_limit_is_found() {
        let parts: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
        let text = format!("a = \"x.y.z\" # c.d.e\n[t]\n{} = 1\n", parts.join("."));
        let at = too_deep(&text).unwrap();
        assert_eq!(line_column(&text, at).0, 3);
        let nested = format!("v = {}1{}\n", "[".repeat(100), "]".repeat(100));
        assert_eq!(too_deep(&nested), Some(4 + TOML_DEPTH_LIMIT - 1));
        let shallow =
            "rate = 0.25\n[[faults]]\nbetween = [[\"a\"], [\"b\"]]\nx.y = { p.q = 1.5 }\n";
        assert_eq!(too_deep(shallow), None);
    }
}
