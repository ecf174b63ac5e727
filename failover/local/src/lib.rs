//! This machine as a small datacenter, for the real-process world and `failoverd`'s
//! `local` provider: every machine is a loopback address of its own (127.0.0.0/8), and
//! network faults are rules in an nftables table of our own.
//!
//! Layout:
//! - [`address`]: leases of fresh loopback addresses, unique across every process on this
//!   machine (a lock file per address), given back on drop.
//! - [`nft`]: an nftables table of our own, with rules that silence an address, cut two
//!   addresses apart (both ways or one way) or drop a share of their packets; the table is
//!   deleted on drop, so a panicking test leaves no rule behind.
//! - [`software`]: what a local machine runs (redis-server per port, or haproxy with a
//!   configuration rendered from the port scheme), with the lab's settings.
//! - [`seed`]: the seed deployment (redis machines, proxies, the app's haproxy) as local
//!   machines, and the wait until it is ready.
//! - [`cloud`]: the `local` cloud provider (`failover::effects::Cloud`): machines as
//!   loopback addresses, launched by token, recorded on disk, ended by PID.
//!
//! Nothing here sends a packet off loopback: addresses are only ever 127.x.y.z.

pub mod address;
pub mod cloud;
pub mod nft;
pub mod seed;
pub mod software;

pub use address::{Address, AddressError};
pub use cloud::{LocalCloud, MachineRecord};
pub use nft::{NftError, Rule, Table};
pub use software::{Binaries, CustomProcess, Ports, Software};
