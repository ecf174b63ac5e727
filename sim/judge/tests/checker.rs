//! The checkers and reports on small hand-made histories and traces: for each checker a
//! case that must find the problem and one that must not, exact windows and intervals,
//! snapshots of the Markdown and JSON of one small synthetic run, and the SVG's shape.

use std::collections::BTreeMap;

use failover_core::plan::PlanKind;
use judge::checker::{self, analyze, Analysis, Input};
use judge::fault_record::FaultRecord;
use judge::history::{Entry, OpKind, Phase};
use judge::read_back::ReadBack;
use judge::report::{self, ReportInput};
use judge::trace::{Event, ServerStatus, TraceEvent};
use scenario::{Expect, SimDuration, Status};

// ---- builders -------------------------------------------------------------------------

fn ev(at_ms: u64, op: u64, phase: Phase, f: OpKind, key: &str, value: Option<&str>) -> Entry {
    Entry {
        at_ms,
        client: (op % 2) as u32,
        op,
        phase,
        f,
        port: if key.contains("7002") { 7002 } else { 7001 },
        key: key.to_string(),
        value: value.map(str::to_string),
        error: matches!(phase, Phase::Fail | Phase::Unknown).then(|| "timeout".to_string()),
    }
}

/// An operation: its invoke at `at`, its completion `took` later with `phase`.
#[allow(clippy::too_many_arguments)]
fn op(
    h: &mut Vec<Entry>,
    op: u64,
    f: OpKind,
    key: &str,
    value: Option<&str>,
    at: u64,
    took: u64,
    phase: Phase,
    result: Option<&str>,
) {
    h.push(ev(at, op, Phase::Invoke, f, key, value));
    h.push(ev(at + took, op, phase, f, key, result));
}

fn set(h: &mut Vec<Entry>, n: u64, key: &str, value: &str, at: u64, phase: Phase) {
    op(h, n, OpKind::Write, key, Some(value), at, 5, phase, None);
}

fn tr(at_ms: u64, source: &str, event: Event) -> TraceEvent {
    TraceEvent {
        at_ms,
        source: source.to_string(),
        event,
    }
}

fn crash(machine: &str) -> Event {
    Event::FaultTookEffect {
        fault: 0,
        kind: "crash".into(),
        machine: Some(machine.into()),
        process: None,
        detail: None,
    }
}

fn replica_of(port: u16, master: &str) -> Event {
    Event::ReplicaOf {
        port,
        master: master.into(),
    }
}

fn failed(machine: &str) -> Event {
    Event::MachineFailed {
        machine: machine.into(),
        failures: 3,
    }
}

fn read_back(port: u16, keys: &[(&str, Option<&str>)], counter: i64, list: &[&str]) -> ReadBack {
    ReadBack {
        port,
        keys: keys
            .iter()
            .map(|(k, v)| (k.to_string(), Ok(v.map(str::to_string))))
            .collect(),
        counter: Ok(Some(counter)),
        list: Ok(list.iter().map(|s| s.to_string()).collect()),
    }
}

fn state(rb: ReadBack) -> BTreeMap<u16, ReadBack> {
    BTreeMap::from([(rb.port, rb)])
}

fn run(history: &[Entry], trace: &[TraceEvent], f: impl FnOnce(&mut Input)) -> Analysis {
    let mut input = Input::new(history, trace, 60_000);
    f(&mut input);
    analyze(&input)
}

// ---- requests --------------------------------------------------------------------------

#[test]
fn requests_are_counted_overall_and_per_port() {
    let mut h = Vec::new();
    set(&mut h, 0, "w:7001:0:0", "a", 100, Phase::Ok);
    set(&mut h, 1, "w:7002:1:1", "b", 100, Phase::Fail);
    op(
        &mut h,
        2,
        OpKind::Incr,
        "counter:7001",
        None,
        200,
        1500,
        Phase::Ok,
        Some("1"),
    );
    op(
        &mut h,
        3,
        OpKind::Read,
        "w:7002:1:1",
        None,
        300,
        1000,
        Phase::Unknown,
        None,
    );
    h.push(ev(
        400,
        4,
        Phase::Invoke,
        OpKind::Rpush,
        "list:7001",
        Some("x"),
    ));
    let a = run(&h, &[], |_| {});
    let t = &a.requests.total;
    assert_eq!(
        (t.invoked, t.ok, t.failed, t.unknown, t.incomplete, t.waited),
        (5, 2, 1, 1, 1, 1)
    );
    assert_eq!(a.requests.per_port[&7001].invoked, 3);
    assert_eq!(a.requests.per_port[&7001].waited, 1);
    assert_eq!(a.requests.per_port[&7002].failed, 1);
    // Exactly at the threshold is not waited.
    let mut h = Vec::new();
    op(
        &mut h,
        0,
        OpKind::Incr,
        "counter:7001",
        None,
        0,
        1000,
        Phase::Ok,
        Some("1"),
    );
    assert_eq!(run(&h, &[], |_| {}).requests.total.waited, 0);
}

