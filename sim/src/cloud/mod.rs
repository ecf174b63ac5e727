//! The simulated EC2 control plane: launches that take seconds to answer and tens of
//! seconds (sometimes minutes) to boot, capacity errors, idempotent client tokens,
//! terminations, all deterministic from the lab seed.
//!
//! Two sides share one [`CloudState`] (`Rc<RefCell<_>>`, the lab is single-threaded):
//! - inside the simulation, the controller calls [`SimCloud`] (the `failover::effects::Cloud`
//!   trait), whose calls wait their latency in simulated time and update the state;
//! - outside, between `sim.step()`s, the run loop calls `lab::cloud_driver::after_step`,
//!   which arms the nemesis's cloud faults and turns the state's due [`CloudEvent`]s into
//!   turmoil hosts booted or crashed (turmoil can only add hosts from outside).
//!
//! The cloud knows nothing of the lab: the lab's side of it (the hosts and images of
//! launched machines, the per-step glue) lives in `lab::boot` and `lab::cloud_driver`.
//!
//! Layout:
//! - [`timing`]: the delay distributions (API latency, pending → running, boot tail).
//! - [`state`]: instances, tokens, armed faults, and the events due by a given time.
//! - [`api`]: [`SimCloud`], the `Cloud` implementation.

pub mod api;
pub mod state;
pub mod timing;

pub use api::SimCloud;
pub use state::{CloudEvent, CloudFaults, CloudState, Instance};
