//! `show stat`'s CSV, read by its header's column names (their order differs between
//! haproxy versions; the names do not).

use std::collections::BTreeMap;

use crate::event::ServerStatus;
use crate::observation::ServerStat;

/// One row of `show stat`: column name → value.
pub type StatRow = BTreeMap<String, String>;

/// Every row of a `show stat` reply; `None` when the reply is not that CSV.
pub fn parse_stat_csv(reply: &str) -> Option<Vec<StatRow>> {
    let mut lines = reply.lines();
    let header: Vec<&str> = lines.next()?.strip_prefix("# ")?.split(',').collect();
    Some(
        lines
            .filter(|l| !l.is_empty())
            .map(|line| {
                header
                    .iter()
                    .zip(line.split(','))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .collect(),
    )
}

/// The row of `backend/server`, if any.
pub fn find<'a>(rows: &'a [StatRow], backend: &str, server: &str) -> Option<&'a StatRow> {
    rows.iter().find(|r| {
        r.get("pxname").map(String::as_str) == Some(backend)
            && r.get("svname").map(String::as_str) == Some(server)
    })
}

/// A row's column, or "" when absent.
pub fn col<'a>(row: &'a StatRow, name: &str) -> &'a str {
    row.get(name).map(String::as_str).unwrap_or("")
}

/// The server rows (not FRONTEND, BACKEND), each with the status it routes by. `UP 1/3`
/// (going down: up, its checks failing) and `no check` still take traffic; `DOWN 1/2`
/// (coming up) does not yet; `DRAIN` takes no new sessions, as maintenance; `NOLB` and
/// the like count as up.
pub fn server_stats(rows: &[StatRow]) -> Vec<ServerStat> {
    rows.iter()
        .filter(|r| !matches!(col(r, "svname"), "FRONTEND" | "BACKEND" | ""))
        .map(|r| {
            let status = col(r, "status");
            ServerStat {
                backend: col(r, "pxname").to_string(),
                server: col(r, "svname").to_string(),
                status: if status.starts_with("DOWN") {
                    ServerStatus::Down
                } else if status.starts_with("MAINT") || status.starts_with("DRAIN") {
                    ServerStatus::Maint
                } else {
                    ServerStatus::Up
                },
                checks_failing: status.starts_with("UP ") && status.contains('/'),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_by_column_name() {
        let csv = "# pxname,svname,status\nb,s1,UP\nb,BACKEND,UP\n";
        let rows = parse_stat_csv(csv).unwrap();
        assert_eq!(col(find(&rows, "b", "s1").unwrap(), "status"), "UP");
        assert!(find(&rows, "b", "s2").is_none());
        assert!(parse_stat_csv("Unknown command\n").is_none());
    }

    #[test]
    fn server_rows_with_the_status_they_route_by() {
        let csv = "# pxname,svname,status\nf,FRONTEND,OPEN\nb,a,UP 1/3\nb,c,DOWN 1/2\nb,d,MAINT (resolution)\nb,e,DRAIN\nb,g,no check\nb,BACKEND,UP\n";
        let got: Vec<(String, ServerStatus, bool)> = server_stats(&parse_stat_csv(csv).unwrap())
            .into_iter()
            .map(|s| (s.server, s.status, s.checks_failing))
            .collect();
        let want = [
            ("a", ServerStatus::Up, true),
            ("c", ServerStatus::Down, false),
            ("d", ServerStatus::Maint, false),
            ("e", ServerStatus::Maint, false),
            ("g", ServerStatus::Up, false),
        ];
        assert_eq!(got, want.map(|(n, s, f)| (n.to_string(), s, f)).to_vec());
    }
}