// ---- lost writes -----------------------------------------------------------------------

#[test]
fn an_acknowledged_set_missing_at_the_end_is_lost() {
    let mut h = Vec::new();
    set(&mut h, 0, "w:7001:0:0", "v0", 100, Phase::Ok);
    set(&mut h, 1, "w:7001:1:1", "v1", 200, Phase::Ok);
    set(&mut h, 2, "w:7001:0:2", "v2", 300, Phase::Ok);
    let fin = state(read_back(
        7001,
        &[
            ("w:7001:0:0", Some("v0")),
            ("w:7001:1:1", None),
            ("w:7001:0:2", Some("other")),
        ],
        0,
        &[],
    ));
    let a = run(&h, &[], |i| i.final_state = fin);
    let l = &a.lost_writes;
    assert_eq!((l.total, l.writes, l.unverified), (2, 2, 0));
    assert_eq!(l.listed[0].key, "w:7001:1:1");
    assert_eq!(l.listed[0].found, "key missing");
    assert_eq!(l.listed[1].found, "another value: other");
}

#[test]
fn acknowledged_sets_all_present_are_not_lost() {
    let mut h = Vec::new();
    set(&mut h, 0, "w:7001:0:0", "v0", 100, Phase::Ok);
    // Failed and unknown writes may be missing: that is no loss.
    set(&mut h, 1, "w:7001:1:1", "v1", 200, Phase::Fail);
    set(&mut h, 2, "w:7001:0:2", "v2", 300, Phase::Unknown);
    let fin = state(read_back(7001, &[("w:7001:0:0", Some("v0"))], 0, &[]));
    let a = run(&h, &[], |i| i.final_state = fin);
    assert_eq!(a.lost_writes.total, 0);
    assert!(a.lost_writes.listed.is_empty());
}

#[test]
fn rpush_and_incr_losses() {
    let mut h = Vec::new();
    op(
        &mut h,
        0,
        OpKind::Rpush,
        "list:7001",
        Some("a"),
        0,
        5,
        Phase::Ok,
        None,
    );
    op(
        &mut h,
        1,
        OpKind::Rpush,
        "list:7001",
        Some("b"),
        10,
        5,
        Phase::Ok,
        None,
    );
    for (i, v) in ["1", "2", "3", "4"].iter().enumerate() {
        let n = 2 + i as u64;
        op(
            &mut h,
            n,
            OpKind::Incr,
            "counter:7001",
            None,
            20 + n,
            5,
            Phase::Ok,
            Some(v),
        );
    }
    // The list kept "a" only; the counter fell back to 2 after a failover.
    let fin = state(read_back(7001, &[], 2, &["a"]));
    let a = run(&h, &[], |i| i.final_state = fin.clone());
    assert_eq!((a.lost_writes.rpushes, a.lost_writes.increments), (1, 2));
    assert_eq!(a.lost_writes.total, 3);
    // All there: nothing lost.
    let fin = state(read_back(7001, &[], 4, &["a", "b"]));
    let a = run(&h, &[], |i| i.final_state = fin);
    assert_eq!(a.lost_writes.total, 0);
}

