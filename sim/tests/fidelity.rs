//! Fidelity: every probe runs against the models (in turmoil) and against the real
//! redis-server 7 and haproxy 2.6 on loopback, and what each did must agree.
//!
//! Set FIDELITY_SKIP_REAL=1 to run only the model side (for a machine without the
//! binaries); `.ci/run` installs them and runs both sides.

use std::time::Duration;

use sim::fidelity::{probes, real_lab, sim_lab};

/// How far apart the model's and the binary's timings may be.
const TOLERANCE: Duration = Duration::from_millis(1500);

fn check(name: &str) {
    let probe = probes::all()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no probe named {name}"));
    let model = sim_lab::run(&probe, 1);
    println!("--- {name}: model\n{}", model.render());
    if std::env::var_os("FIDELITY_SKIP_REAL").is_some() {
        println!("FIDELITY_SKIP_REAL is set: the real side of {name} was not run");
        return;
    }
    real_lab::binaries_present().unwrap_or_else(|e| panic!("{e}"));
    if probe.needs_root {
        if let Err(why) = real_lab::can_drop_packets() {
            println!("SKIPPED: the real side of {name} did not run: {why}");
            eprintln!("SKIPPED: the real side of {name} did not run: {why}");
            return;
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let real = rt
        .block_on(real_lab::run(&probe))
        .unwrap_or_else(|e| panic!("{name}: could not start the real processes: {e}"));
    println!("--- {name}: real\n{}", real.render());
    if let Err(diff) = model.compare(&real, TOLERANCE) {
        panic!("{name}: the model and the real binaries differ:\n{diff}");
    }
}

macro_rules! fidelity_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $( #[test] fn $test() { check($name); } )*

        #[test]
        fn every_probe_has_a_test() {
            let tested = [$($name),*];
            for p in probes::all() {
                assert!(tested.contains(&p.name), "probe {} has no test", p.name);
            }
        }
    };
}

fidelity_tests! {
    redis_commands_and_errors => "redis-commands-and-errors",
    redis_master_and_replica_info => "redis-master-and-replica-info",
    redis_replica_after_master_dies => "redis-replica-after-master-dies",
    redis_promote_then_write => "redis-promote-then-write",
    redis_min_replicas_wait_client_kill => "redis-min-replicas-wait-client-kill",
    haproxy_dead_server_and_no_server => "haproxy-dead-server-and-no-server",
    haproxy_demoted_master_fails_by_timeout => "haproxy-demoted-master-fails-by-timeout",
    haproxy_runtime_api_replies => "haproxy-runtime-api-replies",
    haproxy_ready_after_maint_pitfall => "haproxy-ready-after-maint-pitfall",
    lab_silent_machine_and_restart => "lab-silent-machine-and-restart",
    haproxy_del_server_after_silent_master => "haproxy-del-server-after-silent-master",
    haproxy_del_server_after_silent_master_server_fin =>
        "haproxy-del-server-after-silent-master-server-fin",
    haproxy_del_server_after_silent_master_abortonclose =>
        "haproxy-del-server-after-silent-master-abortonclose",
    haproxy_connect_retries_refused => "haproxy-connect-retries-refused",
    haproxy_connect_retries_silent => "haproxy-connect-retries-silent",
    haproxy_redispatch_refused => "haproxy-redispatch-refused",
    haproxy_redispatch_silent => "haproxy-redispatch-silent",
    haproxy_half_close => "haproxy-half-close",
    haproxy_frozen_redis_behind_master_check => "haproxy-frozen-redis-behind-master-check",
    haproxy_silent_machine_checks => "haproxy-silent-machine-checks",
    haproxy_silent_machine_checks_inter_5s => "haproxy-silent-machine-checks-inter-5s",
    redis_restart_after_kill_and_term => "redis-restart-after-kill-and-term",
    redis_master_stopped_and_restarted => "redis-master-stopped-and-restarted",
    redis_master_killed_after_save => "redis-master-killed-after-save",
    redis_frozen_by_sigstop => "redis-frozen-by-sigstop",
    tcp_replica_catches_up_after_a_partition_heals => "tcp-replica-catches-up-after-a-partition-heals",
}

#[test]
fn the_model_side_is_deterministic() {
    let probe = probes::all()
        .into_iter()
        .find(|p| p.name == "redis-promote-then-write")
        .expect("probe exists");
    let a = sim_lab::run(&probe, 7).render();
    let b = sim_lab::run(&probe, 7).render();
    assert_eq!(a, b);
}
