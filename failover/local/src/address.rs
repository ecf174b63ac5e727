//! Fresh loopback addresses. Linux routes all of 127.0.0.0/8 to `lo`, so any 127.x.y.z can
//! be bound without configuration; what must be arranged is that two processes (two test
//! binaries, two labs, failoverd and a test) never pick the same one. Each lease is a lock
//! file created with O_EXCL; a lock whose owner is dead is taken over.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// Where the locks live. One directory for the whole machine, so every user of this crate
/// sees every lease.
const LOCK_DIR: &str = "/tmp/failover-local-addresses";

/// 127.0.0.0/24 is left alone (127.0.0.1 is everyone's localhost); leases come from
/// 127.1.0.1 upwards, so at most 255 × 256 × 254 of them.
const FIRST_BLOCK: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("cannot create the address lock directory {dir}: {source}")]
    LockDir { dir: String, source: std::io::Error },
    #[error("every loopback address from 127.{FIRST_BLOCK}.0.1 is leased")]
    Exhausted,
}

/// A leased loopback address, given back when dropped.
#[derive(Debug)]
pub struct Address {
    ip: Ipv4Addr,
    lock: PathBuf,
}

impl Address {
    /// Leases the first free address at or after a starting point derived from the pid,
    /// so that processes started together do not all race for 127.1.0.1.
    pub fn lease() -> Result<Address, AddressError> {
        std::fs::create_dir_all(LOCK_DIR).map_err(|source| AddressError::LockDir {
            dir: LOCK_DIR.to_string(),
            source,
        })?;
        let span = (255 - u32::from(FIRST_BLOCK) + 1) * 256 * 254;
        let start = std::process::id() % span;
        for i in 0..span {
            let ip = nth(u32::from(FIRST_BLOCK), (start + i) % span);
            if let Some(address) = try_lease(ip) {
                return Ok(address);
            }
        }
        Err(AddressError::Exhausted)
    }

    /// Leases `ip` itself, if it is free or its owner is dead: how a process that
    /// restarted takes back the addresses of the machines it recorded. `None` when a live
    /// process holds it, or it is not in the leasable range.
    pub fn lease_exact(ip: Ipv4Addr) -> Option<Address> {
        let [a, b, _, d] = ip.octets();
        if a != 127 || b < FIRST_BLOCK || d == 0 || d == 255 {
            return None;
        }
        std::fs::create_dir_all(LOCK_DIR).ok()?;
        try_lease(ip)
    }

    pub fn ip(&self) -> Ipv4Addr {
        self.ip
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.ip.fmt(f)
    }
}

impl Drop for Address {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.lock);
    }
}

/// The n-th address of the leasable range: hosts .1 to .254 of every /24 from `first`.
fn nth(first: u32, n: u32) -> Ipv4Addr {
    let host = n % 254 + 1;
    let c = (n / 254) % 256;
    let b = first + n / (254 * 256);
    Ipv4Addr::new(127, b as u8, c as u8, host as u8)
}

fn try_lease(ip: Ipv4Addr) -> Option<Address> {
    let lock = PathBuf::from(LOCK_DIR).join(ip.to_string());
    for _ in 0..2 {
        match OpenOptions::new().write(true).create_new(true).open(&lock) {
            Ok(mut f) => {
                let _ = writeln!(f, "{}", std::process::id());
                return Some(Address { ip, lock });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if owner_alive(&lock) {
                    return None;
                }
                // The owner died without giving it back: take it over.
                let _ = std::fs::remove_file(&lock);
            }
            Err(_) => return None,
        }
    }
    None
}

fn owner_alive(lock: &PathBuf) -> bool {
    let Ok(text) = std::fs::read_to_string(lock) else {
        // Being written right now by its owner.
        return true;
    };
    match text.trim().parse::<u32>() {
        Ok(pid) => std::path::Path::new(&format!("/proc/{pid}")).exists(),
        Err(_) => true,
    }
}

/// Held by this crate's tests that lease addresses: they run on parallel threads of one
/// process, so one could lease the address another just gave back and is checking.
#[cfg(test)]
pub(crate) static TEST_LEASES: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_distinct_and_given_back() {
        let _one_at_a_time = TEST_LEASES.lock().unwrap_or_else(|e| e.into_inner());
        let a = Address::lease().unwrap();
        let b = Address::lease().unwrap();
        assert_ne!(a.ip(), b.ip());
        assert_eq!(a.ip().octets()[0], 127);
        assert_ne!(a.ip().octets()[1], 0, "127.0.0.0/24 is not leased");
        let ip = a.ip();
        drop(a);
        assert!(!PathBuf::from(LOCK_DIR).join(ip.to_string()).exists());
    }

    #[test]
    fn the_range_never_leaves_loopback_or_hits_network_and_broadcast() {
        for n in [0, 253, 254, 254 * 256 - 1, 254 * 256, 255 * 256 * 254 - 1] {
            let ip = nth(1, n);
            let [a, b, _, d] = ip.octets();
            assert_eq!(a, 127);
            assert!(b >= 1);
            assert!((1..=254).contains(&d), "{ip}");
        }
    }
}