#[test]
fn an_unreadable_final_state_is_unverified_not_lost() {
    let mut h = Vec::new();
    set(&mut h, 0, "w:7001:0:0", "v0", 100, Phase::Ok);
    let mut rb = read_back(7001, &[], 0, &[]);
    rb.keys
        .insert("w:7001:0:0".into(), Err("timeout".to_string()));
    let a = run(&h, &[], |i| i.final_state = state(rb));
    assert_eq!((a.lost_writes.total, a.lost_writes.unverified), (0, 1));
    // No read-back at all for the port.
    let a = run(&h, &[], |_| {});
    assert_eq!((a.lost_writes.total, a.lost_writes.unverified), (0, 1));
    // The bound passes, and says what it could not see.
    let expect = Expect {
        max_lost_writes: Some(0),
        ..Expect::default()
    };
    let r = checker::expectations(&a, &expect);
    assert!(r[0].passed);
    assert_eq!(r[0].message, "lost writes: 0 <= allowed 0 (1 unverified)");
}

// ---- appeared although failed --------------------------------------------------------

#[test]
fn a_failed_set_present_at_the_end_appeared() {
    let mut h = Vec::new();
    set(&mut h, 0, "w:7001:0:0", "v0", 100, Phase::Fail);
    op(
        &mut h,
        1,
        OpKind::Rpush,
        "list:7001",
        Some("p"),
        200,
        5,
        Phase::Fail,
        None,
    );
    let fin = state(read_back(7001, &[("w:7001:0:0", Some("v0"))], 0, &["p"]));
    let a = run(&h, &[], |i| i.final_state = fin);
    assert_eq!(a.appeared_although_failed.total, 2);
    assert_eq!(a.appeared_although_failed.listed[0].key, "w:7001:0:0");
}

#[test]
fn a_failed_set_absent_at_the_end_did_not_appear() {
    let mut h = Vec::new();
    set(&mut h, 0, "w:7001:0:0", "v0", 100, Phase::Fail);
    // Unknown outcomes may go either way.
    set(&mut h, 1, "w:7001:1:1", "v1", 100, Phase::Unknown);
    let fin = state(read_back(
        7001,
        &[("w:7001:0:0", None), ("w:7001:1:1", Some("v1"))],
        0,
        &[],
    ));
    let a = run(&h, &[], |i| i.final_state = fin);
    assert_eq!(a.appeared_although_failed.total, 0);
}

// ---- stale reads -----------------------------------------------------------------------

#[test]
fn a_read_returning_nil_after_the_ack_is_stale() {
    let mut h = Vec::new();
    set(&mut h, 0, "w:7001:0:0", "v0", 100, Phase::Ok); // acked at 105
    op(
        &mut h,
        1,
        OpKind::Read,
        "w:7001:0:0",
        None,
        200,
        5,
        Phase::Ok,
        None,
    );
    op(
        &mut h,
        2,
        OpKind::Read,
        "w:7001:0:0",
        None,
        300,
        5,
        Phase::Ok,
        Some("zz"),
    );
    let a = run(&h, &[], |_| {});
    assert_eq!((a.stale_reads.checked, a.stale_reads.total), (2, 2));
    let s = &a.stale_reads.listed[0];
    assert_eq!(
        (s.expected.as_deref(), s.got.as_deref()),
        (Some("v0"), None)
    );
    assert_eq!((s.write_acked_ms, s.read_invoked_ms), (105, 200));
}

#[test]
fn reads_that_see_the_write_or_start_before_its_ack_are_not_stale() {
    let mut h = Vec::new();
    set(&mut h, 0, "w:7001:0:0", "v0", 100, Phase::Ok); // acked at 105
    op(
        &mut h,
        1,
        OpKind::Read,
        "w:7001:0:0",
        None,
        102,
        5,
        Phase::Ok,
        None,
    );
    op(
        &mut h,
        2,
        OpKind::Read,
        "w:7001:0:0",
        None,
        200,
        5,
        Phase::Ok,
        Some("v0"),
    );
    op(
        &mut h,
        3,
        OpKind::Read,
        "w:7001:0:0",
        None,
        300,
        5,
        Phase::Unknown,
        None,
    );
    let a = run(&h, &[], |_| {});
    assert_eq!((a.stale_reads.checked, a.stale_reads.total), (1, 0));
}

// ---- unavailability --------------------------------------------------------------------

