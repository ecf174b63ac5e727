//! `failover-sim sweep`, `merge`, `run --check-determinism` and `run` on a known weakness,
//! through the binary, on a tiny scenario (20 s, one kill and restart) so a handful of
//! seeds takes seconds.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

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

fn scenario(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn failover_sim(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn sweep_json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("sweep.json")).unwrap()).unwrap()
}

fn out_dir(tmp: &Path, name: &str) -> PathBuf {
    tmp.join(name)
}

#[test]
fn a_sweep_runs_every_seed_and_writes_sweep_json_and_junit() {
    let tmp = tempfile::tempdir().unwrap();
    let tiny = scenario(tmp.path(), "tiny.toml", TINY);
    let out = out_dir(tmp.path(), "out");
    let o = failover_sim(&[
        "sweep",
        &tiny,
        "--seeds",
        "3,1..=2",
        "--jobs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = sweep_json(&out);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["totals"]["runs"], 3);
    assert_eq!(v["totals"]["passed"], 3);
    assert_eq!(v["totals"]["failed"], 0);
    let seeds: Vec<u64> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seeds,
        vec![1, 2, 3],
        "sorted by seed whatever finished first"
    );
    let stats = &v["stats"][0];
    assert_eq!(stats["seeds"], 3);
    assert!(stats["failed_requests"]["max"].is_u64());
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("tests=\"3\" failures=\"0\""), "{junit}");
    assert_eq!(junit.matches("<testcase ").count(), 3);
    assert!(stdout.contains("longest unavailability"), "{stdout}");
}

#[test]
fn an_impossible_expectation_fails_every_seed_with_reproduce_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = scenario(
        tmp.path(),
        "impossible.toml",
        &format!("{TINY}{IMPOSSIBLE}"),
    );
    let out = out_dir(tmp.path(), "out");
    let o = failover_sim(&[
        "sweep",
        &bad,
        "--seeds",
        "1..3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for seed in [1, 2] {
        let cmd = format!("failover-sim run {bad} --seed {seed}");
        assert!(stdout.contains(&cmd), "{cmd} missing from:\n{stdout}");
    }
    assert!(stdout.contains("expectation not met"), "{stdout}");
    let v = sweep_json(&out);
    assert_eq!(v["totals"]["failed"], 2);
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert_eq!(
        junit
            .matches("<failure message=\"expectation not met")
            .count(),
        2
    );
}

#[test]
fn run_says_a_known_weakness_is_known_and_keeps_the_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let weak = TINY.replace(
        "status = \"must-pass\"",
        "status = \"known-weakness\"\nreason = \"redundancy cannot be back at once\"",
    );
    let out = out_dir(tmp.path(), "out");
    let run = |name: &str, text: &str| {
        let path = scenario(tmp.path(), name, text);
        let o = failover_sim(&["run", &path, "--out", out.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        (path, o.status.code(), stdout, stderr)
    };

    let (path, code, stdout, stderr) = run("weak.toml", &format!("{weak}{IMPOSSIBLE}"));
    assert_eq!(
        code,
        Some(1),
        "an unmet expectation fails whatever the status"
    );
    assert!(
        stdout.contains("status    known-weakness: redundancy cannot be back at once"),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "note: {path} is a known weakness: redundancy cannot be back at once"
        )),
        "{stderr}"
    );

    let (path, code, _, stderr) = run("fixed.toml", &weak);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "note: {path} is marked known-weakness (redundancy cannot be back at once) but \
             passed at its pinned seed"
        )),
        "{stderr}"
    );
}

