//! The driver side of the simulated EC2: what the run loop calls between `sim.step()`s
//! to make the cloud's decisions real in turmoil (hosts can only be created and crashed
//! from outside the simulation).

use std::time::Duration;

use super::boot::add_machine;
use crate::cloud::{CloudEvent, CloudFaults, SimCloud};
use crate::lab::Lab;

/// Arms the cloud faults the nemesis scheduled, then boots and kills the machines whose
/// time has come. Returns the cloud faults that took effect, `(fault index, when)`, for
/// `Nemesis::cloud_fault_took_effect`. Call after each step (after `Nemesis::before_step`
/// has armed faults, at the latest before the next step).
pub fn after_step(
    lab: &mut Lab,
    cloud: &SimCloud,
    faults: &mut CloudFaults,
    seed: u64,
) -> Vec<(usize, Duration)> {
    let now = lab.sim.elapsed();
    let events = {
        let mut state = cloud.state().borrow_mut();
        state.arm(faults);
        state.due(now)
    };
    apply(lab, events, seed)
}

/// Makes `events` real in `lab`; returns the faults that took effect.
pub fn apply(lab: &mut Lab, events: Vec<CloudEvent>, seed: u64) -> Vec<(usize, Duration)> {
    let mut took_effect = Vec::new();
    for event in events {
        match event {
            CloudEvent::FaultTookEffect { fault_index, at } => took_effect.push((fault_index, at)),
            CloudEvent::Terminate { name, .. } => {
                lab.kill_machine(&name);
            }
            CloudEvent::Boot { name, role, .. } => add_machine(lab, &name, role, seed),
        }
    }
    took_effect
}
