//! The failover library: what monit and the seed's bash script did, as code that runs
//! unchanged in the lab (`sim/`, under turmoil) and in production (`failoverd`).
//!
//! Layout:
//! - The decisions live in the `failover-core` crate (pure: no I/O, no clock, no
//!   runtime), re-exported here under their own names: [`controller`] (the state machine:
//!   detection, and recovery plans run step by step), [`plan`] (the seed's step lists and
//!   the operations a step becomes), [`observation`] (what the controller is told),
//!   [`config`] (its settings and the deployment it starts from), [`layout`] (machines,
//!   roles, ports, backend names), [`error`] (why polls, steps and starts fail, as types),
//!   [`event`] (typed events, the checkers' input).
//! - [`shell`]: the async loop around the controller: polls, runs steps, saves state.
//! - [`effects`]: the traits the shell acts through (connector, cloud, store);
//!   [`store`]: memory and file stores; [`connector`]: tokio's connector.
//! - [`admin`]: redis and haproxy admin clients, generic over [`effects::Connector`].
//! - [`resp`]: a RESP2 client over any async byte stream; [`runtime_api`]: a client of
//!   HAProxy's runtime API (the stats socket's text protocol).

pub use failover_core::{config, controller, detection, error, event, layout, observation, plan};

pub mod admin;
pub mod connector;
pub mod effects;
pub mod resp;
pub mod runtime_api;
pub mod shell;
pub mod store;
