//! Scenario files: a full file with every fault kind, defaults, the round trip through
//! `to_toml`, and the exact `file:line:col: field: message` of each class of error.

use scenario::{
    load, parse, processes_of, to_toml, FailoverSettings, FaultAction, Mix, Policy, Scenario,
    SimDuration, Status, Topology, Workload, FAULT_KINDS,
};

const FULL: &str = r#"description = "The master's machine crashes while the app writes"
status = "known-weakness"
reason = "asynchronous replication loses the writes redis1 had not shipped"
duration = "2m"
seed = 1

[topology]
latency = "2ms"
tick = "1ms"

[workload]
clients = 8
rate = 200
ports = [7001]
timeout = "2s"
start = "15s"
stop = "1m50s"
mix = { write = 50, read = 50 }

[expect]
max_lost_writes = 0
max_failed_requests = 100
max_unavailability = "10s"
max_total_unavailability = "30s"
redundancy_within = "5m"
max_split_brain = "0s"

[failover]
policy = "seed"
interval = "500ms"
fail_count = 2

[[faults]]
at = "30s"
kind = "crash"
machine = "redis1"

[[faults]]
at = "31s"
kind = "kill"
machine = "redis2"
process = "redis-9002"

[[faults]]
at = "31500ms"
kind = "stop"
machine = "redis2"
process = "redis-9001"

[[faults]]
at = "32s"
kind = "restart"
machine = "redis2"
process = "redis-9002"

[[faults]]
at = "33s"
kind = "pause"
machine = "haproxy1"
process = "haproxy"
for = "5s"

[[faults]]
at = "40s"
kind = "partition"
groups = [["haproxy1"], ["redis1", "redis2"], ["monit"]]
heal_after = "10s"

[[faults]]
at = "41s"
kind = "partition-oneway"
from = ["redis1"]
to = ["monit"]

[[faults]]
at = "42s"
kind = "latency"
between = [["app"], ["haproxy1"]]
latency = "200ms"
heal_after = "1m"

[[faults]]
at = "43s"
kind = "loss"
between = [["app"], ["haproxy2"]]
rate = 0.1

[[faults]]
at = "44s"
kind = "launch-fails"
count = 2

[[faults]]
at = "45s"
kind = "slow-boot"
extra = "3m"
"#;

const HEAD: &str = "duration = \"2m\"\nseed = 1\nstatus = \"must-pass\"\n";

fn full() -> Scenario {
    parse(FULL, "full.toml").expect("the full file parses")
}

/// The error for `text` as a person sees it.
fn error(text: &str) -> String {
    match parse(text, "t.toml") {
        Ok(s) => panic!("expected an error, parsed {s:?}"),
        Err(e) => e.to_string(),
    }
}

/// The error for a file of HEAD (three lines) followed by `rest`.
fn error_after_head(rest: &str) -> String {
    error(&format!("{HEAD}{rest}"))
}

#[test]
fn full_file_parses_with_every_fault_kind() {
    let s = full();
    assert_eq!(
        s.description,
        "The master's machine crashes while the app writes"
    );
    assert_eq!(
        s.status,
        Status::KnownWeakness {
            reason: "asynchronous replication loses the writes redis1 had not shipped".into()
        }
    );
    assert_eq!(s.duration, SimDuration::from_secs(120));
    assert_eq!(s.seed, 1);
    assert_eq!(s.topology.latency, SimDuration::from_millis(2));
    assert_eq!(s.workload.clients, 8);
    assert_eq!(s.workload.ports, vec![7001]);
    assert_eq!(s.workload.stop, Some(SimDuration::from_secs(110)));
    assert_eq!(
        s.workload.mix,
        Mix {
            write: 50,
            read: 50,
            incr: 0,
            rpush: 0
        }
    );
    assert_eq!(s.expect.max_lost_writes, Some(0));
    assert_eq!(
        s.expect.redundancy_within,
        Some(SimDuration::from_secs(300))
    );
    assert_eq!(s.expect.max_split_brain, Some(SimDuration::ZERO));
    assert_eq!(s.failover.policy, Policy::Seed);
    assert_eq!(s.failover.interval, SimDuration::from_millis(500));
    assert_eq!(s.failover.fail_count, 2);

    let kinds: Vec<&str> = s.faults.iter().map(|f| f.action.kind()).collect();
    assert_eq!(kinds, FAULT_KINDS.to_vec());
    assert_eq!(
        s.faults[2].action,
        FaultAction::Stop {
            machine: "redis2".into(),
            process: "redis-9001".into(),
        }
    );
    assert_eq!(
        s.faults[4].action,
        FaultAction::Pause {
            machine: "haproxy1".into(),
            process: "haproxy".into(),
            duration: Some(SimDuration::from_secs(5)),
        }
    );
    assert_eq!(
        s.faults[5].action,
        FaultAction::Partition {
            groups: vec![
                vec!["haproxy1".into()],
                vec!["redis1".into(), "redis2".into()],
                vec!["monit".into()]
            ],
            heal_after: Some(SimDuration::from_secs(10)),
        }
    );
    assert_eq!(
        s.faults[8].action,
        FaultAction::Loss {
            between: [vec!["app".into()], vec!["haproxy2".into()]],
            rate: 0.1,
            heal_after: None,
        }
    );
    assert_eq!(
        s.faults[10].action,
        FaultAction::SlowBoot {
            extra: SimDuration::from_secs(180),
            count: 1
        }
    );
}

