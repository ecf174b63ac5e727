//! Killing a terminated machine: silence it, then crash its host.
//!
//! The order matters. Crashing a turmoil host drops its sockets, and turmoil would tell
//! the peers (their connections reset at once). A terminated instance just disappears:
//! its peers hear nothing and must time out. So its links are held first, to every other
//! machine, and stay held; the crash's goodbyes wait on those links forever. This is what
//! the nemesis does for a crash fault.

use std::net::IpAddr;

use crate::lab::Lab;

/// Silences and crashes the machine `name`, removes it from `lab.machines` and returns its
/// address; `None` (and nothing done) when the lab has no such machine. Call between steps.
pub fn kill_machine(lab: &mut Lab, name: &str) -> Option<IpAddr> {
    let handle = lab.machines.remove(name)?;
    let ip = handle.ip;
    for other in lab.machines.values().map(|m| m.ip).filter(|o| *o != ip) {
        lab.sim.hold(ip, other);
    }
    lab.sim.crash(name);
    Some(ip)
}

/// Cuts a machine just booted at `ip` off from the dead addresses, so reaching a
/// terminated machine times out from it too rather than being refused.
pub fn silence_dead(lab: &Lab, ip: IpAddr, dead: &[IpAddr]) {
    for d in dead.iter().filter(|d| **d != ip) {
        lab.sim.hold(ip, *d);
    }
}
