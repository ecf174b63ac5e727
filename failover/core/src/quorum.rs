//! Detection by quorum (the safe policy): a master is failed only when monit's polls and
//! the haproxies' own views agree. monit alone sees the master from one machine; each
//! haproxy checks it from another and says what it sees in `show stat`. A monitor cut off
//! from a healthy master therefore fails nothing over while a proxy still routes to it,
//! and a haproxy cut off from its master fails nothing over while monit still reaches it
//! (that proxy's clients are the app's haproxy's to move, by its see-through check).

use serde::{Deserialize, Serialize};

use crate::event::ServerStatus;
use crate::observation::ServerStat;

/// What one haproxy's `show stat` says about the servers of one redis machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyView {
    /// At least one of the machine's servers is UP there: the proxy reaches it.
    Usable,
    /// The proxy answered and none of the machine's servers is UP (DOWN, in maintenance, or
    /// not registered).
    Unusable,
    /// The proxy did not answer: it is no witness either way.
    Unknown,
}

impl ProxyView {
    /// The view of a proxy that answered, from its rows for the machine's servers: usable
    /// while one of them is UP with its checks passing. A server whose checks have started
    /// to fail (`UP 1/3`) still takes traffic but counts as the proxy agreeing with monit:
    /// waiting for `fall` checks would add their whole count to every failover.
    pub fn of(servers: &[&ServerStat]) -> Self {
        if servers
            .iter()
            .any(|s| s.status == ServerStatus::Up && !s.checks_failing)
        {
            ProxyView::Usable
        } else {
            ProxyView::Unusable
        }
    }
}

/// One proxy's view of `machine`'s servers in `backends` (those of the ports monit found
/// failing), from its last `show stat`; `None` when it did not answer.
pub fn view_of(stats: Option<&[ServerStat]>, machine: &str, backends: &[String]) -> ProxyView {
    let Some(stats) = stats else {
        return ProxyView::Unknown;
    };
    let servers: Vec<&ServerStat> = stats
        .iter()
        .filter(|s| s.server == machine && backends.contains(&s.backend))
        .collect();
    ProxyView::of(&servers)
}

/// What the votes decide about a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// monit's polls succeed: alive, whatever a proxy says.
    Alive,
    /// monit's polls failed and every proxy that answered agrees: fail it over.
    Failed,
    /// monit's polls failed but a proxy still uses the machine: monit is the one cut off.
    MonitorCutOff,
    /// monit's polls failed and no proxy answered: nobody can confirm, so nothing is done
    /// (an event says so).
    Unconfirmed,
}

/// The verdict on a machine: `monit_failed` when monit's polls failed `fail_count` cycles in
/// a row, `views` one per monitored haproxy, in any order.
pub fn judge(monit_failed: bool, views: &[ProxyView]) -> Verdict {
    if !monit_failed {
        Verdict::Alive
    } else if views.contains(&ProxyView::Usable) {
        Verdict::MonitorCutOff
    } else if views.contains(&ProxyView::Unusable) {
        Verdict::Failed
    } else {
        Verdict::Unconfirmed
    }
}