#[test]
fn defaults_are_applied() {
    let s = parse(HEAD, "min.toml").unwrap();
    assert_eq!(s.description, "");
    assert_eq!(s.status, Status::MustPass);
    assert_eq!(s.topology, Topology::default());
    assert_eq!(s.topology.latency, SimDuration::from_millis(1));
    assert_eq!(s.topology.tick, SimDuration::from_millis(1));
    assert_eq!(s.topology.redis_ports, 2);
    let w = &s.workload;
    assert_eq!(w, &Workload::default());
    assert_eq!((w.clients, w.rate), (4, 100));
    assert_eq!(w.ports, vec![7001, 7002]);
    assert_eq!(w.timeout, SimDuration::from_secs(1));
    assert_eq!(w.start, SimDuration::from_secs(10));
    assert_eq!(w.stop, None);
    assert_eq!(w.stop_at(s.duration), SimDuration::from_secs(110));
    assert_eq!(
        (w.mix.write, w.mix.read, w.mix.incr, w.mix.rpush),
        (40, 30, 15, 15)
    );
    assert_eq!(s.expect, Default::default());
    assert_eq!(s.failover.policy, Policy::Safe);
    assert_eq!(s.failover.interval, SimDuration::from_secs(1));
    assert_eq!(s.failover.fail_count, 3);
    assert!(s.faults.is_empty());

    // A written table keeps the defaults of the keys it leaves out.
    let s = parse(&format!("{HEAD}[workload]\nclients = 2\n"), "w.toml").unwrap();
    assert_eq!(s.workload.clients, 2);
    assert_eq!(s.workload.rate, 100);
    assert_eq!(s.workload.mix, Mix::default());

    let s = parse(
        &format!("{HEAD}[[faults]]\nat = \"1s\"\nkind = \"launch-fails\"\n"),
        "f.toml",
    )
    .unwrap();
    assert_eq!(s.faults[0].action, FaultAction::LaunchFails { count: 1 });
}

#[test]
fn the_seed_policy_defaults_to_debians_monit_cycle() {
    let s = parse(&format!("{HEAD}[failover]\npolicy = \"seed\"\n"), "p.toml").unwrap();
    assert_eq!(s.failover, FailoverSettings::of(Policy::Seed));
    assert_eq!(s.failover.interval, SimDuration::from_secs(120));
    assert_eq!(s.failover.fail_count, 3);
    // A tuned cycle is kept, and written back as it is.
    let text = format!("{HEAD}[failover]\npolicy = \"seed\"\ninterval = \"10s\"\n");
    let s = parse(&text, "p.toml").unwrap();
    assert_eq!(s.failover.interval, SimDuration::from_secs(10));
    assert_eq!(parse(&to_toml(&s).unwrap(), "w.toml").unwrap(), s);
    // Safe, written or not, keeps the lab's 1 s.
    let s = parse(&format!("{HEAD}[failover]\npolicy = \"safe\"\n"), "p.toml").unwrap();
    assert_eq!(s.failover, FailoverSettings::default());
    assert_eq!(s.failover.interval, SimDuration::from_secs(1));
}