#[test]
fn windows_run_from_the_last_ok_to_the_next_ok() {
    let mut h = Vec::new();
    set(&mut h, 0, "w:7001:0:0", "a", 995, Phase::Ok); // ok at 1000
    set(&mut h, 1, "w:7001:1:1", "b", 1495, Phase::Fail); // fail at 1500
    set(&mut h, 2, "w:7002:0:2", "c", 1995, Phase::Unknown); // unknown at 2000
    set(&mut h, 3, "w:7001:1:3", "d", 2995, Phase::Ok); // ok at 3000
    set(&mut h, 4, "w:7001:0:4", "e", 3995, Phase::Fail); // fail at 4000, never an ok after
    h.push(ev(5000, 5, Phase::Invoke, OpKind::Read, "w:7001:0:0", None));
    let a = run(&h, &[], |_| {});
    let w = &a.unavailability.windows;
    assert_eq!(w.len(), 2);
    assert_eq!(
        (
            w[0].start_ms,
            w[0].end_ms,
            w[0].failed,
            w[0].unknown,
            w[0].open
        ),
        (1000, 3000, 1, 1, false)
    );
    assert_eq!((w[1].start_ms, w[1].end_ms, w[1].open), (3000, 5000, true));
    assert_eq!(
        (a.unavailability.longest_ms, a.unavailability.total_ms),
        (2000, 4000)
    );
    // Per port: 7002 saw only the unknown, so its window runs from the history's first
    // event.
    let p = &a.unavailability.per_port[&7002];
    assert_eq!((p.count, p.longest_ms), (1, 5000 - 995));
}

#[test]
fn a_history_of_successes_has_no_window() {
    let mut h = Vec::new();
    for n in 0..5 {
        set(&mut h, n, &format!("w:7001:0:{n}"), "v", n * 100, Phase::Ok);
    }
    let a = run(&h, &[], |_| {});
    assert!(a.unavailability.windows.is_empty());
    assert_eq!(a.unavailability.total_ms, 0);
}

// ---- split brain -----------------------------------------------------------------------

fn accepted(at: u64, machine: &str, port: u16) -> TraceEvent {
    tr(at, machine, Event::WriteAccepted { port })
}

#[test]
fn two_masters_overlapping_three_seconds_is_three_seconds_of_split_brain() {
    let trace = vec![
        accepted(10_000, "redis1", 9001),
        accepted(10_000, "redis1", 9002),
        accepted(20_000, "redis2", 9001),
        tr(23_000, "redis1", replica_of(9001, "redis2:9001")),
    ];
    let a = run(&[], &trace, |_| {});
    let sb = &a.split_brain;
    assert_eq!((sb.total_ms, sb.longest_ms), (3000, 3000));
    assert_eq!(sb.per_port[&9001], 3000);
    assert_eq!(sb.intervals[0].masters, vec!["redis1", "redis2"]);
    assert_eq!(
        (sb.intervals[0].start_ms, sb.intervals[0].end_ms),
        (20_000, 23_000)
    );
}

#[test]
fn a_handover_or_a_crash_before_the_new_master_is_no_split_brain() {
    let trace = vec![
        accepted(10_000, "redis1", 9001),
        tr(20_000, "redis1", replica_of(9001, "redis2:9001")),
        accepted(20_000, "redis2", 9001),
        accepted(10_000, "redis1", 9002),
        tr(30_000, "nemesis", crash("redis1")),
        tr(31_000, "redis2", Event::Promoted { port: 9002 }),
        accepted(31_000, "redis2", 9002),
    ];
    let a = run(&[], &trace, |_| {});
    assert_eq!(a.split_brain.total_ms, 0);
    assert!(a.split_brain.intervals.is_empty());
}

#[test]
fn split_brain_ends_with_a_crash_or_the_run() {
    let trace = vec![
        accepted(10_000, "redis1", 9001),
        accepted(20_000, "redis2", 9001),
        tr(22_000, "nemesis", crash("redis1")),
        accepted(50_000, "redis3", 9002),
        accepted(58_000, "redis4", 9002),
    ];
    let a = run(&[], &trace, |_| {}); // the run lasts 60 s
    assert_eq!(a.split_brain.per_port[&9001], 2000);
    assert_eq!(a.split_brain.per_port[&9002], 2000);
    assert_eq!(a.split_brain.total_ms, 4000);
}

// ---- fault timings and expectations ----------------------------------------------------

fn fault(index: usize, kind: &str, at: u64, healed: Option<u64>) -> FaultRecord {
    FaultRecord {
        index,
        kind: kind.to_string(),
        at_ms: at,
        took_effect_ms: Some(at),
        healed_ms: healed,
        problem: None,
    }
}

