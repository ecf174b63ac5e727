//! A tiny document model (headings, paragraphs, tables, lists, the timeline picture) that
//! the Markdown and HTML reports both render, so the two always say the same thing
//! without a Markdown parser.

/// One block of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Level 1 to 3.
    Heading(u8, String),
    /// Plain text; `**bold**` is the only markup, and only around a whole paragraph.
    Paragraph(String),
    /// Text from the input (a scenario's description), shown as it is: in Markdown every
    /// character that could make it a heading, a list, a table, a link or HTML is escaped,
    /// and line breaks become spaces.
    Text(String),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    List(Vec<String>),
    /// The timeline picture: a link in Markdown, the SVG itself in HTML.
    Timeline,
}

/// Markdown (GitHub flavour).
pub fn to_markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Heading(level, text) => {
                out.push_str(&"#".repeat(usize::from((*level).clamp(1, 6))));
                out.push(' ');
                // Headings name the scenario, whose file name is input too.
                out.push_str(&md_literal(text));
                out.push('\n');
            }
            Block::Paragraph(text) => {
                out.push_str(text);
                out.push('\n');
            }
            Block::Text(text) => {
                out.push_str(&md_literal(text));
                out.push('\n');
            }
            Block::Table { header, rows } => {
                out.push_str(&md_row(header));
                out.push_str(&md_row(&vec!["---".to_string(); header.len()]));
                for r in rows {
                    out.push_str(&md_row(r));
                }
            }
            Block::List(items) => {
                for i in items {
                    out.push_str("- ");
                    out.push_str(i);
                    out.push('\n');
                }
            }
            Block::Timeline => out.push_str("![timeline](timeline.svg)\n"),
        }
        out.push('\n');
    }
    // One newline at the end, not two.
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn md_row(cells: &[String]) -> String {
    // A line break would end the row (and the table) in the middle of a cell.
    let cells: Vec<String> = cells
        .iter()
        .map(|c| one_line(c).replace('|', "\\|"))
        .collect();
    format!("| {} |\n", cells.join(" | "))
}

/// `text` with every control character (line breaks too) as a space.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text` as Markdown that renders as exactly that text on one line. Backslash escapes
/// (CommonMark allows one before any ASCII punctuation) go before every character that
/// has a meaning inside a line (emphasis, code, links, HTML, entities, strikethrough,
/// table cells), and before whatever would open a block at the start of the line
/// (heading, quote, list, setext underline, ordered list); leading spaces, which could
/// make an indented code block, are dropped. Other punctuation is left alone, so
/// ordinary sentences read as they were written.
pub fn md_literal(text: &str) -> String {
    let line = one_line(text);
    let line = line.trim_start();
    let mut out = String::with_capacity(line.len() + 8);
    let mut chars = line.chars().peekable();
    // At the start of the line: `#`, `>`, `-`, `+`, `=` open blocks; so does `12.` or `12)`.
    if let Some(&c) = chars.peek() {
        if matches!(c, '#' | '>' | '-' | '+' | '=') {
            out.push('\\');
        }
    }
    let digits: String = line.chars().take_while(char::is_ascii_digit).collect();
    if !digits.is_empty() && matches!(line[digits.len()..].chars().next(), Some('.' | ')')) {
        out.push_str(&digits);
        out.push('\\');
        chars = line[digits.len()..].chars().peekable();
    }
    for c in chars {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '~' | '|' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes text for HTML (and XML).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The blocks as an HTML fragment; `svg` stands in for [`Block::Timeline`].
pub fn to_html(blocks: &[Block], svg: &str) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Heading(level, text) => {
                let l = (*level).clamp(1, 6);
                out.push_str(&format!("<h{l}>{}</h{l}>\n", escape(text)));
            }
            Block::Paragraph(text) => {
                let inner = match text.strip_prefix("**").and_then(|t| t.strip_suffix("**")) {
                    Some(bold) => format!("<strong>{}</strong>", escape(bold)),
                    None => escape(text),
                };
                out.push_str(&format!("<p>{inner}</p>\n"));
            }
            Block::Text(text) => out.push_str(&format!("<p>{}</p>\n", escape(text))),
            Block::Table { header, rows } => {
                out.push_str("<table>\n<thead><tr>");
                for h in header {
                    out.push_str(&format!("<th>{}</th>", escape(h)));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for r in rows {
                    out.push_str("<tr>");
                    for c in r {
                        out.push_str(&format!("<td>{}</td>", escape(&c.replace('`', ""))));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    out.push_str(&format!("<li>{}</li>\n", escape(i)));
                }
                out.push_str("</ul>\n");
            }
            Block::Timeline => {
                out.push_str("<figure>\n");
                out.push_str(svg);
                out.push_str("</figure>\n");
            }
        }
    }
    out
}
