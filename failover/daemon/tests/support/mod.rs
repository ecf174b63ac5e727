//! The real-process world for failoverd's tests: a deployment of real redis-server and
//! haproxy processes on loopback addresses of their own (the `local` cloud), failoverd as
//! a child process, a client recording a history through the app's haproxy, and the
//! redundancy check. Everything started here is ended by PID when the world is dropped,
//! and the nftables table with it.

pub mod client;
pub mod deployment;
pub mod redundancy;
