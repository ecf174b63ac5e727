//! The failover controller's decision core: what monit and the seed's bash script decided,
//! as a pure state machine. Observations go in, actions come out, the caller passes the
//! time. Nothing here does I/O, reads a clock or draws a random number, and the crate
//! depends on no async runtime, so the compiler keeps it that way; the same code decides
//! in the lab (`sim/`, under turmoil), in the property tests and in production.
//!
//! # Layout
//!
//! - [`controller`]: the state machine: detection (a machine failing `fail_count` cycles in
//!   a row is failed) and recovery plans run step by step, with backoff; serializable, so
//!   a restarted controller resumes.
//! - The safe policy's parts: [`quorum`] (a master is failed only when monit and the
//!   haproxies agree), [`promotion`] (the replica with the most data), [`budget`] (no
//!   flapping, bounded launches).
//! - [`detection`]: monit's cycle, its polls one after another (the seed profile).
//! - [`plan`]: recovery plans as data (the seed's step lists) and the idempotent
//!   operations a step becomes once the plan knows its machines.
//! - [`observation`]: what the controller is told: polls and step results.
//! - [`error`]: why polls, steps, configurations and saved states fail, as types the
//!   controller decides on (a capacity shortage is not a refused connection).
//! - [`config`]: the controller's settings, the deployment it starts from, and the
//!   validation that rejects plans which would break its promises.
//! - [`layout`]: machines, roles, ports and haproxy's backend names.
//! - [`event`]: typed events: the controller's decisions and what a world's machines did,
//!   which the checkers read (never log text).
//!
//! The async shell that feeds it (polls, steps, the store) is the `failover` crate, which
//! re-exports these modules under the same names.

pub mod budget;
pub mod config;
pub mod controller;
pub mod detection;
pub mod error;
pub mod event;
pub mod layout;
pub mod observation;
pub mod plan;
pub mod promotion;
pub mod quorum;
