//! `junit.xml`: one testcase per (scenario, seed), so CI systems show failing seeds the
//! way they show failing tests, with the reason and the reproduce command.

use super::file::SweepFile;

pub fn junit(f: &SweepFile) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"failover-sim sweep\" tests=\"{}\" failures=\"{}\">\n",
        f.totals.runs, f.totals.failed
    ));
    for s in &f.stats {
        x.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">\n",
            esc(&s.scenario),
            s.seeds,
            s.failed
        ));
        for r in f.results.iter().filter(|r| r.scenario == s.scenario) {
            let case = format!(
                "    <testcase classname=\"{}\" name=\"seed {}\"",
                esc(&r.scenario),
                r.seed
            );
            if r.passed {
                x.push_str(&case);
                x.push_str("/>\n");
                continue;
            }
            let reason = r.failures.join("; ");
            x.push_str(&format!(
                "{case}>\n      <failure message=\"{}\">{}\nreproduce: {}</failure>\n    </testcase>\n",
                esc(&reason),
                esc(&r.failures.join("\n")),
                esc(&r.reproduce)
            ));
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// XML-escapes text and attribute values; control characters (other than tab and
/// newline) are not allowed in XML 1.0, so they are dropped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}
