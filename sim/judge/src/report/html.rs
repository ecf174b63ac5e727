//! One self-contained HTML page: the Markdown report's content as HTML with the timeline
//! SVG inline. No script, no external files, so it can be mailed or archived as is.

use super::document::{escape, to_html};
use super::markdown::blocks;
use super::svg::svg;
use super::ReportInput;

const STYLE: &str =
    "body{font-family:sans-serif;max-width:1040px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:0.5em 0}\
th,td{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:14px}\
th{background:#f0f0f0}figure{margin:0}";

pub fn html(input: &ReportInput) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Run report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
        escape(input.scenario),
        to_html(&blocks(input), &svg(input))
    )
}
