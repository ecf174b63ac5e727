//! The real world: the seed lab built from real processes on this machine, driven by the
//! same scenario files, recording the same history and trace, judged by the same
//! checkers. `failover-sim run SCENARIO --world real`.
//!
//! Each machine is a loopback address of its own (leased through `failover-local`);
//! redis-server runs with Debian's packaged persistence defaults, haproxy with
//! configurations rendered from the models' own data (`HaproxyConfig::render_cfg`), the
//! workload's clients are the lab's (`workload::run_clients`) over tokio's TCP, and the
//! controller is the library's `Shell` on "monit" with the `local` cloud provider, whose
//! launch timings are the simulated EC2's (`cloud::CloudState`, same seed).
//!
//! Layout:
//! - `preflight`: root, nft, redis-server, haproxy; faults the real world cannot make;
//! - `images`: what each machine runs (seed and replacement), as `failover-local` software;
//! - `cloud`: the controller's cloud (the simulated EC2's timings over the local cloud);
//! - `net`: the clock and TCP the clients and the controller use, from a machine's address;
//! - `nemesis`: the scenario's faults as signals, nftables rules and cloud faults;
//! - `world`: building the world, running it, tearing it down (also on Ctrl-C or panic).

mod cloud;
mod images;
mod nemesis;
mod net;
pub mod preflight;
mod world;

pub use preflight::RealError;
pub use world::run;
