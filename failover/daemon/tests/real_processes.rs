//! failoverd against real processes on loopback (issue 12, item 5): redis-server on two
//! machines × two ports, haproxy1, haproxy2 and the app's haproxy, each machine on its own
//! 127.x.y.z address (the `local` cloud); failoverd as a child process with the local
//! provider; clients writing and reading through the app's haproxy, their history judged
//! by the lab's own checkers (`judge`).
//!
//! Each case asserts that the failover completes, writes through the app resume, the
//! replacement becomes a synced replica (or proxy) registered where it belongs, failoverd
//! stops with status 0 on SIGTERM, and its audit log replays through the core; it prints
//! the time from the fault to detection, to the first write through the app and to full
//! redundancy, the outage and the lost writes.
//!
//! Needs root (the nftables table of the silent-machine case; .ci/run runs as root) and
//! redis-server, haproxy and nft installed; skipped with a message otherwise. The cases run
//! one at a time (their timings are the point, and the machine has two cores).

mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use judge::checker::{analyze, Input};
use nix::sys::signal::Signal;
use support::client::Clients;
use support::deployment::{append, get, ip_of, World, BOOT_DELAY};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// SIGKILL of redis1's redis-server on 9001 (redis1 is master of every port).
    KillMasterProcess,
    /// nftables drop of every packet to and from redis1, then SIGKILL of its processes.
    SilenceMasterMachine,
    /// SIGSTOP of redis1's redis-server on 9001.
    StopMasterProcess,
    /// SIGKILL of haproxy1's haproxy, the proxy the app uses first.
    KillHaproxy1,
    /// redis1's processes SIGKILLed; failoverd SIGKILLed once the replacement is launched,
    /// then started again.
    KillFailoverdMidPlan,
    /// The same with SIGTERM: failoverd checkpoints the step under way and exits 0.
    TermFailoverdMidPlan,
}

fn missing_prerequisite() -> Option<String> {
    if !failover_local::nft::is_root() {
        return Some("needs root (nftables, as in .ci/run)".into());
    }
    for bin in ["redis-server", "nft"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
            .unwrap_or(false)
            || std::path::Path::new("/usr/sbin").join(bin).is_file();
        if !found {
            return Some(format!("{bin} is not installed (.ci/run installs it)"));
        }
    }
    if !std::path::Path::new("/usr/sbin/haproxy").is_file()
        && !std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join("haproxy").is_file()))
            .unwrap_or(false)
    {
        return Some("haproxy is not installed (.ci/run installs it)".into());
    }
    None
}

fn unix_ms() -> u64 {
    failoverd::audit::unix_ms()
}

/// The wall-clock time of the first audit line containing `needle` at or after `after`.
fn audit_time(world: &World, needle: &str, after: u64) -> Option<u64> {
    let text = std::fs::read_to_string(world.audit_log()).ok()?;
    text.lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["at_unix_ms"].as_u64())
        .find(|t| *t >= after)
}

