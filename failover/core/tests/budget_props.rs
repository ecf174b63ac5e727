//! Anti-flapping and bounded launches: no second failover of a port within the window, at
//! most N launches in any hour, whatever the controller is asked and when.

use failover_core::budget::{Budget, BudgetConfig, Refusal, HOUR_MS};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Ask {
    /// Time passes.
    Wait(u64),
    FailOver(u16),
    Launch,
    /// The controller restarts on a new clock reading this value.
    Restart(u64),
}

fn ask() -> impl Strategy<Value = Ask> {
    prop_oneof![
        3 => (1u64..900_000).prop_map(Ask::Wait),
        2 => (9001u16..9003).prop_map(Ask::FailOver),
        3 => Just(Ask::Launch),
        1 => (0u64..10_000_000).prop_map(Ask::Restart),
    ]
}

proptest! {
    #[test]
    fn the_budget_is_never_overspent(
        window_ms in 1u64..1_000_000,
        launches_per_hour in 1u32..10,
        asks in proptest::collection::vec(ask(), 1..200),
    ) {
        let config = BudgetConfig { window_ms, launches_per_hour };
        let mut budget = Budget::default();
        // On one continuous timeline (a restart moves the controller's clock, not time).
        let (mut clock, mut real) = (0u64, 0u64);
        let mut failovers: Vec<(u16, u64)> = Vec::new();
        let mut launches: Vec<u64> = Vec::new();
        for a in asks {
            match a {
                Ask::Wait(ms) => {
                    clock += ms;
                    real += ms;
                }
                Ask::FailOver(port) => {
                    if budget.may_fail_over(&config, port, clock).is_ok() {
                        budget.failed_over(port, clock);
                        failovers.push((port, real));
                    }
                }
                Ask::Launch => {
                    if budget.may_launch(&config, clock).is_ok() {
                        budget.launched(clock);
                        launches.push(real);
                    }
                }
                Ask::Restart(new) => {
                    let old = clock;
                    budget.rebase(|t| (new + t).saturating_sub(old));
                    clock = new;
                }
            }
        }
        for (i, (port, at)) in failovers.iter().enumerate() {
            for (p, later) in &failovers[i + 1..] {
                if p == port {
                    // A restart's clamp (a time before the new clock's zero becomes the
                    // zero) moves a time later: it lengthens a wait, never shortens it.
                    prop_assert!(later - at >= window_ms,
                        "port {} failed over at {} and again at {}", port, at, later);
                }
            }
        }
        for (i, at) in launches.iter().enumerate() {
            let within = launches[i..].iter().filter(|t| **t - at < HOUR_MS).count();
            prop_assert!(within <= launches_per_hour as usize,
                "{} launches in the hour from {}", within, at);
        }
    }
}

#[test]
fn a_refusal_says_why() {
    let config = BudgetConfig {
        window_ms: 300_000,
        launches_per_hour: 2,
    };
    let mut b = Budget::default();
    b.failed_over(9001, 1_000);
    assert_eq!(
        b.may_fail_over(&config, 9001, 61_000),
        Err(Refusal::Flapping {
            port: 9001,
            since_ms: 60_000,
            window_ms: 300_000
        })
    );
    assert_eq!(
        b.may_fail_over(&config, 9002, 61_000),
        Ok(()),
        "another port"
    );
    assert_eq!(
        b.may_fail_over(&config, 9001, 301_000),
        Ok(()),
        "the window passed"
    );
    b.launched(0);
    b.launched(10);
    assert_eq!(
        b.may_launch(&config, 20),
        Err(Refusal::LaunchBudget {
            launches: 2,
            launches_per_hour: 2
        })
    );
    assert_eq!(
        b.may_launch(&config, HOUR_MS),
        Ok(()),
        "the first launch is an hour old"
    );
}
