//! The failover library: what monit and the seed's bash script did, as code that runs
//! unchanged in the lab (`sim/`, under turmoil) and in production (`failoverd`).
//!
//! Layout:
//! - [`resp`]: a RESP2 client over any async byte stream, used to poll and command redis
//!   servers. It is generic over the stream so turmoil's and tokio's `TcpStream` both fit.
//! - [`runtime_api`]: a client of HAProxy's runtime API (the stats socket's text protocol).
//! - [`admin`]: the admin clients the controller acts through (redis commands, haproxy's
//!   runtime API), generic over [`effects::Connector`]; [`connector`] is tokio's.
//!
//! The controller (detection, decision, recovery plans) lands here with the failover issue.

pub mod admin;
pub mod connector;
pub mod effects;
pub mod layout;
pub mod observation;
pub mod resp;
pub mod runtime_api;
