//! `[failover] policy`: the seed profile is the seed as written (monit's cycle, its 5 s
//! connect timeout and tests one after another, 3 cycles, haproxy `inter 5s fall 3`, plain
//! connect checks on the app's haproxy, the bash script's step order); `safe` polls as the
//! lab did before there were policies, with the quorum, promotion by data and the budget.

use std::time::Duration;

use failover::config::{ControllerConfig, Policy, PollOrder, Promotion};
use failover::layout::Topology;
use failover::plan::{FAILED_HAPROXY, FAILED_REDIS, SAFE_FAILED_REDIS};
use sim::haproxy::{presets, HaproxyConfig};
use sim::run::controller_config;

fn scenario(failover: &str) -> scenario::Scenario {
    let text =
        format!("status = \"must-pass\"\nduration = \"2m\"\nseed = 1\n[failover]\n{failover}");
    scenario::parse(&text, "policy.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// Every checked server's (inter, fall, rise).
fn checks(config: &HaproxyConfig) -> Vec<(Duration, u32, u32)> {
    config
        .backends
        .iter()
        .flat_map(|b| &b.servers)
        .filter(|s| s.check)
        .map(|s| (s.inter, s.fall, s.rise))
        .collect()
}

#[test]
fn the_seed_profile_checks_three_times_in_five_seconds_everywhere() {
    let t = Topology::seed();
    let seed = (Duration::from_secs(5), 3, 2);
    for config in [
        presets::haproxy_node(&t, "haproxy1", Policy::Seed),
        presets::haproxy_node(&t, "haproxy2", Policy::Seed),
        presets::app_local(&t, Policy::Seed),
    ] {
        let all = checks(&config);
        assert_eq!(all.len(), 4, "{}: two servers per port", config.name);
        assert!(all.iter().all(|c| *c == seed), "{}: {all:?}", config.name);
        // The same on a real haproxy.
        let cfg = config.render_cfg(&|h, p| (h.to_string(), p));
        assert_eq!(
            cfg.matches("check inter 5000ms fall 3 rise 2").count(),
            4,
            "{cfg}"
        );
    }
    let safe = checks(&presets::app_local(&t, Policy::Safe));
    assert!(
        safe.iter().all(|c| *c == (Duration::from_secs(1), 3, 2)),
        "{safe:?}"
    );
}

#[test]
fn the_seed_profiles_app_haproxy_checks_only_that_a_proxy_accepts() {
    let app = presets::app_local(&Topology::seed(), Policy::Seed);
    assert!(app.backends.iter().all(|b| b.tcp_check.is_empty()));

    let node = presets::haproxy_node(&Topology::seed(), "haproxy1", Policy::Seed);
    assert!(node
        .backends
        .iter()
        .all(|b| b.tcp_check == presets::redis_master_check()));
}

#[test]
fn the_seed_profile_is_monit_with_debians_cycle_or_a_tuned_one() {
    let c = controller_config(&scenario("policy = \"seed\"\n"));
    assert_eq!(c.interval_ms, 120_000, "Debian's set daemon 120");
    assert_eq!(c.polls, PollOrder::OneAfterAnother);
    assert_eq!(c.poll_timeout_ms, 5_000, "monit's connect timeout");
    assert_eq!(c.fail_count, 3);
    assert_eq!((c.check_inter_ms, c.check_fall), (5_000, 3));
    assert_eq!(
        c.failed_redis, FAILED_REDIS,
        "the bash script's failed_redis"
    );
    assert_eq!(c.failed_haproxy, FAILED_HAPROXY);
    // monit alone decides, "the remaining redis" takes over, nothing is budgeted.
    assert!(!c.quorum);
    assert_eq!(c.promotion, Promotion::AnySurvivor);
    assert_eq!(c.budget, None);
    c.validate()
        .expect("the seed profile is a valid configuration");

    let tuned = controller_config(&scenario("policy = \"seed\"\ninterval = \"10s\"\n"));
    assert_eq!(
        tuned,
        ControllerConfig {
            interval_ms: 10_000,
            ..c
        }
    );
}

#[test]
fn safe_is_the_default_and_polls_every_second() {
    let c = controller_config(&scenario(""));
    assert_eq!(c.interval_ms, 1_000);
    assert_eq!(c.polls, PollOrder::AtOnce);
    assert_eq!(c.poll_timeout_ms, 800);
    assert_eq!(c.check_inter_ms, 1_000);
    // Fenced before the promotion, the old master's servers deleted last.
    assert_eq!(c.failed_redis, SAFE_FAILED_REDIS);
    assert!(c.quorum);
    assert!(matches!(c.promotion, Promotion::ByData { .. }));
    assert!(c.budget.is_some());
    c.validate()
        .expect("the safe profile is a valid configuration");
    assert_eq!(c, controller_config(&scenario("policy = \"safe\"\n")));
}
