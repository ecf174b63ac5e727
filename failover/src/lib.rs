//! The failover library: what monit and the seed's bash script did, as code that runs
//! unchanged in the lab (`sim/`, under turmoil) and in production (`failoverd`).
//!
//! Layout:
//! - [`controller`]: the decisions, as a pure state machine (observations in, actions out;
//!   no I/O, no clock, no randomness): detection, and recovery plans run step by step.
//! - [`plan`]: recovery plans as data (the seed's step lists) and the operations a step
//!   becomes; [`observation`]: what the controller is told; [`config`]: its settings and
//!   the deployment it starts from; [`layout`]: machines, roles, ports, backend names.
//! - [`shell`]: the async loop around the controller: polls, runs steps, saves state.
//! - [`effects`]: the traits the shell acts through (connector, cloud, store);
//!   [`store`]: memory and file stores; [`connector`]: tokio's connector.
//! - [`admin`]: redis and haproxy admin clients, generic over [`effects::Connector`].
//! - [`resp`]: a RESP2 client over any async byte stream; [`runtime_api`]: a client of
//!   HAProxy's runtime API (the stats socket's text protocol).

pub mod admin;
pub mod config;
pub mod connector;
pub mod controller;
pub mod effects;
pub mod event;
pub mod layout;
pub mod observation;
pub mod plan;
pub mod resp;
pub mod runtime_api;
pub mod shell;
pub mod store;
