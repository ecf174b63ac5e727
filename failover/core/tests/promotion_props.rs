//! Promotion by data: the reachable replica with the largest offset; never a fresh
//! machine that has not synced, never one whose link has been down too long.

use failover_core::promotion::{choose, Candidate, Ineligible};
use proptest::prelude::*;

fn candidate() -> impl Strategy<Value = Candidate> {
    (
        0u8..6,
        any::<bool>(),
        any::<bool>(),
        0u64..1_000,
        prop_oneof![Just(0u64), 0u64..120_000],
    )
        .prop_map(|(n, reachable, synced, offset, link_down_ms)| Candidate {
            machine: format!("redis{n}"),
            reachable,
            synced,
            offset,
            link_down_ms,
        })
}

proptest! {
    #[test]
    fn the_choice_is_eligible_holds_the_most_and_does_not_depend_on_order(
        mut candidates in proptest::collection::vec(candidate(), 0..6),
        bound in 0u64..60_000,
    ) {
        let chosen = choose(&candidates, bound).cloned();
        let eligible: Vec<&Candidate> =
            candidates.iter().filter(|c| c.eligible(bound).is_ok()).collect();
        match &chosen {
            None => prop_assert!(eligible.is_empty()),
            Some(c) => {
                prop_assert!(c.eligible(bound).is_ok());
                prop_assert!(c.reachable && c.synced && c.link_down_ms <= bound);
                prop_assert!(eligible.iter().all(|e| e.offset <= c.offset));
            }
        }
        candidates.reverse();
        prop_assert_eq!(choose(&candidates, bound).cloned(), chosen);
    }
}

#[test]
fn a_fresh_machine_or_a_long_lost_link_is_never_promoted() {
    let c = |machine: &str, synced, offset, link_down_ms| Candidate {
        machine: machine.into(),
        reachable: true,
        synced,
        offset,
        link_down_ms,
    };
    let fresh = c("redis3", false, 0, 0);
    let stale = c("redis2", true, 900, 90_000);
    assert_eq!(fresh.eligible(10_000), Err(Ineligible::NeverSynced));
    assert_eq!(stale.eligible(10_000), Err(Ineligible::LinkDownTooLong));
    assert_eq!(choose(&[fresh.clone(), stale.clone()], 10_000), None);
    let behind = c("redis4", true, 500, 0);
    assert_eq!(
        choose(&[fresh, stale, behind.clone()], 10_000),
        Some(&behind)
    );
    let unreachable = Candidate {
        reachable: false,
        ..c("redis5", true, 2_000, 0)
    };
    assert_eq!(unreachable.eligible(10_000), Err(Ineligible::Unreachable));
}