#[test]
fn a_seed_over_its_timeout_is_a_failed_seed_not_a_crashed_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let tiny = scenario(tmp.path(), "tiny.toml", TINY);
    let out = out_dir(tmp.path(), "out");
    let o = failover_sim(&[
        "sweep",
        &tiny,
        "--seeds",
        "1",
        "--timeout",
        "0.001",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = sweep_json(&out);
    assert!(v["results"][0]["failures"][0]
        .as_str()
        .unwrap()
        .starts_with("timed out"));
    assert!(v["results"][0]["figures"].is_null());
}

#[test]
fn three_shards_cover_the_range_once_and_merge_to_the_unsharded_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let tiny = scenario(tmp.path(), "tiny.toml", TINY);
    let dir = |n: &str| out_dir(tmp.path(), n).display().to_string();
    let mut seen = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let o = failover_sim(&[
            "sweep",
            &tiny,
            "--seeds",
            "1..=5",
            "--shard",
            &shard,
            "--out",
            &dir(&shard.replace('/', "-")),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v = sweep_json(Path::new(&dir(&shard.replace('/', "-"))));
        assert_eq!(v["shard"]["index"], k);
        seen.extend(
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["seed"].as_u64().unwrap()),
        );
    }
    seen.sort_unstable();
    assert_eq!(seen, vec![1, 2, 3, 4, 5], "every seed exactly once");

    let shards: Vec<String> = ["1-3", "2-3", "3-3"]
        .iter()
        .map(|s| format!("{}/sweep.json", dir(s)))
        .collect();
    let o = failover_sim(&[
        "merge",
        &shards[0],
        &shards[1],
        &shards[2],
        "--out",
        &dir("merged"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = failover_sim(&["sweep", &tiny, "--seeds", "1..=5", "--out", &dir("all")]);
    assert!(o.status.success());
    let (merged, all) = (
        sweep_json(Path::new(&dir("merged"))),
        sweep_json(Path::new(&dir("all"))),
    );
    assert_eq!(merged["stats"], all["stats"]);
    assert_eq!(merged["results"], all["results"]);
    assert_eq!(merged, all, "the merge writes what one sweep would");

    // Two of three shards: the third's seeds are missing, and the merge says so.
    let o = failover_sim(&["merge", &shards[0], &shards[1], "--out", &dir("partial")]);
    assert_eq!(o.status.code(), Some(1));
    let missing: Vec<u64> = sweep_json(Path::new(&dir("partial")))["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(missing, vec![3]);
    // The same shard twice overlaps.
    let o = failover_sim(&["merge", &shards[0], &shards[0], "--out", &dir("twice")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("overlap"));
}

#[test]
fn seed_ranges_parse_and_bad_flags_are_clear_errors() {
    use sim::sweep::seeds::parse;
    assert_eq!(parse("1..=3").unwrap(), vec![1, 2, 3]);
    assert_eq!(parse("1..3").unwrap(), vec![1, 2]);
    assert_eq!(parse("42").unwrap(), vec![42]);
    assert_eq!(parse("10..=11,1,5..7").unwrap(), vec![1, 5, 6, 10, 11]);
    for bad in [
        "",
        "1..",
        "3..=2",
        "4..4",
        "1,,2",
        "1..=3,3",
        "x",
        "-1",
        "0..=18446744073709551615",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} should be an error");
    }

    let tmp = tempfile::tempdir().unwrap();
    let tiny = scenario(tmp.path(), "tiny.toml", TINY);
    let cases: [(&[&str], &str); 5] = [
        (&["--seeds", "9..=1"], "--seeds"),
        (&["--seeds", "abc"], "valid: A..=B"),
        (&["--seeds", "1", "--shard", "0/3"], "1 <= K <= N"),
        (&["--seeds", "1", "--shard", "4/3"], "--shard"),
        (&["--seeds", "1", "--jobs", "0"], "--jobs"),
    ];
    for (args, expect) in cases {
        let mut all = vec!["sweep", tiny.as_str()];
        all.extend_from_slice(args);
        let o = failover_sim(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn check_determinism_passes_on_a_normal_run() {
    let tmp = tempfile::tempdir().unwrap();
    let tiny = scenario(tmp.path(), "tiny.toml", TINY);
    let o = failover_sim(&["run", &tiny, "--seed", "7", "--check-determinism"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}");
    assert!(stdout.contains("history   identical"), "{stdout}");
    assert!(stdout.contains("trace     identical"), "{stdout}");
}
