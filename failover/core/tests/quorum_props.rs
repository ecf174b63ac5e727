//! Detection by quorum: monit's polls and the haproxies' views must agree before a master
//! is failed; a monitor cut off alone fails nothing over.

use failover_core::event::ServerStatus;
use failover_core::observation::ServerStat;
use failover_core::quorum::{judge, view_of, ProxyView, Verdict};
use proptest::prelude::*;

fn view() -> impl Strategy<Value = ProxyView> {
    prop_oneof![
        Just(ProxyView::Usable),
        Just(ProxyView::Unusable),
        Just(ProxyView::Unknown)
    ]
}

proptest! {
    #[test]
    fn failed_only_when_monit_and_every_answering_proxy_agree(
        monit_failed in any::<bool>(),
        views in proptest::collection::vec(view(), 0..5),
    ) {
        let verdict = judge(monit_failed, &views);
        let usable = views.contains(&ProxyView::Usable);
        let unusable = views.contains(&ProxyView::Unusable);
        prop_assert_eq!(verdict == Verdict::Failed, monit_failed && !usable && unusable);
        // A monitor cut off from a master that some proxy still uses fails nothing over.
        if usable {
            prop_assert_ne!(verdict, Verdict::Failed);
        }
        // monit reaching it is enough to keep it.
        if !monit_failed {
            prop_assert_eq!(verdict, Verdict::Alive);
        }
    }

    #[test]
    fn the_order_of_the_proxies_and_a_silent_one_change_nothing(
        monit_failed in any::<bool>(),
        mut views in proptest::collection::vec(view(), 1..5),
    ) {
        let verdict = judge(monit_failed, &views);
        views.reverse();
        prop_assert_eq!(judge(monit_failed, &views), verdict);
        views.push(ProxyView::Unknown);
        prop_assert_eq!(judge(monit_failed, &views), verdict);
    }
}

#[test]
fn the_cases_the_lab_documents() {
    use ProxyView::*;
    // The master's machine crashed: nobody reaches it.
    assert_eq!(judge(true, &[Unusable, Unusable]), Verdict::Failed);
    // monit cut off from a healthy master: both proxies still route to it.
    assert_eq!(judge(true, &[Usable, Usable]), Verdict::MonitorCutOff);
    // haproxy1 cut off from its master: monit and haproxy2 still reach it.
    assert_eq!(judge(false, &[Unusable, Usable]), Verdict::Alive);
    // The master crashed with haproxy2: haproxy1 confirms.
    assert_eq!(judge(true, &[Unusable, Unknown]), Verdict::Failed);
    // Nobody to confirm.
    assert_eq!(judge(true, &[Unknown, Unknown]), Verdict::Unconfirmed);
    assert_eq!(judge(true, &[]), Verdict::Unconfirmed);
}

#[test]
fn a_machine_is_usable_at_a_proxy_while_one_of_its_servers_is_up_and_passing_checks() {
    use ServerStatus::*;
    let stat = |server: &str, status, checks_failing| ServerStat {
        backend: "redis_9001".into(),
        server: server.into(),
        status,
        checks_failing,
    };
    let view = |rows: &[ServerStat]| view_of(Some(rows), "redis1", &["redis_9001".into()]);
    assert_eq!(
        view(&[stat("redis1", Down, false), stat("redis1", Up, false)]),
        ProxyView::Usable
    );
    assert_eq!(
        view(&[stat("redis1", Down, false), stat("redis1", Maint, false)]),
        ProxyView::Unusable
    );
    assert_eq!(
        view(&[stat("redis1", Up, true)]),
        ProxyView::Unusable,
        "its checks failing: the proxy agrees with monit"
    );
    assert_eq!(
        view(&[stat("redis2", Up, false)]),
        ProxyView::Unusable,
        "not registered there"
    );
    assert_eq!(view_of(None, "redis1", &[]), ProxyView::Unknown);
}
