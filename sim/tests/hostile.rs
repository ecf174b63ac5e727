//! Hostile input to the command line: every number bounded, every exit clean, nothing
//! lost. Flags out of range, outputs that are not directories, inputs that are FIFOs or
//! devices, sweep.json files that lie, scenario paths no shell or XML parser expects, a
//! sweep stopped by SIGTERM. Every command here must end quickly, with a clear message,
//! never a panic or a hang (each runs under a deadline and is killed past it).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_failover-sim");

const TINY: &str = r#"
description = "tiny: redis1's replica process on 9002 is killed and restarted"
status = "must-pass"
duration = "20s"
seed = 1

[workload]
start = "2s"

[[faults]]
at = "6s"
kind = "kill"
machine = "redis1"
process = "redis-9002"

[[faults]]
at = "9s"
kind = "restart"
machine = "redis1"
process = "redis-9002"
"#;

/// Redundancy cannot be back 0 ms after a restart: every seed fails.
const IMPOSSIBLE: &str = "\n[expect]\nredundancy_within = \"0ms\"\n";

/// Waits for `child` at most `limit`, killing it past that (so a hang fails the test
/// instead of stalling the suite).
fn finish(mut child: Child, limit: Duration, what: &str) -> Output {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{what} did not finish within {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn failover_sim_in<S: AsRef<OsStr>>(dir: Option<&Path>, args: &[S]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = dir {
        c.current_dir(d);
    }
    let shown: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    finish(
        c.spawn().expect("the binary starts"),
        Duration::from_secs(120),
        &format!("failover-sim {}", shown.join(" ")),
    )
}

fn failover_sim<S: AsRef<OsStr>>(args: &[S]) -> Output {
    failover_sim_in(None, args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A bad-input exit: status 2, an `error:` naming `expect`, no panic.
fn assert_refused(o: &Output, expect: &str, what: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert!(err.contains("error"), "{what}: {err}");
    assert!(err.contains(expect), "{what}: wanted {expect:?} in:\n{err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success());
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn numeric_flags_out_of_range_are_refused_with_the_whole_range() {
    let tmp = tempfile::tempdir().unwrap();
    let tiny = write(tmp.path(), "tiny.toml", TINY);
    let tiny = s(&tiny);
    let out = tmp.path().join("out");
    let out = s(&out);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "explore",
                "--seeds",
                "1",
                "--max-faults",
                "1000000000",
                "--out",
                out,
            ],
            "1000000000 is out of range; valid: 1 to 100",
        ),
        (
            vec!["explore", "--shrink-budget", "99999", "--out", out],
            "valid: 0 to 10000",
        ),
        (
            vec!["explore", "--jobs", "0", "--out", out],
            "valid: 1 to 256",
        ),
        (
            vec!["explore", "--duration", "2h", "--out", out],
            "valid: longer than 0s and at most 1h",
        ),
        (
            vec!["explore", "--seeds", "1..=10000000", "--out", out],
            "more than 100000 seeds",
        ),
        (
            vec![
                "sweep",
                tiny,
                "--seeds",
                "1",
                "--timeout",
                "1e9",
                "--out",
                out,
            ],
            "valid: seconds from 0.001 to 86400 (24 h)",
        ),
        (
            vec![
                "sweep",
                tiny,
                "--seeds",
                "1",
                "--timeout",
                "NaN",
                "--out",
                out,
            ],
            "valid: seconds from 0.001 to 86400",
        ),
        (
            vec![
                "sweep", tiny, "--seeds", "1", "--jobs", "100000", "--out", out,
            ],
            "valid: 1 to 256",
        ),
        (
            vec!["sweep", tiny, "--seeds", "1..=200000", "--out", out],
            "more than 100000 seeds",
        ),
        (vec!["bench", "--repeats", "0"], "valid: 1 to 100"),
        (
            vec!["bench", "--minutes", "0"],
            "valid: simulated minutes from 0.1 to 60",
        ),
        (
            vec!["bench", "--minutes=-1"],
            "valid: simulated minutes from 0.1 to 60",
        ),
        (
            vec!["bench", "--minutes", "NaN"],
            "valid: simulated minutes from 0.1 to 60",
        ),
        (
            vec!["bench", "--minutes", "inf"],
            "valid: simulated minutes from 0.1 to 60",
        ),
        (vec!["bench-sweep", "--seeds", "0"], "valid: 1 to 10000"),
        (
            vec!["bench-sweep", "--long-seeds", "1"],
            "valid: 2 to 100000",
        ),
    ];
    for (args, expect) in cases {
        let started = Instant::now();
        let o = failover_sim(&args);
        assert_refused(&o, expect, &args.join(" "));
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{args:?} did work before refusing"
        );
    }
    for (command, ranges) in [
        (
            "sweep",
            &["1 to 256", "0.001 to 86400", "at most 100000"][..],
        ),
        (
            "explore",
            &["1 to 100", "0 to 10000", "1 to 256", "at most 1h"],
        ),
        ("bench", &["0.1 to 60", "1 to 100"]),
        ("bench-sweep", &["1 to 10000", "2 to 100000"]),
        ("merge", &["256 MiB", "100000"]),
    ] {
        let help = stdout(&failover_sim(&[command, "--help"]));
        for r in ranges {
            assert!(
                help.contains(r),
                "{command} --help does not state {r:?}:\n{help}"
            );
        }
    }
}

/// A sweep.json as `failover-sim sweep` writes it, for `results` of (scenario, seed,
/// failures).
fn sweep_json(
    seeds: &str,
    shard: Value,
    scenarios: &[&str],
    results: &[(&str, u64, &[&str])],
) -> Value {
    let results: Vec<Value> = results
        .iter()
        .map(|(scenario, seed, failures)| {
            json!({
                "scenario": scenario,
                "seed": seed,
                "passed": failures.is_empty(),
                "failures": failures,
                "figures": {
                    "lost_writes": 0,
                    "failed_requests": 3,
                    "longest_unavailability_ms": 1000,
                    "recovery_ms": 5000
                },
                "reproduce": "echo reproduce line from the file"
            })
        })
        .collect();
    json!({
        "schema_version": 1,
        "seeds": seeds,
        "shard": shard,
        "scenarios": scenarios,
        "timeout_s": 600.0,
        "totals": { "runs": 0, "passed": 0, "failed": 0 },
        "missing": [],
        "stats": [],
        "results": results
    })
}

fn put(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.display().to_string()
}

#[test]
fn merge_refuses_a_sweep_json_declaring_more_seeds_than_a_sweep_may() {
    let tmp = tempfile::tempdir().unwrap();
    let f = put(
        tmp.path(),
        "huge.json",
        &sweep_json("1..=10000000", Value::Null, &["a.toml"], &[]),
    );
    let out = tmp.path().join("out");
    let o = failover_sim(&["merge", &f, "--out", s(&out)]);
    assert_refused(
        &o,
        "seeds: --seeds \"1..=10000000\": more than 100000 seeds",
        "merge",
    );
    assert!(!out.join("sweep.json").exists(), "nothing is written");
}

#[test]
fn merge_checks_every_record_and_rebuilds_reproduce_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let merged = tmp.path().join("merged");
    let merge = |files: &[&str]| {
        let mut args = vec!["merge"];
        args.extend_from_slice(files);
        args.extend_from_slice(&["--out", s(&merged)]);
        failover_sim(&args)
    };
    let lying = put(tmp.path(), "lying.json", &{
        let mut v = sweep_json(
            "1..=2",
            Value::Null,
            &["a.toml"],
            &[("a.toml", 1, &[]), ("a.toml", 2, &[])],
        );
        v["results"][1]["failures"] = json!(["expectation not met: x"]);
        v
    });
    assert_refused(
        &merge(&[&lying]),
        "lying.json: results[1].passed: a.toml seed 2: passed is true but failures lists 1",
        "a passed seed with failures",
    );
    let shard = put(
        tmp.path(),
        "shard.json",
        &sweep_json("1..=2", json!({"index": 5, "count": 3}), &["a.toml"], &[]),
    );
    assert_refused(
        &merge(&[&shard]),
        "shard.json: shard: {\"index\": 5, \"count\": 3}; valid: 1 <= index <= count",
        "shard 5/3",
    );
    let stray = put(
        tmp.path(),
        "stray.json",
        &sweep_json("1..=2", Value::Null, &["a.toml"], &[("a.toml", 7, &[])]),
    );
    assert_refused(
        &merge(&[&stray]),
        "results[0].seed: a.toml seed 7: not one of the declared seeds 1..=2",
        "a seed outside the range",
    );

    // `./a.toml` and `a.toml` are one scenario; the file's reproduce lines are not trusted.
    let one = put(
        tmp.path(),
        "one.json",
        &sweep_json(
            "1..=2",
            json!({"index": 1, "count": 2}),
            &["./a.toml"],
            &[("./a.toml", 1, &[])],
        ),
    );
    let two = put(
        tmp.path(),
        "two.json",
        &sweep_json(
            "1..=2",
            json!({"index": 2, "count": 2}),
            &["a.toml"],
            &[("a.toml", 2, &["expectation not met: y"])],
        ),
    );
    let o = merge(&[&one, &two]);
    assert_eq!(o.status.code(), Some(1), "one seed failed: {}", stderr(&o));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(merged.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(v["scenarios"], json!(["a.toml"]));
    assert_eq!(v["missing"], json!([]));
    assert_eq!(v["totals"]["runs"], 2);
    assert_eq!(
        v["results"][0]["reproduce"],
        "failover-sim run a.toml --seed 1"
    );
    assert_eq!(
        v["results"][1]["reproduce"],
        "failover-sim run a.toml --seed 2"
    );
    assert!(stdout(&o).contains("failover-sim run a.toml --seed 2"));
    assert!(!stdout(&o).contains("echo"));
    assert_eq!(v["incomplete"], false);

    // A stopped shard makes the merge incomplete, and says so.
    let mut stopped: Value = serde_json::from_str(&std::fs::read_to_string(&two).unwrap()).unwrap();
    stopped["incomplete"] = json!(true);
    let two = put(tmp.path(), "two.json", &stopped);
    let o = merge(&[&one, &two]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("two.json is incomplete"),
        "{}",
        stderr(&o)
    );
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(merged.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(v["incomplete"], true);
    assert!(stdout(&o).contains("INCOMPLETE"), "{}", stdout(&o));
}

#[test]
fn a_schema_version_of_the_wrong_type_is_named_as_it_is() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for (version, expect) in [
        (
            json!("1"),
            "schema_version is the string \"1\", not a number (valid: the integer 1, without quotes)",
        ),
        (json!(1.0), "schema_version is 1.0, not a whole number (valid: the integer 1)"),
        (json!(2), "schema_version 2 is not one this failover-sim reads (valid: the integer 1)"),
        (json!(null), "schema_version is null, not a number (valid: the integer 1)"),
    ] {
        let mut v = sweep_json("1", Value::Null, &["a.toml"], &[]);
        v["schema_version"] = version;
        let f = put(tmp.path(), "v.json", &v);
        assert_refused(&failover_sim(&["merge", &f, "--out", s(&out)]), expect, expect);
    }
    let f = put(tmp.path(), "list.json", &json!([1, 2]));
    assert_refused(
        &failover_sim(&["merge", &f, "--out", s(&out)]),
        "not a sweep.json: the top level must be a JSON object",
        "an array",
    );
    let mut v = sweep_json("1", Value::Null, &["a.toml"], &[("a.toml", 1, &[])]);
    v["results"][0]["seed"] = json!("one");
    let f = put(tmp.path(), "typed.json", &v);
    let o = failover_sim(&["merge", &f, "--out", s(&out)]);
    assert_refused(
        &o,
        ": results[0].seed: invalid type: string \"one\", expected u64",
        "a seed that is a string",
    );
    // The line and column of the value come first, as in scenario errors.
    let line = v_line(&f, "\"one\"");
    assert!(
        stderr(&o).contains(&format!("typed.json:{line}:")),
        "line {line}: {}",
        stderr(&o)
    );
}

/// The 1-based line of `path` that holds `needle`.
fn v_line(path: &str, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

#[test]
fn sweep_json_inputs_that_are_not_small_regular_files_are_refused_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let fifo = tmp.path().join("fifo.json");
    mkfifo(&fifo);
    let big = tmp.path().join("big.json");
    // Sparse: its size says 300 MiB, none of it is on disk.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    let dir = tmp.path().join("a-directory");
    std::fs::create_dir(&dir).unwrap();
    for (input, expect) in [
        (
            s(&fifo),
            "the sweep.json is a FIFO (named pipe), not a regular file",
        ),
        (
            "/dev/zero",
            "the sweep.json is a character device, not a regular file",
        ),
        (s(&dir), "the sweep.json is a directory, not a regular file"),
        (
            s(&big),
            "the sweep.json is 314572800 bytes, over the limit of 256 MiB",
        ),
    ] {
        let o = failover_sim(&["merge", input, "--out", s(&out)]);
        assert_refused(&o, &format!("{input}: {expect}"), input);
    }
}

#[test]
fn an_out_that_is_not_a_directory_is_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let tiny = write(tmp.path(), "tiny.toml", TINY);
    let scenarios = tmp.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    write(&scenarios, "tiny.toml", TINY);
    let input = put(
        tmp.path(),
        "in.json",
        &sweep_json("1", Value::Null, &["a.toml"], &[("a.toml", 1, &[])]),
    );
    let file = write(tmp.path(), "a-file", "x");
    let fifo = tmp.path().join("a-fifo");
    mkfifo(&fifo);
    let under_file = file.join("sub");
    for (out, what) in [
        (s(&file), "it is a regular file, not a directory"),
        (s(&fifo), "it is a FIFO (named pipe), not a directory"),
        ("/dev/null", "it is a character device, not a directory"),
        (
            s(&under_file),
            &*format!("{} is a regular file, not a directory", file.display()),
        ),
    ] {
        let commands: Vec<Vec<&str>> = vec![
            vec!["run", s(&tiny), "--out", out],
            vec!["sweep", s(&tiny), "--seeds", "1", "--out", out],
            vec!["merge", &input, "--out", out],
            vec!["explore", "--seeds", "1", "--out", out],
            vec!["reports", "--scenarios", s(&scenarios), "--reports", out],
        ];
        for args in commands {
            let started = Instant::now();
            let o = failover_sim(&args);
            let flag = if args[0] == "reports" {
                "--reports"
            } else {
                "--out"
            };
            assert_refused(&o, &format!("{flag} {out}: {what}"), &args.join(" "));
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{args:?} did work before refusing"
            );
        }
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

/// Every live process whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": the command may hold spaces, so split after ')'.
        let after = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        if fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            out.push(child);
        }
    }
    out
}