#[test]
fn a_policy_is_one_of_the_named_ones() {
    assert_eq!(
        error_after_head("[failover]\npolicy = \"monit\"\n"),
        "t.toml:5:10: failover.policy: unknown policy 'monit'; valid policies: seed, safe"
    );
    assert_eq!(
        error_after_head("[failover]\npolicy = 1\n"),
        "t.toml:5:10: failover.policy: invalid type: integer `1`, expected a string"
    );
    assert_eq!(
        error_after_head("[failover]\npolicy = \"seed\"\ninterval = \"11m\"\n"),
        "t.toml:6:12: failover.interval: interval 11m is out of range; valid: 10ms (a poll \
         must fit inside a cycle with time to spare) to 10m"
    );
}

#[test]
fn round_trip_through_to_toml() {
    for s in [full(), parse(HEAD, "min.toml").unwrap()] {
        let text = to_toml(&s).unwrap();
        let back = parse(&text, "written.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, s, "{text}");
        // Writing is deterministic.
        assert_eq!(to_toml(&back).unwrap(), text);
    }
}

#[test]
fn status_is_required_and_a_reason_goes_with_known_weakness_only() {
    let head = "duration = \"2m\"\nseed = 1\n";
    let with = |rest: &str| error(&format!("{head}{rest}"));
    assert_eq!(
        error(head),
        "t.toml:1:1: status: missing field `status`; valid statuses: must-pass, \
         known-weakness (a known-weakness also needs `reason`)"
    );
    assert_eq!(
        with("status = \"passing\"\n"),
        "t.toml:3:10: status: unknown status 'passing'; valid statuses: must-pass, \
         known-weakness"
    );
    assert_eq!(
        with("status = \"known-weakness\"\n"),
        "t.toml:3:10: status: a known-weakness scenario needs `reason`, saying what the \
         weakness is"
    );
    assert_eq!(
        with("status = \"known-weakness\"\nreason = \" \"\n"),
        "t.toml:4:10: reason: reason is empty; say what the weakness is"
    );
    assert_eq!(
        with("status = \"must-pass\"\nreason = \"it used to fail\"\n"),
        "t.toml:4:10: reason: `reason` applies only to status = \"known-weakness\"; a \
         must-pass scenario says what it checks in `description`"
    );
    assert_eq!(
        with("status = 1\n"),
        "t.toml:3:10: status: invalid type: integer `1`, expected a string"
    );
    // The status is checked before the faults, in file order.
    assert!(with("[[faults]]\nat = \"1s\"\nkind = \"explode\"\n").contains("status: missing"));

    // A scenario built in code gets the same check of its reason when read back.
    let mut s = parse(HEAD, "min.toml").unwrap();
    s.status = Status::KnownWeakness {
        reason: String::new(),
    };
    let text = to_toml(&s).unwrap();
    let e = parse(&text, "written.toml").unwrap_err();
    assert_eq!(e.field, "reason", "{e}");
}

#[test]
fn redis_ports_shape_ports_and_processes() {
    let ten = format!("{HEAD}[topology]\nredis_ports = 10\n");
    let s = parse(&ten, "ten.toml").unwrap();
    assert_eq!(s.topology.redis_ports, 10);
    // The clients use every app port of the topology unless told otherwise.
    assert_eq!(s.workload.ports, (7001..=7010).collect::<Vec<u16>>());
    let lab = s.topology.lab();
    assert_eq!(processes_of(&lab, "redis2").len(), 10);
    assert_eq!(processes_of(&lab, "redis2")[9], "redis-9010");
    assert_eq!(processes_of(&lab, "haproxy1"), ["haproxy"]);
    assert_eq!(processes_of(&lab, "redis3"), Vec::<String>::new());

    let s = parse(
        &format!("{ten}[workload]\nports = [7010]\n\n[[faults]]\nat = \"30s\"\nkind = \"kill\"\nmachine = \"redis2\"\nprocess = \"redis-9010\"\n"),
        "ten.toml",
    )
    .unwrap();
    assert_eq!(s.workload.ports, vec![7010]);
    assert_eq!(
        s.faults[0].action,
        FaultAction::Kill {
            machine: "redis2".into(),
            process: "redis-9010".into()
        }
    );

    assert_eq!(
        error(&format!("{ten}[workload]\nports = [7011]\n")),
        "t.toml:7:10: workload.ports[0]: unknown port 7011; the app's haproxy listens on 7001, \
         7002, 7003, 7004, 7005, 7006, 7007, 7008, 7009, 7010"
    );
    assert_eq!(
        error(&format!(
            "{ten}[[faults]]\nat = \"30s\"\nkind = \"kill\"\nmachine = \"redis1\"\nprocess = \"redis-9011\"\n"
        )),
        "t.toml:10:11: faults[0].process: unknown process 'redis-9011' on redis1; processes on \
         redis1: redis-9001, redis-9002, redis-9003, redis-9004, redis-9005, redis-9006, \
         redis-9007, redis-9008, redis-9009, redis-9010"
    );
    // A port of a larger topology is unknown in the seed's.
    assert_eq!(
        error_after_head("[workload]\nports = [7003]\n"),
        "t.toml:5:10: workload.ports[0]: unknown port 7003; the app's haproxy listens on \
         7001, 7002"
    );

    // One port is a topology too.
    let s = parse(&format!("{HEAD}[topology]\nredis_ports = 1\n"), "one.toml").unwrap();
    assert_eq!(s.workload.ports, vec![7001]);

    // Written back, the derived ports are written out and read back the same.
    let s = parse(&ten, "ten.toml").unwrap();
    let text = to_toml(&s).unwrap();
    assert!(text.contains("redis_ports = 10"), "{text}");
    assert_eq!(parse(&text, "written.toml").unwrap(), s);
}

#[test]
fn redis_ports_out_of_range() {
    for n in [0, 33, 1000] {
        assert_eq!(
            error_after_head(&format!("[topology]\nredis_ports = {n}\n")),
            format!(
                "t.toml:5:15: topology.redis_ports: redis_ports = {n} is out of range; write 1 \
                 to 32 (redis servers per redis machine, on ports 9001 to 9032)"
            )
        );
    }
    let e = error_after_head("[topology]\nredis_ports = 70000\n");
    assert!(
        e.starts_with("t.toml:5:15: topology.redis_ports: invalid value: integer `70000`"),
        "{e}"
    );
    // The range is checked before the ports that depend on it.
    let e = error_after_head("[topology]\nredis_ports = 40\n[workload]\nports = [7040]\n");
    assert!(e.starts_with("t.toml:5:15: topology.redis_ports:"), "{e}");
}

#[test]
fn durations() {
    for (text, ms) in [
        ("500ms", 500),
        ("5s", 5_000),
        ("2m", 120_000),
        ("1h", 3_600_000),
        ("1m30s", 90_000),
        ("0s", 0),
    ] {
        assert_eq!(SimDuration::parse(text), Ok(SimDuration::from_millis(ms)));
        let shown = SimDuration::from_millis(ms).to_string();
        assert_eq!(SimDuration::parse(&shown), Ok(SimDuration::from_millis(ms)));
    }
    for bad in [
        "",
        "5",
        "5 sec",
        "s",
        "1.5s",
        "-1s",
        "5sec",
        "99999999999999999999h",
    ] {
        assert!(SimDuration::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        error("duration = \"5 sec\"\nseed = 1\n"),
        "t.toml:1:12: duration: invalid duration \"5 sec\": write a number and a unit such \
         as 500ms, 5s, 2m, 1h"
    );
    assert_eq!(
        error("duration = 5\nseed = 1\n"),
        "t.toml:1:12: duration: invalid type: integer `5`, expected a duration in quotes; \
         write a number and a unit such as 500ms, 5s, 2m, 1h"
    );
}

#[test]
fn unknown_machine() {
    assert_eq!(
        error_after_head("\n[[faults]]\nat = \"30s\"\nkind = \"crash\"\nmachine = \"redis3\"\n"),
        "t.toml:8:11: faults[0].machine: unknown machine 'redis3'; valid machines: redis1, \
         redis2, haproxy1, haproxy2, app, monit"
    );
    assert_eq!(Topology::default().lab().machines().len(), 6);
}

#[test]
fn unknown_process() {
    assert_eq!(
        error_after_head("[[faults]]\nat = \"30s\"\nkind = \"kill\"\nmachine = \"redis1\"\nprocess = \"haproxy\"\n"),
        "t.toml:8:11: faults[0].process: unknown process 'haproxy' on redis1; processes on \
         redis1: redis-9001, redis-9002"
    );
    assert_eq!(
        error_after_head(
            "[[faults]]\nat = \"30s\"\nkind = \"pause\"\nmachine = \"monit\"\nprocess = \"x\"\n"
        ),
        "t.toml:8:11: faults[0].process: unknown process 'x' on monit; processes on monit: \
         controller"
    );
}

#[test]
fn fault_after_the_end() {
    assert_eq!(
        error_after_head("[[faults]]\nat = \"3m\"\nkind = \"crash\"\nmachine = \"redis1\"\n"),
        "t.toml:5:6: faults[0].at: fault at 3m is after the end of the run (duration 2m)"
    );
    assert_eq!(
        error_after_head("[[faults]]\nat = \"1m\"\nkind = \"partition\"\ngroups = [[\"app\"], [\"redis1\"]]\nheal_after = \"1m\"\n"),
        "t.toml:8:14: faults[0].heal_after: the fault would be undone at 2m, not before the \
         end of the run (duration 2m); leave it out to keep the fault until the end"
    );
}

#[test]
fn unknown_fault_kind() {
    assert_eq!(
        error_after_head("[[faults]]\nat = \"30s\"\nkind = \"explode\"\n"),
        "t.toml:6:8: faults[0].kind: unknown fault kind 'explode'; valid kinds: crash, kill, \
         stop, restart, pause, partition, partition-oneway, latency, loss, launch-fails, slow-boot"
    );
}

#[test]
fn fields_that_do_not_fit_the_kind() {
    assert_eq!(
        error_after_head("[[faults]]\nat = \"30s\"\nkind = \"partition\"\nmachine = \"redis1\"\n"),
        "t.toml:7:11: faults[0].machine: field `machine` does not apply to a partition fault; \
         its fields are: at, kind, groups, heal_after"
    );
    // A missing field points at the fault's table.
    let e = error_after_head("\n[[faults]]\nat = \"30s\"\nkind = \"kill\"\nmachine = \"redis1\"\n");
    assert!(
        e.ends_with(
            "faults[0]: a kill fault needs `process`; its fields are: at, kind, machine, process"
        ),
        "{e}"
    );
    assert!(e.starts_with("t.toml:5:"), "{e}");
    assert_eq!(
        error_after_head("[[faults]]\nat = \"30s\"\nkind = \"latency\"\nbetween = [[\"app\"]]\nlatency = \"1s\"\n"),
        "t.toml:7:11: faults[0].between: `between` takes exactly two groups of machines, such \
         as [[\"app\"], [\"haproxy1\"]]; this one has 1"
    );
}

#[test]
fn groups_must_be_known_non_empty_and_disjoint() {
    let partition = |groups: &str| {
        error_after_head(&format!(
            "[[faults]]\nat = \"30s\"\nkind = \"partition\"\ngroups = {groups}\n"
        ))
    };
    assert_eq!(
        partition("[[\"app\"], [\"redis1\", \"app\"]]"),
        "t.toml:7:31: faults[0].groups[1][1]: machine 'app' is in more than one group"
    );
    assert_eq!(
        partition("[[\"app\"], []]"),
        "t.toml:7:20: faults[0].groups[1]: a group needs at least one machine"
    );
    assert_eq!(
        partition("[[\"app\"]]"),
        "t.toml:7:10: faults[0].groups: a partition needs two or more groups of machines, such \
         as [[\"haproxy1\"], [\"redis1\"]]; this one has 1"
    );
    assert_eq!(
        error_after_head("[[faults]]\nat = \"30s\"\nkind = \"partition-oneway\"\nfrom = [\"redis1\"]\nto = [\"monit\", \"redis1\"]\n"),
        "t.toml:8:16: faults[0].to[1]: machine 'redis1' is in more than one group"
    );
}

#[test]
fn out_of_range_values() {
    assert_eq!(
        error_after_head("[[faults]]\nat = \"30s\"\nkind = \"loss\"\nbetween = [[\"app\"], [\"monit\"]]\nrate = 1.5\n"),
        "t.toml:8:8: faults[0].rate: loss rate 1.5 is out of range; write a fraction between 0 \
         and 1 (exclusive), such as 0.1"
    );
    assert_eq!(
        error_after_head("[[faults]]\nat = \"30s\"\nkind = \"pause\"\nmachine = \"app\"\nprocess = \"haproxy\"\nfor = \"0s\"\n"),
        "t.toml:9:7: faults[0].for: must be longer than 0s; leave it out to keep the fault \
         until the end of the run"
    );
    assert_eq!(
        error_after_head("[topology]\ntick = \"0ms\"\n"),
        "t.toml:5:8: topology.tick: tick 0s is out of range; valid: 1ms (tokio timers are \
         whole milliseconds) to 10ms (a longer step outlasts the lab's own timers, haproxy's \
         checks and the clients' timeouts, and every request fails)"
    );
    assert_eq!(
        error_after_head("[workload]\nports = [7001, 7003]\n"),
        "t.toml:5:16: workload.ports[1]: unknown port 7003; the app's haproxy listens on \
         7001, 7002"
    );
    assert_eq!(
        error_after_head("[workload]\nmix = { write = 0 }\n"),
        "t.toml:5:7: workload.mix: every weight is 0; give at least one of write, read, incr, \
         rpush a weight above 0"
    );
    assert_eq!(
        error_after_head("[workload]\nstart = \"2m\"\n"),
        "t.toml:5:9: workload.start: the clients start at 2m but the run ends at 2m"
    );
    assert_eq!(
        error_after_head("[failover]\nfail_count = 0\n"),
        "t.toml:5:14: failover.fail_count: fail_count = 0 is out of range; valid: 1 to 100"
    );
    assert_eq!(
        error_after_head("[[faults]]\nat = \"30s\"\nkind = \"launch-fails\"\ncount = 0\n"),
        "t.toml:7:9: faults[0].count: count = 0 is out of range; valid: 1 to 100 launches"
    );
    assert_eq!(
        error("duration = \"2m\"\nseed = -1\n"),
        "t.toml:2:8: seed: invalid value: integer `-1`, expected u64"
    );
}

/// Every number a file can write is bounded, so an accepted scenario runs in bounded time
/// and memory (a launch-fails count of 4294967295 used to queue 4 billion entries, a 2m
/// tick panicked inside turmoil, a 1s tick failed every request and passed).
#[test]
fn every_number_is_bounded() {
    let cases = [
        (
            "[[faults]]\nat = \"30s\"\nkind = \"launch-fails\"\ncount = 4294967295\n",
            "t.toml:7:9: faults[0].count: count = 4294967295 is out of range; valid: 1 to 100 \
             launches",
        ),
        (
            "[topology]\ntick = \"2m\"\n",
            "t.toml:5:8: topology.tick: tick 2m is out of range",
        ),
        (
            "[topology]\ntick = \"1s\"\n",
            "t.toml:5:8: topology.tick: tick 1s is out of range",
        ),
        (
            "[topology]\nlatency = \"1h\"\n",
            "t.toml:5:11: topology.latency: latency 1h is out of range; valid: 0ms to 10s",
        ),
        (
            "[workload]\nclients = 100000\n",
            "t.toml:5:11: workload.clients: clients = 100000 is out of range; valid: 1 to 1000",
        ),
        (
            "[workload]\nrate = 4000000000\n",
            "t.toml:5:8: workload.rate: rate = 4000000000 is out of range",
        ),
        (
            "[workload]\ntimeout = \"10m\"\n",
            "t.toml:5:11: workload.timeout: timeout 10m is out of range",
        ),
        (
            "[failover]\ninterval = \"1ms\"\n",
            "t.toml:5:12: failover.interval: interval 1ms is out of range; valid: 10ms",
        ),
        (
            "[failover]\nfail_count = 1000000\n",
            "t.toml:5:14: failover.fail_count: fail_count = 1000000 is out of range",
        ),
    ];
    for (tail, want) in cases {
        let e = error_after_head(tail);
        assert!(e.starts_with(want), "{tail:?}:\n got {e}\nwant {want}...");
    }
    // The run's own length, and any duration at all.
    let e = error("description = \"\"\nstatus = \"must-pass\"\nduration = \"24h\"\nseed = 1\n");
    assert!(
        e.starts_with(
            "t.toml:3:12: duration: duration 1d is too long; valid: longer than 0s and at most 1h"
        ) || e.starts_with(
            "t.toml:3:12: duration: duration 24h is too long; valid: longer than 0s and at most 1h"
        ),
        "{e}"
    );
    let e = error(
        "description = \"\"\nstatus = \"must-pass\"\nduration = \"99999999999h\"\nseed = 1\n",
    );
    assert!(e.contains("is too long; valid: at most 24h"), "{e}");
}

#[test]
fn unknown_fields_at_every_level() {
    let cases = [
        (
            "durations = \"1m\"\n",
            "t.toml:4:1: durations: unknown field `durations`",
        ),
        (
            "[topology]\nlantency = \"1ms\"\n",
            "t.toml:5:1: topology.lantency: unknown field `lantency`, expected one of `latency`, \
             `tick`, `redis_ports`",
        ),
        (
            "[workload]\nclient = 1\n",
            "t.toml:5:1: workload.client: unknown field `client`",
        ),
        (
            "[workload]\nmix = { writes = 1 }\n",
            "t.toml:5:9: workload.mix.writes: unknown field `writes`",
        ),
        (
            "[expect]\nmax_lost = 1\n",
            "t.toml:5:1: expect.max_lost: unknown field `max_lost`",
        ),
        (
            "[failover]\nfailcount = 1\n",
            "t.toml:5:1: failover.failcount: unknown field `failcount`",
        ),
        (
            "[[faults]]\nat = \"1s\"\nkind = \"crash\"\nmachin = \"redis1\"\n",
            "t.toml:7:1: faults[0].machin: unknown field `machin`",
        ),
        (
            "[nemesis]\n",
            "t.toml:4:2: nemesis: unknown field `nemesis`",
        ),
    ];
    for (rest, start) in cases {
        let e = error_after_head(rest);
        assert!(
            e.starts_with(start),
            "{rest:?}\n got: {e}\nwant: {start}..."
        );
    }
}

#[test]
fn missing_required_fields_and_syntax_errors() {
    let e = error("seed = 1\n");
    assert!(e.starts_with("t.toml:1:1: missing field `duration`"), "{e}");
    let e = error("duration = \"2m\n");
    assert!(e.starts_with("t.toml:1:"), "{e}");
    let e = error("duration = \"2m\"\nseed = 1\n[workload\n");
    assert!(e.starts_with("t.toml:3:"), "{e}");
    assert!(!e.contains('\n'), "{e}");
}

#[test]
fn garbled_files_give_errors_not_panics() {
    // Every prefix, and every byte replaced by one of a few troublesome characters.
    let mut tried = 0;
    let mut check = |text: &str| {
        tried += 1;
        if let Err(e) = parse(text, "full.toml") {
            assert!(e.to_string().starts_with("full.toml"), "{e}");
        }
    };
    for end in (0..=FULL.len()).filter(|&i| FULL.is_char_boundary(i)) {
        check(&FULL[..end]);
    }
    for (i, _) in FULL.char_indices() {
        for replacement in ["\"", "[", "]", "=", "\n", "x", "9", "é", ""] {
            let mut text = FULL[..i].to_string();
            text.push_str(replacement);
            text.push_str(&FULL[i + FULL[i..].chars().next().map_or(0, char::len_utf8)..]);
            check(&text);
        }
    }
    assert!(tried > 10_000);
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.toml");
    std::fs::write(&path, FULL).unwrap();
    assert_eq!(load(&path).unwrap(), full());

    std::fs::write(&path, format!("{HEAD}[topology]\nlantency = \"1ms\"\n")).unwrap();
    let e = load(&path).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}:5:1: topology.lantency", path.display())),
        "{e}"
    );

    let missing = dir.path().join("missing.toml");
    let e = load(&missing).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}: cannot read", missing.display())),
        "{e}"
    );
}