#[test]
fn fault_timings_measure_detection_first_write_and_redundancy() {
    let mut h = Vec::new();
    set(&mut h, 0, "w:7001:0:0", "a", 29_000, Phase::Ok);
    // Sent before the outage, slow: not recovery.
    op(
        &mut h,
        1,
        OpKind::Rpush,
        "list:7001",
        Some("x"),
        29_990,
        900,
        Phase::Ok,
        None,
    );
    set(&mut h, 2, "w:7001:0:2", "b", 30_000, Phase::Unknown); // at 30_005
    op(
        &mut h,
        3,
        OpKind::Read,
        "w:7001:0:0",
        None,
        31_000,
        10,
        Phase::Ok,
        Some("a"),
    );
    set(&mut h, 4, "w:7001:1:4", "c", 32_000, Phase::Ok); // acked at 32_005
    let trace = vec![tr(33_000, "controller", failed("redis1"))];
    let a = run(&h, &trace, |i| {
        i.faults = vec![fault(0, "crash", 30_000, None)];
        i.redundant_at_ms = Some(60_000);
    });
    let t = &a.faults[0];
    assert_eq!(t.detection_ms, Some(3000));
    assert_eq!(t.first_ok_write_ms, Some(2005));
    assert_eq!(t.redundancy_ms, Some(30_000));

    // Nothing failed after the fault: writers never stopped.
    let a = run(&h[..4], &[], |i| {
        i.faults = vec![fault(0, "pause", 31_000, None)]
    });
    assert_eq!(a.faults[0].first_ok_write_ms, Some(0));
    assert_eq!(a.faults[0].detection_ms, None);
}

#[test]
fn expectations_pass_and_fail_with_messages() {
    let mut h = Vec::new();
    set(&mut h, 0, "w:7001:0:0", "v0", 0, Phase::Ok);
    set(&mut h, 1, "w:7001:0:1", "v1", 1000, Phase::Unknown);
    set(&mut h, 2, "w:7001:0:2", "v2", 4000, Phase::Ok);
    let fin = state(read_back(
        7001,
        &[
            ("w:7001:0:0", None),
            ("w:7001:0:1", None),
            ("w:7001:0:2", Some("v2")),
        ],
        0,
        &[],
    ));
    let a = run(&h, &[], |i| {
        i.final_state = fin;
        i.faults = vec![fault(0, "partition", 500, Some(10_000))];
        i.redundant_at_ms = Some(25_000);
    });
    let expect = Expect {
        max_lost_writes: Some(0),
        max_failed_requests: Some(1),
        max_unavailability: Some(SimDuration::from_secs(5)),
        max_total_unavailability: Some(SimDuration::from_secs(3)),
        redundancy_within: Some(SimDuration::from_secs(10)),
        max_split_brain: Some(SimDuration::ZERO),
        max_false_failovers: None,
    };
    let r = checker::expectations(&a, &expect);
    let lines: Vec<(bool, &str)> = r.iter().map(|e| (e.passed, e.message.as_str())).collect();
    assert_eq!(
        lines,
        vec![
            (false, "lost writes: 1 > allowed 0"),
            (true, "failed requests: 1 <= allowed 1"),
            (true, "longest unavailability: 4.000s <= allowed 5.000s"),
            (false, "total unavailability: 4.000s > allowed 3.000s"),
            (
                false,
                "redundancy after the last fault: 15.000s > allowed 10.000s"
            ),
            (true, "longest split brain: 0.000s <= allowed 0.000s"),
        ]
    );
    // Unset bounds are not checked; redundancy that never came back fails.
    let only = Expect {
        redundancy_within: Some(SimDuration::from_secs(10)),
        ..Expect::default()
    };
    let a = run(&h, &[], |_| {});
    let r = checker::expectations(&a, &only);
    assert_eq!(r.len(), 1);
    assert_eq!(
        r[0].message,
        "redundancy after the last fault: never > allowed 10.000s"
    );
}

// ---- odd data --------------------------------------------------------------------------

