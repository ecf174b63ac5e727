//! Swarm exploration: the generator is deterministic and valid by construction, the
//! shrinker minimizes against a synthetic oracle, and an exploration writes a found
//! scenario that reproduces.

use scenario::{self, Fault, FaultAction, Scenario, SimDuration};
use sim::explore::options::{default_base, parse_expect, parse_seeds};
use sim::explore::shrink::is_valid;
use sim::explore::{explore, generate, shrink, ExploreOptions, GenOptions};

fn gen_options(max_faults: usize) -> GenOptions {
    GenOptions {
        base: default_base(SimDuration::from_secs(180)),
        draw_settings: true,
        max_faults,
    }
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_same_seed_draws_the_same_scenario() {
    let options = gen_options(6);
    for seed in [0, 1, 7, 12345, i64::MAX as u64] {
        let a = scenario::to_toml(&generate(seed, &options).unwrap()).unwrap();
        let b = scenario::to_toml(&generate(seed, &options).unwrap()).unwrap();
        assert_eq!(a, b, "seed {seed}");
    }
    let a = scenario::to_toml(&generate(1, &options).unwrap()).unwrap();
    let b = scenario::to_toml(&generate(2, &options).unwrap()).unwrap();
    assert_ne!(a, b, "different seeds draw different scenarios");
}

#[test]
fn every_drawn_schedule_validates_and_respects_the_lab() {
    for max_faults in [1, 4, 8] {
        let options = gen_options(max_faults);
        let (_, window_end) = sim::explore::generate::fault_window(&options.base).unwrap();
        for seed in 0..250 {
            let s = generate(seed, &options).unwrap();
            let text = scenario::to_toml(&s).unwrap();
            let parsed = scenario::parse(&text, "<drawn>")
                .unwrap_or_else(|e| panic!("seed {seed} drew an invalid scenario: {e}\n{text}"));
            assert_eq!(parsed, s, "seed {seed} does not round-trip");
            assert!(
                !s.faults.is_empty() && s.faults.len() <= max_faults,
                "seed {seed}"
            );
            let mut crashed: Vec<&str> = Vec::new();
            // A cloud fault needs monit alive to launch the instance that consumes it.
            let cloud = s.faults.iter().any(|f| {
                matches!(
                    f.action,
                    FaultAction::LaunchFails { .. } | FaultAction::SlowBoot { .. }
                )
            });
            for f in &s.faults {
                // Everything acts and heals before the quiet period.
                let end = f.at.as_millis() + f.action.heals_after().map_or(0, |h| h.as_millis());
                assert!(
                    end < window_end,
                    "seed {seed}: {f:?} ends in the quiet period"
                );
                match &f.action {
                    FaultAction::Crash { machine } => {
                        assert!(machine != "app", "seed {seed} crashes the app");
                        assert!(!(cloud && machine == "monit"), "seed {seed}:\n{text}");
                        assert!(!crashed.contains(&machine.as_str()), "seed {seed}");
                        crashed.push(machine);
                    }
                    FaultAction::Kill { machine, .. }
                    | FaultAction::Restart { machine, .. }
                    | FaultAction::Pause { machine, .. } => {
                        assert!(
                            !crashed.contains(&machine.as_str()),
                            "seed {seed} commands a process on crashed {machine}:\n{text}"
                        );
                    }
                    FaultAction::Loss { rate, .. } => assert!((0.05..=0.3).contains(rate)),
                    _ => {}
                }
            }
        }
    }
}

/// Six faults of which only the loss touching redis1 "matters" to the oracle.
fn six_faults() -> Scenario {
    let mut s = default_base(SimDuration::from_secs(180));
    s.seed = 3;
    let at = SimDuration::from_millis;
    s.faults = vec![
        Fault {
            at: at(21_300),
            action: FaultAction::Crash {
                machine: "haproxy2".into(),
            },
        },
        Fault {
            at: at(22_000),
            action: FaultAction::Kill {
                machine: "redis2".into(),
                process: "redis-9002".into(),
            },
        },
        Fault {
            at: at(25_000),
            action: FaultAction::Latency {
                between: [strings(&["app"]), strings(&["haproxy1"])],
                latency: at(200),
                heal_after: Some(SimDuration::from_secs(10)),
            },
        },
        Fault {
            at: at(31_700),
            action: FaultAction::Loss {
                between: [strings(&["redis1", "app"]), strings(&["haproxy1", "monit"])],
                rate: 0.3,
                heal_after: Some(SimDuration::from_millis(27_400)),
            },
        },
        Fault {
            at: at(35_000),
            action: FaultAction::Partition {
                groups: vec![strings(&["monit"]), strings(&["haproxy1", "app"])],
                heal_after: Some(SimDuration::from_secs(5)),
            },
        },
        Fault {
            at: at(40_000),
            action: FaultAction::SlowBoot {
                extra: SimDuration::from_secs(20),
                count: 1,
            },
        },
    ];
    assert!(is_valid(&s));
    s
}

fn loss_touching_redis1(s: &Scenario) -> bool {
    s.faults.iter().any(|f| {
        matches!(&f.action, FaultAction::Loss { between, .. }
            if between.iter().any(|side| side.iter().any(|m| m == "redis1")))
    })
}

#[test]
fn the_shrinker_keeps_only_the_fault_that_matters_simplified() {
    let start = six_faults();
    assert!(loss_touching_redis1(&start));
    let shrunk = shrink(&start, 200, loss_touching_redis1);
    assert!(shrunk.runs <= 200);
    assert_eq!(
        shrunk.scenario.faults.len(),
        1,
        "{:#?}",
        shrunk.scenario.faults
    );
    let f = &shrunk.scenario.faults[0];
    // As early as the clients allow, as short and mild as the shrinker goes, one machine
    // a side.
    assert_eq!(f.at, SimDuration::from_secs(10));
    match &f.action {
        FaultAction::Loss {
            between,
            rate,
            heal_after,
        } => {
            assert_eq!(*rate, 0.01);
            assert_eq!(*heal_after, Some(SimDuration::from_secs(1)));
            assert_eq!(between[0], strings(&["redis1"]));
            assert_eq!(between[1].len(), 1);
        }
        other => panic!("shrunk to {other:?}"),
    }
    assert!(is_valid(&shrunk.scenario));
    // Same input, same steps.
    let again = shrink(&start, 200, loss_touching_redis1);
    assert_eq!(again.steps, shrunk.steps);
    // A tiny budget is honoured.
    let capped = shrink(&start, 3, loss_touching_redis1);
    assert!(capped.runs <= 3);
    assert!(loss_touching_redis1(&capped.scenario));
}

#[test]
fn bad_options_are_errors_not_panics() {
    assert_eq!(parse_seeds("3..=5").unwrap(), 3..=5);
    assert_eq!(parse_seeds("3..6").unwrap(), 3..=5);
    assert_eq!(parse_seeds("7").unwrap(), 7..=7);
    for bad in [
        "",
        "a..=b",
        "5..=3",
        "0..0",
        "1..=99999999999999999999",
        "18446744073709551615",
    ] {
        assert!(parse_seeds(bad).is_err(), "{bad:?}");
    }
    let e = parse_expect(&[
        "max_failed_requests=0".into(),
        "redundancy_within=2m".into(),
    ])
    .unwrap();
    assert_eq!(e.max_failed_requests, Some(0));
    assert_eq!(e.redundancy_within, Some(SimDuration::from_secs(120)));
    for bad in [
        "max_lost_writes",
        "nope=1",
        "max_lost_writes=x",
        "max_split_brain=5 parsecs",
    ] {
        assert!(parse_expect(&[bad.to_string()]).is_err(), "{bad:?}");
    }
    // A run too short for any fault window.
    let mut options = gen_options(3);
    options.base.duration = SimDuration::from_secs(30);
    assert!(generate(1, &options).is_err());
}

#[test]
fn an_exploration_writes_a_found_scenario_that_reproduces() {
    // Short runs that every crash of redis1 fails: some requests fail during failover.
    let mut base = default_base(SimDuration::from_secs(60));
    base.expect = parse_expect(&["max_failed_requests=0".into()]).unwrap();
    let gen = GenOptions {
        base: base.clone(),
        draw_settings: true,
        max_faults: 2,
    };
    // The first seed that draws a crash of redis1 and no cloud fault (drawing costs no lab
    // run). A cloud fault is consumed by the replacement's launch, which comes only after
    // the controller has unregistered the old master (about a minute after a silent
    // crash, while haproxy keeps sessions attached to it): past the end of a run this
    // short, so the seed would be a generator problem, not a finding.
    let seed = (0..500)
        .find(|seed| {
            let faults = generate(*seed, &gen).unwrap().faults;
            let crash = faults.iter().any(
                |f| matches!(&f.action, FaultAction::Crash { machine } if machine == "redis1"),
            );
            let cloud = faults.iter().any(|f| {
                matches!(
                    f.action,
                    FaultAction::LaunchFails { .. } | FaultAction::SlowBoot { .. }
                )
            });
            crash && !cloud
        })
        .expect("some seed draws a crash of redis1 without a cloud fault");
    let out = tempfile::tempdir().unwrap();
    let options = ExploreOptions {
        seeds: seed..=seed,
        base,
        draw_settings: true,
        max_faults: 2,
        shrink_budget: 6,
        out: out.path().to_path_buf(),
        jobs: 1,
    };
    let mut lines = Vec::new();
    let summary = explore(&options, |r| {
        lines.push(sim::explore::summary::seed_line(r))
    });
    assert_eq!(lines.len(), 1);
    assert_eq!(summary.findings, 1, "{lines:?}");
    assert_eq!(summary.files.len(), 1);
    assert_eq!(summary.reproduced, 1, "{lines:?}");
    let finding = summary.seeds[0].finding.as_ref().unwrap();
    assert_eq!(finding.expectation, "max_failed_requests");
    assert!(finding.shrunk_faults <= finding.drawn_faults);
    // The written file is a scenario with the seed pinned that fails when run.
    let path = std::path::Path::new(&summary.files[0]);
    assert!(path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .ends_with(&format!("-seed-{seed}.toml")));
    let written = scenario::load(path).unwrap();
    assert_eq!(written.seed, seed);
    assert!(written.description.contains("failover-sim explore"));
    match &written.status {
        scenario::Status::KnownWeakness { reason } => {
            assert!(reason.contains("max_failed_requests fails"), "{reason}")
        }
        other => panic!("a finding is written as a known weakness, not {other:?}"),
    }
    let result = sim::run::run(&written, written.seed);
    assert!(result.summary.fault_problems.is_empty());
    assert!(result
        .expectations
        .iter()
        .any(|e| e.name == "max_failed_requests" && !e.passed));
    // JSON summary serializes.
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["findings"], 1);
}
