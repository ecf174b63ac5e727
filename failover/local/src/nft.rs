//! An nftables table of our own. Packets are dropped in the `input` hook: a packet dropped
//! in `output` makes the sender's `connect` or `send` fail at once with EPERM, which is a
//! loud failure, where a machine that died or a cut cable says nothing. Dropped on input,
//! the sender's TCP retransmits and times out as it would against a silent peer.
//!
//! Every rule matches both addresses of a packet, so the processes of a machine must use
//! its address as their source (redis `bind-source-addr`, haproxy `source`).

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum NftError {
    #[error("cannot run nft (install it with `apt-get install nftables`): {0}")]
    Spawn(std::io::Error),
    #[error("nft refused `{command}`: {stderr} (managing an nftables table needs root)")]
    Refused { command: String, stderr: String },
    #[error("nft did not print a rule handle for `{0}`")]
    NoHandle(String),
    #[error("a loss rate must be within 0.0..=1.0, not {0}")]
    Rate(f64),
}

/// A rule added to the table, removable by its handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    handle: u64,
}

/// The table; deleted, with every rule in it, when dropped.
#[derive(Debug)]
pub struct Table {
    name: String,
}

static TABLES: AtomicU32 = AtomicU32::new(0);

impl Table {
    /// Creates a table named `<prefix>_<pid>_<n>`, unique on this machine, with one input
    /// chain that accepts what no rule drops.
    pub fn create(prefix: &str) -> Result<Table, NftError> {
        let n = TABLES.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}_{}_{n}", std::process::id());
        let script = format!(
            "add table inet {name}\n\
             add chain inet {name} input {{ type filter hook input priority -10; policy accept; }}\n"
        );
        run(&["-f", "-"], Some(&script))?;
        Ok(Table { name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops every packet from or to `ip`: the machine falls silent.
    pub fn silence(&self, ip: Ipv4Addr) -> Result<Vec<Rule>, NftError> {
        Ok(vec![
            self.add(&format!("ip saddr {ip} drop"))?,
            self.add(&format!("ip daddr {ip} drop"))?,
        ])
    }

    /// Drops every packet from `from` to `to` (one way).
    pub fn cut_one_way(&self, from: Ipv4Addr, to: Ipv4Addr) -> Result<Rule, NftError> {
        self.add(&format!("ip saddr {from} ip daddr {to} drop"))
    }

    /// Drops every packet between `a` and `b`, both ways.
    pub fn cut(&self, a: Ipv4Addr, b: Ipv4Addr) -> Result<Vec<Rule>, NftError> {
        Ok(vec![self.cut_one_way(a, b)?, self.cut_one_way(b, a)?])
    }

    /// Drops a share `rate` of the packets between `a` and `b`, both ways, at random.
    pub fn lossy(&self, a: Ipv4Addr, b: Ipv4Addr, rate: f64) -> Result<Vec<Rule>, NftError> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(NftError::Rate(rate));
        }
        let per_mille = (rate * 1000.0).round() as u32;
        let mut rules = Vec::new();
        for (from, to) in [(a, b), (b, a)] {
            rules.push(self.add(&format!(
                "ip saddr {from} ip daddr {to} numgen random mod 1000 < {per_mille} drop"
            ))?);
        }
        Ok(rules)
    }

    /// Removes a rule; removing one already gone is not an error worth failing a heal for,
    /// so it is logged.
    pub fn remove(&self, rule: Rule) -> Result<(), NftError> {
        run(
            &[
                "delete",
                "rule",
                "inet",
                &self.name,
                "input",
                "handle",
                &rule.handle.to_string(),
            ],
            None,
        )
        .map(|_| ())
    }

    fn add(&self, rule: &str) -> Result<Rule, NftError> {
        let args = format!("add rule inet {} input {rule}", self.name);
        let out = run(
            &["--echo", "--handle", "-f", "-"],
            Some(&format!("{args}\n")),
        )?;
        // nft echoes the rule with `# handle N`, then a `# new generation` line.
        let handle = out
            .lines()
            .find_map(|l| {
                l.split_once(" # handle ")
                    .map(|(_, h)| h.trim().to_string())
            })
            .and_then(|h| h.parse::<u64>().ok())
            .ok_or(NftError::NoHandle(args))?;
        Ok(Rule { handle })
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        if let Err(e) = run(&["delete", "table", "inet", &self.name], None) {
            tracing::error!(table = %self.name, error = %e, "cannot delete the nftables table");
        }
    }
}

/// Whether this process may manage nftables tables (it is root).
pub fn is_root() -> bool {
    // geteuid would need `unsafe`; /proc says the same.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

fn run(args: &[&str], stdin: Option<&str>) -> Result<String, NftError> {
    let command = format!("nft {}", args.join(" "));
    let mut child = Command::new("nft")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(NftError::Spawn)?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).map_err(NftError::Spawn)?;
    }
    let out = child.wait_with_output().map_err(NftError::Spawn)?;
    if !out.status.success() {
        return Err(NftError::Refused {
            command: stdin.map(|s| s.trim().to_string()).unwrap_or(command),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    #[test]
    fn a_silenced_address_says_nothing_and_the_table_goes_with_its_value() {
        if !is_root() {
            println!("skipped: managing nftables needs root (CI runs as root)");
            return;
        }
        let _one_at_a_time = crate::address::TEST_LEASES
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let addr = crate::Address::lease().unwrap();
        let listener = TcpListener::bind((addr.ip(), 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let table = Table::create("failover_local_test").unwrap();
        let name = table.name().to_string();
        let rules = table.silence(addr.ip()).unwrap();
        let t = Duration::from_millis(300);
        let err = TcpStream::connect_timeout(&(addr.ip(), port).into(), t).unwrap_err();
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::TimedOut,
            "silent, not refused"
        );
        for r in rules {
            table.remove(r).unwrap();
        }
        TcpStream::connect_timeout(&(addr.ip(), port).into(), t).expect("healed");
        drop(table);
        let listed = run(&["list", "tables"], None).unwrap();
        assert!(!listed.contains(&name), "table {name} left behind");
    }
}