/// `load(path)`, failing the test instead of hanging when loading blocks.
fn load_within_10s(path: &std::path::Path) -> Result<Scenario, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(load(&path).map_err(|e| e.to_string()));
    });
    rx.recv_timeout(std::time::Duration::from_secs(10))
        .expect("load returned within 10 s (it must not block on a FIFO or read /dev/zero)")
}

#[test]
fn load_refuses_what_is_not_a_small_regular_file_before_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    assert_eq!(
        load_within_10s(&fifo).unwrap_err(),
        format!(
            "{}: the scenario file is a FIFO (named pipe), not a regular file",
            fifo.display()
        )
    );
    assert_eq!(
        load_within_10s(std::path::Path::new("/dev/zero")).unwrap_err(),
        "/dev/zero: the scenario file is a character device, not a regular file"
    );
    assert_eq!(
        load_within_10s(dir.path()).unwrap_err(),
        format!(
            "{}: the scenario file is a directory, not a regular file",
            dir.path().display()
        )
    );
    let big = dir.path().join("big.toml");
    let padding = "# padding\n".repeat(500_000);
    std::fs::write(&big, format!("{HEAD}{padding}")).unwrap();
    let e = load_within_10s(&big).unwrap_err();
    assert!(e.ends_with("bytes, over the limit of 4 MiB"), "{e}");
}

