//! `junit.xml`: one testcase per (scenario, seed), so CI systems show failing seeds the
//! way they show failing tests, with the reason and the reproduce command.

use super::file::SweepFile;

pub fn junit(f: &SweepFile) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"failover-sim sweep\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        f.totals.runs,
        f.totals.failed,
        u8::from(f.incomplete)
    ));
    if f.incomplete {
        // An error CI shows, so a stopped sweep never reads as a green one.
        x.push_str(&format!(
            "  <testsuite name=\"sweep\" tests=\"1\" failures=\"0\" errors=\"1\">\n    \
             <testcase classname=\"sweep\" name=\"incomplete\">\n      <error message=\"the \
             sweep was stopped before every seed ran: {} of {} runs missing (sweep.json lists \
             them)\"/>\n    </testcase>\n  </testsuite>\n",
            f.missing.len(),
            f.totals.runs + f.missing.len() as u64
        ));
    }
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

/// XML-escapes text and attribute values. Tab, newline and carriage return become
/// character references (an attribute value would otherwise turn them into spaces);
/// the characters XML 1.0 forbids even as references (other C0 controls, U+FFFE, U+FFFF)
/// are written as visible escapes such as `\u{1b}`, so no path or message can make the
/// file unreadable.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push_str(&format!("&#{};", u32::from(c))),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::SeedOutcome;

    #[test]
    fn any_scenario_path_and_failure_gives_well_formed_xml() {
        let nasty =
            "a&b<c>d\"e'f\tg\nh\r\u{1}\u{1b}[2J\u{7f}\u{85}\u{fffe}\u{ffff}\u{10ffff}é]]>.toml";
        let results = vec![
            SeedOutcome::new(nasty, 1, vec![], None),
            SeedOutcome::new(nasty, 2, vec![format!("panicked: {nasty}")], None),
        ];
        let mut f = SweepFile::new(
            "1..=3".into(),
            None,
            vec![nasty.into()],
            1.0,
            results,
            vec![],
        );
        f.incomplete = true;
        let xml = junit(&f);
        let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite") && n.attribute("name") != Some("sweep"))
            .unwrap();
        // What XML can carry comes back as it was; only the forbidden characters changed.
        let expected =
            "a&b<c>d\"e'f\tg\nh\r\\u{1}\\u{1b}[2J\u{7f}\u{85}\\u{fffe}\\u{ffff}\u{10ffff}é]]>.toml";
        assert_eq!(suite.attribute("name"), Some(expected));
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(
            failure.attribute("message"),
            Some(format!("panicked: {expected}").as_str())
        );
        assert!(doc
            .descendants()
            .any(|n| n.has_tag_name("error") && n.attribute("message").is_some()));
    }
}