#[test]
fn empty_and_odd_inputs_give_an_answer() {
    let a = run(&[], &[], |_| {});
    assert_eq!(a.requests.total.invoked, 0);
    assert_eq!(a.timeline.buckets.len(), 60);
    // A completion without an invoke, a duplicate completion, unknown trace lines.
    let h = vec![
        ev(5, 9, Phase::Ok, OpKind::Write, "w:7001:0:9", None),
        ev(10, 1, Phase::Invoke, OpKind::Incr, "counter:7001", None),
        ev(
            20,
            1,
            Phase::Ok,
            OpKind::Incr,
            "counter:7001",
            Some("not a number"),
        ),
        ev(30, 1, Phase::Fail, OpKind::Incr, "counter:7001", None),
    ];
    let trace = vec![
        // A crash that names no machine, and a kill of a process that is no redis server.
        tr(1, "?", Event::HaproxyStarted),
        tr(
            4,
            "nemesis",
            Event::FaultTookEffect {
                fault: 0,
                kind: "crash".into(),
                machine: None,
                process: None,
                detail: None,
            },
        ),
        tr(
            5,
            "nemesis",
            Event::FaultTookEffect {
                fault: 0,
                kind: "kill".into(),
                machine: Some("redis1".into()),
                process: Some("redis-notaport".into()),
                detail: None,
            },
        ),
    ];
    let fin = state(read_back(7001, &[], -5, &[]));
    let a = run(&h, &trace, |i| {
        i.final_state = fin;
        i.faults = vec![FaultRecord {
            index: 0,
            kind: "kill".into(),
            at_ms: 7,
            took_effect_ms: None,
            healed_ms: None,
            problem: Some("never".into()),
        }];
        i.duration_ms = 0;
    });
    assert_eq!((a.requests.total.invoked, a.requests.total.ok), (1, 1));
    assert_eq!(a.faults[0].detection_ms, None);
    let input = ReportInput {
        scenario: "odd",
        description: "",
        status: &Status::MustPass,
        seed: 0,
        world: report::World::Sim,
        analysis: &a,
        faults: &[],
        expectations: &[],
    };
    assert!(report::svg::svg(&input).starts_with("<svg"));
    // Times at the end of the clock.
    let h = vec![
        ev(
            u64::MAX,
            1,
            Phase::Invoke,
            OpKind::Write,
            "w:7001:0:1",
            Some("v"),
        ),
        ev(3, 1, Phase::Ok, OpKind::Write, "w:7001:0:1", None),
    ];
    let a = run(&h, &[], |i| {
        i.duration_ms = u64::MAX;
        i.faults = vec![fault(0, "crash", u64::MAX, None)];
    });
    let input = ReportInput {
        scenario: "late",
        description: "",
        status: &Status::MustPass,
        seed: 0,
        world: report::World::Sim,
        analysis: &a,
        faults: &[],
        expectations: &[],
    };
    assert!(report::svg::svg(&input).starts_with("<svg"));
}

// ---- reports ---------------------------------------------------------------------------

