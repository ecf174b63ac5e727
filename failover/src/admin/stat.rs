//! `show stat`'s CSV, read by its header's column names (their order differs between
//! haproxy versions; the names do not).

use std::collections::BTreeMap;

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
}