#[test]
fn bytes_that_are_not_text_are_named_with_their_line_and_column() {
    let e = error(&format!("{HEAD}description = \"a\0b\"\n"));
    assert_eq!(
        e,
        "t.toml:4:17: a NUL byte (U+0000); a scenario file is text, with no control \
         characters other than tab and newline (inside a quoted string write it as an \
         escape, such as \\u0000)"
    );
    let e = error(&format!("{HEAD}\n  \u{1b}[2J = 1\n"));
    assert!(
        e.starts_with("t.toml:5:3: control character U+001B;"),
        "{e}"
    );

    let dir = tempfile::tempdir().unwrap();
    let latin1 = dir.path().join("latin1.toml");
    std::fs::write(
        &latin1,
        b"duration = \"2m\"\nseed = 1\ndescription = \"caf\xe9\"\n",
    )
    .unwrap();
    assert_eq!(
        load(&latin1).unwrap_err().to_string(),
        format!(
            "{}:3:19: byte 0xe9 is not UTF-8; a scenario file is UTF-8 text",
            latin1.display()
        )
    );
}

#[test]
fn a_key_nested_past_tomls_limit_is_located_not_reported_at_1_1() {
    let parts: Vec<String> = (0..20_000).map(|i| format!("k{i}")).collect();
    let e = error(&format!("{HEAD}[workload]\n{} = 1\n", parts.join(".")));
    assert!(
        e.starts_with("t.toml:5:310: nested too deep: toml allows at most 80 levels"),
        "{e}"
    );
}

