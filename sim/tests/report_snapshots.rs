//! insta snapshots of the Markdown and JSON reports of two real scenarios: a failover that
//! recovers cleanly and one that loses acknowledged writes. A change to either shows up
//! as a reviewable snapshot diff (`cargo insta review`).

use std::path::Path;

fn generated(name: &str) -> sim::reports::Generated {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"));
    sim::reports::generate(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn file<'a>(g: &'a sim::reports::Generated, name: &str) -> &'a str {
    g.files
        .iter()
        .find(|(p, _)| p.file_name().is_some_and(|f| f == name))
        .map(|(_, c)| c.as_str())
        .expect("the report file is generated")
}

#[test]
fn replica_machine_crash_reports() {
    let g = generated("replica-machine-crash");
    insta::assert_snapshot!("replica_machine_crash_md", file(&g, "report.md"));
    insta::assert_snapshot!("replica_machine_crash_json", file(&g, "report.json"));
}

#[test]
fn master_dies_with_writes_in_flight_reports() {
    let g = generated("master-dies-with-writes-in-flight");
    insta::assert_snapshot!("writes_in_flight_md", file(&g, "report.md"));
    insta::assert_snapshot!("writes_in_flight_json", file(&g, "report.json"));
}
