//! When the seed deployment's periodic work runs, relative to scenario time zero, the
//! same in both worlds.
//!
//! Scenario faults are written at whole seconds. A health check or a controller poll due
//! at a fault's very instant is a coin toss in the real world (the nftables rule lands a
//! few ms before or after the poll goes out) while the lab always orders the fault first;
//! one such toss is a whole check interval of difference between the worlds. So both
//! worlds start the proxies' checks and the controller a fraction of a second into the
//! run, falling between the whole and half seconds rather than on them.

use std::time::Duration;

/// When the seed deployment's haproxies (the redis proxies and the app's) run their first
/// checks. They serve from the start (the real ones started earlier, while the deployment
/// came up); haproxy spreads its N checked servers' first checks over the interval,
/// `inter × n / N` apart, so with the seed lab's four per proxy at 1 s they fall at .125,
/// .375, .625 and .875 s. A restarted haproxy checks from its restart.
pub const CHECKS_START: Duration = Duration::from_millis(125);

/// When monit's controller starts its first cycle; every later cycle follows at its
/// interval, so at a 1 s cycle the polls fall on the half seconds, 125 ms from the
/// proxies' nearest checks. A restarted controller starts when it is restarted.
pub const CONTROLLER_START: Duration = Duration::from_millis(500);