/// A small run: the master's machine crashes at 10 s, writes fail for 3 s, redis2 is
/// promoted, one write is lost and one read is stale.
fn synthetic() -> (Analysis, Vec<FaultRecord>, Vec<checker::ExpectationResult>) {
    let mut h = Vec::new();
    let mut n = 0;
    let mut keys = Vec::new();
    for t in (5_000..20_000).step_by(500) {
        let key = format!("w:{}:0:{n}", if n % 2 == 0 { 7001 } else { 7002 });
        let phase = if (10_000..12_500).contains(&t) {
            Phase::Unknown
        } else {
            Phase::Ok
        };
        let took = if phase == Phase::Unknown { 500 } else { 4 };
        op(
            &mut h,
            n,
            OpKind::Write,
            &key,
            Some(&format!("v{n}")),
            t,
            took,
            phase,
            None,
        );
        // The write acknowledged just before the crash never reached redis2; the unknown
        // ones never arrived either.
        let found = (phase == Phase::Ok && t != 9_500).then(|| format!("v{n}"));
        keys.push((key, found));
        n += 1;
    }
    op(
        &mut h,
        n,
        OpKind::Read,
        "w:7002:0:1",
        None,
        14_000,
        3,
        Phase::Ok,
        None,
    );
    let trace = vec![
        accepted(5_002, "redis1", 9001),
        tr(10_000, "nemesis", crash("redis1")),
        tr(
            11_500,
            "haproxy1",
            Event::ServerState {
                backend: "redis_9001".into(),
                server: "redis1".into(),
                status: ServerStatus::Down,
                reason: "Layer4 timeout".into(),
                active_left: 0,
                backup_left: 1,
            },
        ),
        tr(12_000, "controller", failed("redis1")),
        tr(
            12_000,
            "controller",
            Event::PlanStarted {
                plan: 1,
                kind: PlanKind::FailedRedis,
                failed: "redis1".into(),
                survivor: Some("redis2".into()),
            },
        ),
        tr(12_500, "redis2", Event::Promoted { port: 9001 }),
        tr(13_000, "redis2", Event::WriteAccepted { port: 9001 }),
        tr(18_000, "redis3", replica_of(9001, "redis2:9001")),
        tr(
            19_000,
            "controller",
            Event::PlanFinished {
                plan: 1,
                replacement: Some("redis3".into()),
            },
        ),
    ];
    let mut fin_keys = BTreeMap::new();
    for port in [7001u16, 7002] {
        let rb = ReadBack {
            port,
            keys: keys
                .iter()
                .filter(|(k, _)| k.contains(&port.to_string()))
                .map(|(k, v)| (k.clone(), Ok(v.clone())))
                .collect(),
            counter: Ok(None),
            list: Ok(vec![]),
        };
        fin_keys.insert(port, rb);
    }
    let faults = vec![fault(0, "crash", 10_000, None)];
    let mut input = Input::new(&h, &trace, 20_000);
    input.final_state = fin_keys;
    input.faults = faults.clone();
    input.redundant_at_ms = Some(19_000);
    let a = analyze(&input);
    let expect = Expect {
        max_lost_writes: Some(0),
        max_unavailability: Some(SimDuration::from_secs(5)),
        ..Expect::default()
    };
    let e = checker::expectations(&a, &expect);
    (a, faults, e)
}

fn with_input<T>(f: impl FnOnce(&ReportInput) -> T) -> T {
    let (a, faults, e) = synthetic();
    f(&ReportInput {
        scenario: "synthetic-crash",
        description: "redis1 crashes at 10s; redis2 takes over",
        status: &Status::KnownWeakness {
            reason: "nothing waits for redis2 to have the writes".into(),
        },
        seed: 7,
        world: report::World::Sim,
        analysis: &a,
        faults: &faults,
        expectations: &e,
    })
}

#[test]
fn the_synthetic_run_finds_what_was_planted() {
    let (a, _, e) = synthetic();
    assert_eq!(a.lost_writes.total, 1);
    assert_eq!(a.stale_reads.total, 1);
    assert_eq!(a.unavailability.windows.len(), 1);
    assert_eq!(a.faults[0].detection_ms, Some(2000));
    assert_eq!(a.split_brain.total_ms, 0);
    assert_eq!(e.iter().filter(|e| !e.passed).count(), 1);
}

#[test]
fn markdown_report_snapshot() {
    insta::assert_snapshot!(with_input(report::markdown::markdown));
}

#[test]
fn the_markdown_says_whether_a_failure_is_a_regression() {
    let (a, faults, e) = synthetic();
    let markdown = |status: &Status| {
        report::markdown::markdown(&ReportInput {
            scenario: "synthetic-crash",
            description: "",
            status,
            seed: 7,
            world: report::World::Sim,
            analysis: &a,
            faults: &faults,
            expectations: &e,
        })
    };
    let must_pass = markdown(&Status::MustPass);
    assert!(
        must_pass.contains("\n\nStatus: must pass (a failure is a regression).\n\n"),
        "{must_pass}"
    );
    let weak = markdown(&Status::KnownWeakness {
        reason: "no quorum".into(),
    });
    assert!(
        weak.contains("Status: known weakness (expected to fail until fixed): no quorum\n"),
        "{weak}"
    );
}

#[test]
fn json_report_snapshot() {
    insta::assert_snapshot!(with_input(report::json::json));
}