#[test]
fn echoed_input_cannot_drive_the_terminal() {
    let e = error(&format!(
        "{HEAD}[[faults]]\nat = \"1s\"\nkind = \"crash\"\nmachine = \"\\u001b[2J\\nok\"\n"
    ));
    assert!(!e.contains('\u{1b}') && !e.contains('\n'), "{e:?}");
    assert!(e.contains("unknown machine '\\u{1b}[2J\\u{a}ok'"), "{e}");
}

/// serde would read a struct from an array, field by field: `workload = [4, 100]` would be
/// 4 clients at 100/s. A table written as an array is refused where it is written.
#[test]
fn a_table_written_as_an_array_is_refused() {
    let cases = [
        (
            "workload = [1, 2]\n",
            "t.toml:4:12: workload: workload must be a table (`[workload]` or `workload = { ... }`), not an array",
        ),
        (
            "faults = [[\"20s\", \"crash\", \"redis1\"]]\n",
            "t.toml:4:11: faults[0]: faults[0] must be a table (a `[[faults]]` entry), not an array",
        ),
        (
            "[workload]\nmix = [40, 30, 15, 15]\n",
            "t.toml:5:7: workload.mix: workload.mix must be a table",
        ),
        ("expect = [\"3m\"]\n", "t.toml:4:10: expect: expect must be a table"),
    ];
    for (tail, want) in cases {
        let e = error_after_head(tail);
        assert!(e.starts_with(want), "{tail:?}:\n got {e}\nwant {want}...");
    }
}