/// Whether `pid` is still a running `sweep-seed` of `scenario` (not a zombie, not a
/// process that reused the number).
fn seed_child_alive(pid: u32, scenario: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat[stat.rfind(')').map_or(0, |i| i + 1)..]
        .split_whitespace()
        .next()
        .unwrap_or("");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline);
    state != "Z" && cmdline.contains("sweep-seed") && cmdline.contains(scenario)
}

#[test]
fn sigterm_stops_every_child_and_writes_the_finished_seeds_marked_incomplete() {
    let tmp = tempfile::tempdir().unwrap();
    let tiny = write(tmp.path(), "tiny.toml", TINY);
    let out = tmp.path().join("out");
    let sweep = Command::new(BIN)
        .args([
            "sweep",
            s(&tiny),
            "--seeds",
            "1..=200",
            "--jobs",
            "2",
            "--out",
            s(&out),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = sweep.id();
    // Until some seed has finished (a third child appeared) and children are running.
    let mut seen = std::collections::BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    let running = loop {
        let now = children_of(pid);
        seen.extend(now.iter().copied());
        if seen.len() >= 3 && !now.is_empty() {
            break now;
        }
        assert!(Instant::now() < deadline, "the sweep started no children");
        std::thread::sleep(Duration::from_millis(20));
    };
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = finish(sweep, Duration::from_secs(60), "the stopped sweep");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(143), "128 + SIGTERM: {err}");
    assert!(err.contains("stopped by SIGTERM"), "{err}");
    // Orphans would be reparented, so they are looked for by PID, not among children.
    std::thread::sleep(Duration::from_millis(200));
    for child in &seen {
        assert!(
            !seed_child_alive(*child, s(&tiny)),
            "child {child} survived the sweep (running at the signal: {running:?})"
        );
    }
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(v["incomplete"], true);
    let runs = v["totals"]["runs"].as_u64().unwrap();
    let missing = v["missing"].as_array().unwrap().len() as u64;
    assert!(runs >= 1, "the finished seeds are kept: {v}");
    assert_eq!(
        runs + missing,
        200,
        "every seed is either a result or missing"
    );
    for r in v["results"].as_array().unwrap() {
        assert!(
            !r["failures"].to_string().contains("signal"),
            "a killed child counted as a failed seed: {r}"
        );
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    roxmltree::Document::parse(&junit).unwrap();
    assert!(junit.contains("name=\"incomplete\""), "{junit}");
    assert!(stdout(&o).contains("INCOMPLETE"), "{}", stdout(&o));
}

#[test]
fn a_finding_that_cannot_be_written_makes_explore_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("found");
    std::fs::create_dir(&out).unwrap();
    // Every name seed 1 could write (one or two fault kinds) is taken by a directory.
    let kinds = scenario::FAULT_KINDS;
    for a in kinds {
        std::fs::create_dir(out.join(format!("redundancy-within-{a}-seed-1.toml"))).unwrap();
        for b in kinds {
            let _ = std::fs::create_dir(out.join(format!("redundancy-within-{a}-{b}-seed-1.toml")));
        }
    }
    let o = failover_sim(&[
        "explore",
        "--seeds",
        "1",
        "--duration",
        "40s",
        "--expect",
        "redundancy_within=0ms",
        "--max-faults",
        "1",
        "--shrink-budget",
        "0",
        "--jobs",
        "1",
        "--out",
        s(&out),
    ]);
    let (text, err) = (stdout(&o), stderr(&o));
    assert!(
        text.contains("FOUND"),
        "seed 1 finds something: {text}\n{err}"
    );
    assert!(text.contains("not written: cannot write"), "{text}");
    assert_eq!(o.status.code(), Some(1), "{text}\n{err}");
    assert!(err.contains("1 findings could not be written"), "{err}");
}

#[test]
fn reproduce_lines_run_the_same_scenario_when_pasted_into_bash() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dir with space");
    std::fs::create_dir(&dir).unwrap();
    let name = "it's \"$HOME\" $(false) & <x>.toml";
    write(&dir, name, &format!("{TINY}{IMPOSSIBLE}"));
    let scenario = format!("dir with space/{name}");
    let out = tmp.path().join("out");
    let o = failover_sim_in(
        Some(tmp.path()),
        &["sweep", &scenario, "--seeds", "1", "--out", s(&out)],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap_or_else(|e| panic!("{e}\n{junit}"));
    assert!(doc
        .descendants()
        .any(|n| n.attribute("name") == Some(scenario.as_str())));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    let line = v["results"][0]["reproduce"].as_str().unwrap().to_string();
    assert!(stdout(&o).contains(&line), "the printed line is the file's");

    // `failover-sim` on the PATH, as a person who pastes the line has it.
    let bin_dir = tmp.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    std::os::unix::fs::symlink(BIN, bin_dir.join("failover-sim")).unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let run_out = tmp.path().join("run-out");
    let pasted = Command::new("bash")
        .arg("-c")
        .arg(format!("{line} --out {}", s(&run_out)))
        .env("PATH", path)
        .current_dir(tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let p = finish(pasted, Duration::from_secs(120), &line);
    assert_eq!(
        p.status.code(),
        Some(1),
        "{line}: the same expectation fails again\n{}",
        stderr(&p)
    );
    assert!(
        stdout(&p).contains(&format!("scenario  {scenario}")),
        "{}",
        stdout(&p)
    );
    assert!(
        stdout(&p).contains(&format!("reproduce {line}")),
        "{}",
        stdout(&p)
    );
}

#[test]
fn a_scenario_path_that_is_not_utf8_runs_or_is_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let name = OsStr::from_bytes(b"caf\xe9.toml");
    std::fs::write(tmp.path().join(name), TINY).unwrap();
    let out = tmp.path().join("out");
    let o = failover_sim_in(
        Some(tmp.path()),
        &[
            OsStr::new("run"),
            name,
            OsStr::new("--out"),
            out.as_os_str(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("reproduce failover-sim run $'caf\\xe9.toml' --seed 1"),
        "{}",
        stdout(&o)
    );
    let o = failover_sim_in(
        Some(tmp.path()),
        &[
            OsStr::new("sweep"),
            name,
            OsStr::new("--seeds"),
            OsStr::new("1"),
            OsStr::new("--out"),
            out.as_os_str(),
        ],
    );
    assert_refused(
        &o,
        "scenario path $'caf\\xe9.toml' is not valid UTF-8",
        "sweep of a non-UTF-8 path",
    );
}

#[test]
fn error_messages_escape_the_control_characters_they_echo() {
    let o = failover_sim(&["run", "no-such-\u{1b}[2J\u{7}.toml"]);
    let err = stderr(&o);
    assert_refused(
        &o,
        "no-such-\\u{1b}[2J\\u{7}.toml: cannot read the scenario file",
        "run",
    );
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
}

#[test]
fn a_second_kill_of_a_killed_process_says_it_had_no_effect() {
    let text = TINY.replace(
        "[[faults]]\nat = \"9s\"",
        "[[faults]]\nat = \"6s\"\nkind = \"kill\"\nmachine = \"redis1\"\nprocess = \"redis-9002\"\n\n[[faults]]\nat = \"9s\"",
    );
    let scenario = scenario::parse(&text, "twice.toml").unwrap();
    let result = sim::run::run(&scenario, 1);
    assert!(result.summary.faults[0].took_effect_ms.is_some());
    assert_eq!(
        result.summary.fault_problems,
        vec![
            "fault 1 (kill) scheduled at 6s never took effect: kill redis-9002 on redis1 had \
             no effect: it was not running (fault 0 killed it at 6s)"
                .to_string()
        ]
    );
}

#[test]
fn a_seed_child_ends_itself_when_its_sweep_is_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let long = write(tmp.path(), "long.toml", &TINY.replace("\"20s\"", "\"20m\""));
    let mut child = Command::new(BIN)
        .args(["sweep-seed", s(&long), "--seed", "1", "--exit-with-parent"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // A sweep that dies, however it dies, closes this pipe; closing it here is the same.
    drop(child.stdin.take());
    let o = finish(
        child,
        Duration::from_secs(20),
        "sweep-seed after its sweep left",
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        o.stdout.is_empty(),
        "no report from an abandoned seed: {}",
        stdout(&o)
    );
}

/// A controller that cannot start leaves the lab unguarded: the run fails, whatever the
/// checkers find (a 1ms interval, which files can no longer write, used to exit 0).
#[test]
fn a_controller_that_cannot_start_fails_the_run() {
    let mut scenario = scenario::parse(TINY, "tiny.toml").unwrap();
    scenario.failover.interval = scenario::SimDuration::from_millis(1);
    let result = sim::run::run(&scenario, 1);
    assert!(!result.passed());
    assert!(
        result.failures()[0].starts_with("the controller could not start: "),
        "{:?}",
        result.failures()
    );
}