/// Every key in `value` (at any depth, except the port numbers of per-port maps).
fn keys(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                if k.parse::<u64>().is_err() {
                    out.push(k.clone());
                }
                keys(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

#[test]
fn every_json_key_is_described_in_schema_md() {
    let schema = include_str!("../src/report/SCHEMA.md");
    let json: serde_json::Value = serde_json::from_str(&with_input(report::json::json)).unwrap();
    assert_eq!(json["schema_version"], 1);
    let top: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert!(top.len() >= 8);
    let mut all = Vec::new();
    keys(&json, &mut all);
    // A fault record with a problem carries one more key.
    all.push("problem".into());
    let missing: Vec<&String> = all
        .iter()
        .filter(|k| !schema.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "keys missing from SCHEMA.md: {missing:?}"
    );
}

/// Checks that the tags of an XML-ish text nest properly; returns the element names seen.
fn balanced(text: &str) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        let end = rest[i..].find('>').expect("unclosed tag") + i;
        let tag = &rest[i + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
        } else {
            let name = tag.split_whitespace().next().unwrap().trim_end_matches('/');
            names.push(name.to_string());
            if !tag.ends_with('/') && !["meta"].contains(&name) {
                stack.push(name.to_string());
            }
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    names
}

#[test]
fn the_svg_is_balanced_and_shades_each_fault() {
    let (a, _, e) = synthetic();
    let faults = vec![
        fault(0, "crash", 10_000, None),
        fault(1, "partition", 2_000, Some(4_000)),
    ];
    let input = ReportInput {
        scenario: "two <faults>",
        description: "",
        status: &Status::MustPass,
        seed: 1,
        world: report::World::Sim,
        analysis: &a,
        faults: &faults,
        expectations: &e,
    };
    let svg = report::svg::svg(&input);
    assert!(svg.starts_with("<svg"));
    assert!(svg.trim_end().ends_with("</svg>"));
    balanced(&svg);
    assert_eq!(svg.matches(r#"class="fault""#).count(), 2);
    assert!(svg.contains("10 s"), "axis labels in seconds");
    assert!(svg.contains("redis2:9001 promoted"));
    assert!(svg.contains("plan 1 started"));
    assert!(svg.contains("haproxy1: redis_9001/redis1 DOWN"));
    assert_eq!(svg, report::svg::svg(&input), "deterministic");
}

#[test]
fn the_html_page_is_self_contained() {
    let html = with_input(report::html::html);
    assert!(html.starts_with("<!DOCTYPE html>"));
    let names = balanced(&html);
    assert!(names.iter().any(|n| n == "svg"));
    assert!(names.iter().any(|n| n == "table"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("src="));
    assert!(html.contains("FAILED: 1 of 2 expectations not met."));
}

#[test]
fn write_all_writes_four_files() {
    let dir = tempfile::tempdir().unwrap();
    with_input(|i| report::write_all(dir.path(), i)).unwrap();
    for f in ["report.json", "report.md", "timeline.svg", "report.html"] {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        assert!(!text.is_empty(), "{f}");
    }
}

#[test]
fn analysis_is_deterministic() {
    let a = serde_json::to_string(&synthetic().0).unwrap();
    let b = serde_json::to_string(&synthetic().0).unwrap();
    assert_eq!(a, b);
}

// ---- trace.jsonl ------------------------------------------------------------------------

#[test]
fn a_trace_line_names_its_event_and_reads_back_as_the_same_event() {
    let entries = vec![
        tr(30_000, "nemesis", crash("redis1")),
        tr(31_000, "redis2", Event::Promoted { port: 9001 }),
        tr(
            32_000,
            "controller",
            Event::StepFailed {
                plan: 1,
                step: 3,
                kind: failover_core::plan::StepKind::Launch,
                error: failover_core::error::StepError::NotReady(
                    failover_core::error::NotReady::NoSurvivor {
                        step: failover_core::plan::StepKind::Launch,
                    },
                ),
                retry_in_ms: 1000,
            },
        ),
    ];
    for e in &entries {
        let line = serde_json::to_string(e).unwrap();
        assert!(line.starts_with(&format!("{{\"at_ms\":{},\"source\":", e.at_ms)));
        let back: TraceEvent = serde_json::from_str(&line).unwrap();
        assert_eq!(&back, e, "{line}");
    }
    let line = serde_json::to_string(&entries[1]).unwrap();
    assert_eq!(
        line,
        r#"{"at_ms":31000,"source":"redis2","event":"promoted","port":9001}"#
    );
}
