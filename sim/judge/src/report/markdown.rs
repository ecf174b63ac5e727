//! The report for people: what happened, whether the run passed, and the evidence, as
//! [`Block`]s that render to Markdown here and to HTML in [`super::html`].

use std::collections::BTreeMap;

use super::document::{to_markdown, Block};
use super::ReportInput;
use crate::checker::fault_timings::FaultTiming;
use crate::checker::RequestCounts;
use crate::format::{opt_secs, secs};
use scenario::Status;

/// The report as Markdown.
pub fn markdown(input: &ReportInput) -> String {
    to_markdown(&blocks(input))
}

/// The report's content.
pub fn blocks(input: &ReportInput) -> Vec<Block> {
    let a = input.analysis;
    let mut b = vec![Block::Heading(1, format!("Run report: {}", input.scenario))];
    if !input.description.is_empty() {
        b.push(Block::Text(input.description.to_string()));
    }
    let (world, clock) = input.world.description();
    b.push(Block::Paragraph(format!(
        "World: {world}. Seed {}, {} of {clock} time.",
        input.seed,
        secs(a.duration_ms)
    )));
    let failed = input.expectations.iter().filter(|e| !e.passed).count();
    b.push(Block::Paragraph(if input.expectations.is_empty() {
        "**No expectations set.**".to_string()
    } else if failed == 0 {
        format!(
            "**PASSED: all {} expectations met.**",
            input.expectations.len()
        )
    } else {
        format!(
            "**FAILED: {failed} of {} expectations not met.**",
            input.expectations.len()
        )
    }));
    b.push(Block::Paragraph(match input.status {
        Status::MustPass => "Status: must pass (a failure is a regression).".to_string(),
        Status::KnownWeakness { reason } => {
            format!("Status: known weakness (expected to fail until fixed): {reason}")
        }
    }));

    b.push(Block::Heading(2, "Summary".into()));
    let r = &a.requests.total;
    let u = &a.unavailability;
    let rows = vec![
        row(["requests invoked", &r.invoked.to_string()]),
        row(["ok", &r.ok.to_string()]),
        row(["failed", &r.failed.to_string()]),
        row(["unknown", &r.unknown.to_string()]),
        row(["incomplete", &r.incomplete.to_string()]),
        row([
            &format!(
                "waited (ok after more than {})",
                secs(a.requests.waited_threshold_ms)
            ),
            &r.waited.to_string(),
        ]),
        row([
            "lost writes",
            &format!(
                "{} ({} SET, {} RPUSH, {} INCR; {} unverified)",
                a.lost_writes.total,
                a.lost_writes.writes,
                a.lost_writes.rpushes,
                a.lost_writes.increments,
                a.lost_writes.unverified
            ),
        ]),
        row([
            "failed writes present at the end",
            &a.appeared_although_failed.total.to_string(),
        ]),
        row([
            "stale reads",
            &format!(
                "{} of {} checked",
                a.stale_reads.total, a.stale_reads.checked
            ),
        ]),
        row(["unavailability windows", &u.windows.len().to_string()]),
        row(["longest unavailability", &secs(u.longest_ms)]),
        row(["total unavailability", &secs(u.total_ms)]),
        row(["longest split brain", &secs(a.split_brain.longest_ms)]),
        row(["total split brain", &secs(a.split_brain.total_ms)]),
        row(["fully redundant at", &opt_secs(a.redundant_at_ms)]),
    ];
    b.push(table(["measure", "value"], rows));

    b.push(Block::Heading(2, "Requests per port".into()));
    let rows = a
        .requests
        .per_port
        .iter()
        .map(|(port, c)| {
            let w = u.per_port.get(port).cloned().unwrap_or_default();
            let mut cells = counts(c);
            cells.insert(0, port.to_string());
            cells.push(secs(w.longest_ms));
            cells.push(secs(w.total_ms));
            cells
        })
        .collect();
    b.push(table(
        [
            "port",
            "invoked",
            "ok",
            "failed",
            "unknown",
            "incomplete",
            "waited",
            "longest unavailability",
            "total unavailability",
        ],
        rows,
    ));

    b.push(Block::Heading(2, "Faults".into()));
    if input.faults.is_empty() {
        b.push(Block::Paragraph("No faults.".into()));
    } else {
        // Looked up by index, not searched: a linear search per fault made a report of
        // 40,000 faults take longer than the run.
        let timings: BTreeMap<usize, &FaultTiming> =
            a.faults.iter().map(|t| (t.index, t)).collect();
        let rows = input
            .faults
            .iter()
            .map(|f| {
                let t = timings.get(&f.index).copied();
                let mut problem = f.problem.clone().unwrap_or_default();
                if f.took_effect_ms.is_none() && problem.is_empty() {
                    problem = "never took effect".into();
                }
                vec![
                    f.index.to_string(),
                    f.kind.clone(),
                    secs(f.at_ms),
                    opt_secs(f.took_effect_ms),
                    opt_secs(f.healed_ms),
                    opt_secs(t.and_then(|t| t.detection_ms)),
                    opt_secs(t.and_then(|t| t.first_ok_write_ms)),
                    opt_secs(t.and_then(|t| t.redundancy_ms)),
                    problem,
                ]
            })
            .collect();
        b.push(table(
            [
                "#",
                "kind",
                "scheduled",
                "took effect",
                "healed",
                "detected after",
                "first ok write after",
                "redundant after",
                "problem",
            ],
            rows,
        ));
    }

    b.push(Block::Heading(2, "Expectations".into()));
    if input.expectations.is_empty() {
        b.push(Block::Paragraph("No expectations set.".into()));
    } else {
        let rows = input
            .expectations
            .iter()
            .map(|e| {
                vec![
                    e.name.clone(),
                    e.limit.clone(),
                    e.actual.clone(),
                    if e.passed { "pass" } else { "FAIL" }.to_string(),
                    e.message.clone(),
                ]
            })
            .collect();
        b.push(table(
            ["expectation", "limit", "actual", "result", "message"],
            rows,
        ));
    }

    b.push(Block::Heading(2, "Timeline".into()));
    b.push(Block::Timeline);

    b.push(Block::Heading(2, "Lost writes".into()));
    let l = &a.lost_writes;
    if l.listed.is_empty() {
        b.push(Block::Paragraph(format!(
            "None ({} unverified).",
            l.unverified
        )));
    } else {
        b.push(Block::Paragraph(shown(l.listed.len(), l.total)));
        let rows = l
            .listed
            .iter()
            .map(|w| {
                vec![
                    w.op.to_string(),
                    w.client.to_string(),
                    kind(w.f),
                    w.port.to_string(),
                    w.key.clone(),
                    w.value.clone().unwrap_or_default(),
                    secs(w.acked_ms),
                    w.found.clone(),
                ]
            })
            .collect();
        b.push(table(
            [
                "op", "client", "kind", "port", "key", "value", "acked", "found",
            ],
            rows,
        ));
    }

    let ap = &a.appeared_although_failed;
    if !ap.listed.is_empty() {
        b.push(Block::Heading(2, "Failed writes present at the end".into()));
        b.push(Block::Paragraph(shown(ap.listed.len(), ap.total)));
        let rows = ap
            .listed
            .iter()
            .map(|w| {
                vec![
                    w.op.to_string(),
                    w.client.to_string(),
                    kind(w.f),
                    w.port.to_string(),
                    w.key.clone(),
                    w.value.clone().unwrap_or_default(),
                    secs(w.failed_ms),
                    w.error.clone().unwrap_or_default(),
                ]
            })
            .collect();
        b.push(table(
            [
                "op", "client", "kind", "port", "key", "value", "failed", "error",
            ],
            rows,
        ));
    }

    let s = &a.stale_reads;
    if !s.listed.is_empty() {
        b.push(Block::Heading(2, "Stale reads".into()));
        b.push(Block::Paragraph(shown(s.listed.len(), s.total)));
        let rows = s
            .listed
            .iter()
            .map(|r| {
                vec![
                    r.op.to_string(),
                    r.client.to_string(),
                    r.port.to_string(),
                    r.key.clone(),
                    r.expected.clone().unwrap_or_else(|| "nil".into()),
                    r.got.clone().unwrap_or_else(|| "nil".into()),
                    secs(r.write_acked_ms),
                    secs(r.read_invoked_ms),
                ]
            })
            .collect();
        b.push(table(
            [
                "op",
                "client",
                "port",
                "key",
                "expected",
                "got",
                "write acked",
                "read invoked",
            ],
            rows,
        ));
    }

    b.push(Block::Heading(2, "Unavailability windows".into()));
    if u.windows.is_empty() {
        b.push(Block::Paragraph("None.".into()));
    } else {
        let rows = u
            .windows
            .iter()
            .map(|w| {
                vec![
                    secs(w.start_ms),
                    secs(w.end_ms),
                    secs(w.duration_ms),
                    w.failed.to_string(),
                    w.unknown.to_string(),
                    if w.open { "yes" } else { "no" }.to_string(),
                ]
            })
            .collect();
        b.push(table(
            [
                "start",
                "end",
                "duration",
                "failed",
                "unknown",
                "open at the end",
            ],
            rows,
        ));
    }

    b.push(Block::Heading(2, "Split brain".into()));
    if a.split_brain.intervals.is_empty() {
        b.push(Block::Paragraph("None.".into()));
    } else {
        let rows = a
            .split_brain
            .intervals
            .iter()
            .map(|i| {
                vec![
                    i.port.to_string(),
                    secs(i.start_ms),
                    secs(i.end_ms),
                    secs(i.duration_ms),
                    i.masters.join(", "),
                ]
            })
            .collect();
        b.push(table(
            ["redis port", "start", "end", "duration", "masters"],
            rows,
        ));
    }
    b
}