async fn run(fault: Fault) {
    if let Some(why) = missing_prerequisite() {
        eprintln!("SKIPPED real-process case {fault:?}: {why}");
        return;
    }
    let mut world = World::start().await;
    world.write_config();
    // --probe reaches every endpoint of the deployment: 2 machines × 2 redis ports, two
    // proxies' runtime APIs, the app's.
    let probe = std::process::Command::new(env!("CARGO_BIN_EXE_failoverd"))
        .args(["check-config", "--probe"])
        .arg(&world.config)
        .output()
        .expect("check-config --probe");
    let out = String::from_utf8_lossy(&probe.stdout);
    assert!(
        probe.status.success() && out.matches("\nok ").count() == 7,
        "{out}"
    );
    world.start_failoverd().await;
    let start = Instant::now();
    let clients = Clients::new(start);
    let app = ip_of(&world.cloud, "app");
    let app_ports = world.topology.app_ports();
    clients.spawn(app, app_ports.clone());
    tokio::time::sleep(Duration::from_secs(5)).await;

    let fault_ms = start.elapsed().as_millis() as u64;
    let fault_unix = unix_ms();
    let redis1 = ip_of(&world.cloud, "redis1");
    match fault {
        Fault::KillMasterProcess => {
            world
                .cloud
                .signal("redis1", Some(9001), Signal::SIGKILL)
                .expect("kill");
        }
        Fault::SilenceMasterMachine => {
            world.table().silence(redis1).expect("nftables rules");
            world
                .cloud
                .signal("redis1", None, Signal::SIGKILL)
                .expect("kill");
        }
        Fault::StopMasterProcess => {
            world
                .cloud
                .signal("redis1", Some(9001), Signal::SIGSTOP)
                .expect("stop");
        }
        Fault::KillHaproxy1 => {
            world
                .cloud
                .signal("haproxy1", None, Signal::SIGKILL)
                .expect("kill");
        }
        Fault::KillFailoverdMidPlan | Fault::TermFailoverdMidPlan => {
            world
                .cloud
                .signal("redis1", None, Signal::SIGKILL)
                .expect("kill");
            let launched = Instant::now();
            while audit_time(&world, "\"step-done\",\"plan\":1,\"step\":4", fault_unix).is_none() {
                assert!(
                    launched.elapsed() < Duration::from_secs(60),
                    "the launch step never finished"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            // Mid-plan: the replacement is launched and booting, WaitReachable in flight.
            if fault == Fault::KillFailoverdMidPlan {
                world.kill_failoverd();
            } else {
                let exit = world.stop_failoverd();
                assert_eq!(exit.map(|s| s.code()), Some(Some(0)), "SIGTERM mid-plan");
                let audit = std::fs::read_to_string(world.audit_log()).unwrap_or_default();
                assert!(
                    audit.contains("\"kind\":\"stopped\",\"signal\":\"SIGTERM\""),
                    "no stop recorded"
                );
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            world.start_failoverd().await;
        }
    }

    let redundant_ms = loop {
        let now = start.elapsed().as_millis() as u64;
        match support::redundancy::check(&world.topology, world.http, &app.to_string()).await {
            Ok(()) if now > fault_ms + 3_000 => break now,
            Ok(()) => {}
            Err(why) => assert!(
                now - fault_ms < 240_000,
                "{fault:?}: not fully redundant 240 s after the fault: {why}\nfailoverd's log:\n{}",
                world.failoverd_log()
            ),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    clients.stop.set(true);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let final_state = clients.read_back(app, &app_ports).await;
    let history = clients.history.events();
    let end_ms = start.elapsed().as_millis() as u64;
    let input = Input {
        final_state,
        ..Input::new(&history, &[], end_ms)
    };
    let analysis = analyze(&input);

    let detected =
        audit_time(&world, "\"machine-failed\"", fault_unix).map(|t| t.saturating_sub(fault_unix));
    let outages = clients.write_outages(fault_ms);
    let secs = |ms: u64| format!("{:.1}", ms.saturating_sub(fault_ms) as f64 / 1000.0);
    let outage_text = if outages.is_empty() {
        "no write failed".to_string()
    } else {
        outages
            .iter()
            .map(|(port, (bad, ok))| {
                format!("port {port}: first failed write at {} s, first write through the app after it at {} s", secs(*bad), ok.map_or("never".into(), secs))
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let (_, status) = get(world.http, "/status").await.expect("/status");
    let status: serde_json::Value = serde_json::from_str(&status).expect("/status is JSON");
    let (_, metrics) = get(world.http, "/metrics").await.expect("/metrics");

    let launched: Vec<_> = world
        .cloud
        .records()
        .into_iter()
        .filter(|r| !r.token.starts_with("seed-"))
        .collect();
    let exit = world.stop_failoverd();
    let replay = failoverd::replay::replay(&world.audit_log());

    let line = format!(
        "{fault:?}: after the fault: detection {} s; {outage_text}; full redundancy {} s (boot delay {} s); operations ok {} failed {} unknown {}; lost writes {}; longest unavailability of a port {} ms",
        detected.map_or("-".into(), |d| format!("{:.1}", d as f64 / 1000.0)),
        format_args!("{:.1}", (redundant_ms - fault_ms) as f64 / 1000.0),
        BOOT_DELAY.as_secs(),
        analysis.requests.total.ok,
        analysis.requests.total.failed,
        analysis.requests.total.unknown,
        analysis.lost_writes.total,
        analysis.unavailability.per_port.values().map(|w| w.longest_ms).max().unwrap_or(0),
    );
    eprintln!("FIGURES {line}");
    if let Some(path) = std::env::var_os("FAILOVERD_FIGURES") {
        append(std::path::Path::new(&path), &line);
    }

    // The failover completed, once: one machine launched, a plan finished.
    assert_eq!(launched.len(), 1, "{fault:?}: launched {launched:?}");
    assert!(status["finished_plans"].as_u64() >= Some(1), "{status}");
    assert!(
        detected.is_some(),
        "{fault:?}: no machine was declared failed"
    );
    // Writes through the app resumed on every port where they had stopped.
    assert!(
        outages.values().all(|(_, ok)| ok.is_some()),
        "{fault:?}: {outage_text}"
    );
    let ok_after = history
        .iter()
        .filter(|e| {
            e.at_ms > redundant_ms
                && e.phase == judge::history::Phase::Ok
                && e.f == judge::history::OpKind::Write
        })
        .count();
    assert!(
        ok_after > 0,
        "{fault:?}: no write went through after redundancy came back"
    );
    // The drain recipe keeps a registered replica from serving (haproxy's ready-after-
    // maint pitfall): no write was ever answered READONLY.
    let readonly = history
        .iter()
        .filter(|e| e.error.as_deref().is_some_and(|x| x.contains("READONLY")))
        .count();
    assert_eq!(readonly, 0, "{fault:?}: writes reached a replica");
    // Every acknowledged write is either there or reported as lost; none is unverified.
    assert_eq!(
        analysis.lost_writes.unverified, 0,
        "{:?}",
        analysis.lost_writes
    );
    assert!(
        metrics.contains("failover_plans_finished_total"),
        "{metrics}"
    );
    assert_eq!(
        exit.map(|s| s.code()),
        Some(Some(0)),
        "failoverd did not exit 0 on SIGTERM"
    );
    let replayed = replay.unwrap_or_else(|e| panic!("the audit log does not replay: {e}"));
    assert!(replayed.inputs > 0);
}

fn block_on(fault: Fault) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tokio::task::LocalSet::new().block_on(&rt, run(fault));
}

#[test]
fn master_process_killed() {
    block_on(Fault::KillMasterProcess);
}

#[test]
fn master_machine_silent() {
    block_on(Fault::SilenceMasterMachine);
}

#[test]
fn master_process_frozen() {
    block_on(Fault::StopMasterProcess);
}

#[test]
fn haproxy1_killed() {
    block_on(Fault::KillHaproxy1);
}

#[test]
fn failoverd_killed_mid_plan_and_restarted() {
    block_on(Fault::KillFailoverdMidPlan);
}

#[test]
fn failoverd_stopped_mid_plan_and_restarted() {
    block_on(Fault::TermFailoverdMidPlan);
}