fn row<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

fn table<const N: usize>(header: [&str; N], rows: Vec<Vec<String>>) -> Block {
    Block::Table {
        header: row(header),
        rows,
    }
}

fn counts(c: &RequestCounts) -> Vec<String> {
    [c.invoked, c.ok, c.failed, c.unknown, c.incomplete, c.waited]
        .iter()
        .map(u64::to_string)
        .collect()
}

fn kind(f: crate::history::OpKind) -> String {
    use crate::history::OpKind;
    match f {
        OpKind::Write => "SET",
        OpKind::Read => "GET",
        OpKind::Incr => "INCR",
        OpKind::Rpush => "RPUSH",
    }
    .to_string()
}

fn shown(listed: usize, total: u64) -> String {
    if listed as u64 == total {
        format!("{total} in all.")
    } else {
        format!("The first {listed} of {total}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::Analysis;
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

    /// The report of a run with `description`, as CommonMark with GitHub's tables and
    /// strikethrough would read it: (blocks opened, in order; the text of the first
    /// paragraph after the title).
    fn read(description: &str) -> (Vec<String>, String) {
        let analysis = Analysis::default();
        let input = ReportInput {
            scenario: "a_b*c",
            description,
            status: &scenario::Status::MustPass,
            seed: 1,
            world: crate::report::World::Sim,
            analysis: &analysis,
            faults: &[],
            expectations: &[],
        };
        let md = markdown(&input);
        let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
        let mut blocks = Vec::new();
        let mut first = None;
        let mut text = String::new();
        let mut in_paragraph = false;
        for event in Parser::new_ext(&md, options) {
            match event {
                Event::Start(tag) => {
                    if matches!(tag, Tag::Paragraph) && first.is_none() {
                        in_paragraph = true;
                    }
                    blocks.push(format!("{tag:?}"));
                }
                Event::End(TagEnd::Paragraph) if in_paragraph => {
                    in_paragraph = false;
                    first = Some(std::mem::take(&mut text));
                }
                Event::Text(t) | Event::Code(t) if in_paragraph => text.push_str(&t),
                Event::SoftBreak | Event::HardBreak if in_paragraph => text.push('\n'),
                Event::Html(t) | Event::InlineHtml(t) if in_paragraph => text.push_str(&t),
                _ => {}
            }
        }
        (blocks, first.unwrap_or_default())
    }

    #[test]
    fn a_description_is_one_paragraph_of_its_own_text_whatever_it_holds() {
        let (plain_blocks, _) = read("plain");
        for evil in [
            "# Heading",
            "| a | b |\n|---|---|\n| c | d |",
            "- item\n> quote",
            "1. first",
            "=====",
            "    indented code",
            "```\nfence\n```",
            "<script>alert(1)</script> & &amp;",
            "[link](javascript:alert(1)) ![img](x.png) *em* __strong__ `code` ~~gone~~",
            "back\\slash \\# and trailing \\",
            "line\r\nbreaks\u{1b}[2J",
        ] {
            let (blocks, text) = read(evil);
            assert_eq!(
                blocks, plain_blocks,
                "{evil:?} changed the report's structure"
            );
            let expected: String = evil
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
                .trim_start()
                .to_string();
            assert_eq!(text, expected, "{evil:?}");
        }
    }
}
