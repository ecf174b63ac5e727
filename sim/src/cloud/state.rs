//! The simulated EC2's bookkeeping: every instance, the launch tokens seen, the cloud
//! faults armed for the next launches, and what the driver must do to the turmoil world
//! (boot a host, kill a host, report a fault that took effect).
//!
//! Everything here is plain data keyed by simulated time: no turmoil, no tokio. The API
//! side ([`super::api::SimCloud`]) adds the call latencies around these methods; the
//! driver side ([`super::driver`]) turns [`CloudEvent`]s into hosts. Keeping the state pure
//! lets the timing and fault rules be tested without a simulation.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use failover::effects::{CloudError, InstanceState};
use failover::layout::{MachineInfo, MachineRole};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::timing;
use crate::machine::derive_seed;
use crate::trace::{record, Event};

/// Cloud faults armed for the next launches (the nemesis arms them; a launch consumes them).
#[derive(Debug, Default, Clone)]
pub struct CloudFaults {
    /// (fault index) per failing launch still to come.
    pub failing_launches: Vec<usize>,
    /// (fault index, extra boot time) per slow boot still to come.
    pub slow_boots: Vec<(usize, Duration)>,
}

/// Where an instance's turmoil host stands. The host exists only between `Up` and
/// `Killed`; the cloud's view (pending, running, ...) is computed from times instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostLife {
    /// Launched, not reachable yet (or terminated before it ever was): no host.
    NotYet,
    /// The host runs (a seed machine, or a launched one past its boot time).
    Up,
    /// The host was crashed because the instance was terminated.
    Killed,
}

/// One instance, as the simulated EC2 keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    /// The machine's (and its turmoil host's) name, e.g. `redis3`.
    pub name: String,
    /// `None` for seed machines that are neither redis nor haproxy (app, monit).
    pub role: Option<MachineRole>,
    /// The address handed to the controller (the host's IP).
    pub addr: String,
    /// The ClientToken of the launch, if it was launched through the API.
    pub token: Option<String>,
    pub launched_at: Duration,
    /// When describe starts to say `running`.
    pub running_at: Duration,
    /// When the machine's host boots and its services listen.
    pub boot_at: Duration,
    /// When the terminate call landed and when `terminated` follows `shutting-down`.
    pub terminated: Option<(Duration, Duration)>,
    pub host: HostLife,
}

impl Instance {
    /// What describe reports at `now`.
    pub fn state_at(&self, now: Duration) -> InstanceState {
        match self.terminated {
            Some((_, done)) if now >= done => InstanceState::Terminated,
            Some(_) => InstanceState::ShuttingDown,
            None if now >= self.running_at => InstanceState::Running,
            None => InstanceState::Pending,
        }
    }

    pub fn info(&self) -> Option<MachineInfo> {
        Some(MachineInfo {
            name: self.name.clone(),
            addr: self.addr.clone(),
            role: self.role?,
            instance_id: Some(self.id.clone()),
        })
    }
}

/// What the driver must do to the simulated world, from [`CloudState::due`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudEvent {
    /// Create the host `name` running `role`'s image (see `lab::boot::add_machine`).
    Boot {
        name: String,
        role: MachineRole,
        instance_id: String,
    },
    /// Silence and crash the host `name` (the lab's `kill_machine`).
    Terminate { name: String, instance_id: String },
    /// A launch consumed cloud fault `fault_index` at `at` (tell the nemesis).
    FaultTookEffect { fault_index: usize, at: Duration },
}

/// The simulated EC2 control plane's state.
pub struct CloudState {
    rng: ChaCha8Rng,
    /// By instance id.
    instances: BTreeMap<String, Instance>,
    /// ClientToken → instance id.
    tokens: BTreeMap<String, String>,
    /// The number the next machine of each role gets (`redis3` after the seed's two).
    next_number: BTreeMap<MachineRole, u32>,
    /// Fault indexes, one per launch still to fail, oldest first.
    failing_launches: VecDeque<usize>,
    /// (fault index, extra boot time), one per launch still to boot slowly.
    slow_boots: VecDeque<(usize, Duration)>,
    /// Consumed faults not yet handed to the driver.
    took_effect: Vec<(usize, Duration)>,
    /// Something may be due: a launch or a termination happened since `due` last looked.
    /// `due` runs every step, so it must cost nothing when nothing is pending.
    work: bool,
}

/// The name prefix of a role's machines.
pub fn role_prefix(role: MachineRole) -> &'static str {
    match role {
        MachineRole::Redis => "redis",
        MachineRole::Haproxy => "haproxy",
    }
}

/// The role a seed machine's name implies (`redis2` → redis), if any.
pub fn role_of_name(name: &str) -> Option<MachineRole> {
    [MachineRole::Redis, MachineRole::Haproxy]
        .into_iter()
        .find(|r| number_of(name, *r).is_some())
}

/// `redis12` → 12 for the redis role.
fn number_of(name: &str, role: MachineRole) -> Option<u32> {
    let digits = name.strip_prefix(role_prefix(role))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl CloudState {
    /// An empty cloud whose every draw follows from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(derive_seed(seed, &["ec2"])),
            instances: BTreeMap::new(),
            tokens: BTreeMap::new(),
            next_number: BTreeMap::new(),
            failing_launches: VecDeque::new(),
            slow_boots: VecDeque::new(),
            took_effect: Vec::new(),
            work: false,
        }
    }

    /// Registers a machine that already runs (a seed machine) as instance `i-<name>`, so
    /// the controller can describe and terminate it. Returns its id. Registering a name
    /// twice returns the existing id.
    pub fn register(&mut self, name: &str, role: Option<MachineRole>, addr: &str) -> String {
        let id = format!("i-{name}");
        if self.instances.contains_key(&id) {
            return id;
        }
        if let Some(n) = role.and_then(|r| number_of(name, r).map(|n| (r, n))) {
            let next = self.next_number.entry(n.0).or_insert(1);
            *next = (*next).max(n.1.saturating_add(1));
        }
        self.instances.insert(
            id.clone(),
            Instance {
                id: id.clone(),
                name: name.to_string(),
                role,
                addr: addr.to_string(),
                token: None,
                launched_at: Duration::ZERO,
                running_at: Duration::ZERO,
                boot_at: Duration::ZERO,
                terminated: None,
                host: HostLife::Up,
            },
        );
        id
    }

    /// Moves the cloud faults the nemesis armed into the cloud (call before each step).
    pub fn arm(&mut self, faults: &mut CloudFaults) {
        self.failing_launches
            .extend(faults.failing_launches.drain(..));
        self.slow_boots.extend(faults.slow_boots.drain(..));
    }

    /// Arms one failing launch for fault `fault_index`.
    pub fn arm_launch_failure(&mut self, fault_index: usize) {
        self.failing_launches.push_back(fault_index);
    }

    /// Arms one slow boot (`extra` on top of the drawn boot time) for fault `fault_index`.
    pub fn arm_slow_boot(&mut self, fault_index: usize, extra: Duration) {
        self.slow_boots.push_back((fault_index, extra));
    }

    /// Draws how long the next launch or terminate call takes to answer.
    pub fn api_latency(&mut self) -> Duration {
        timing::api_latency(&mut self.rng)
    }

    /// The launch call landing at `now` (after its latency). `lookup` gives the address
    /// of a new machine's name (turmoil's DNS inside the simulation).
    pub fn launch(
        &mut self,
        role: MachineRole,
        token: &str,
        now: Duration,
        lookup: impl FnOnce(&str) -> String,
    ) -> Result<MachineInfo, CloudError> {
        if let Some(id) = self.tokens.get(token) {
            // Idempotent: the same token is the same launch, whatever came after it.
            let instance = self
                .instances
                .get(id)
                .ok_or_else(|| CloudError::Other(format!("lost instance {id}")))?;
            if instance.role != Some(role) {
                return Err(CloudError::Other(format!(
                    "IdempotentParameterMismatch: token {token} launched {} as {:?}",
                    instance.id, instance.role
                )));
            }
            ec2(Event::LaunchRepeated {
                instance: id.clone(),
                name: instance.name.clone(),
                token: token.to_string(),
            });
            return instance
                .info()
                .ok_or_else(|| CloudError::Other(format!("{id} has no role")));
        }
        if let Some(fault) = self.failing_launches.pop_front() {
            self.took_effect.push((fault, now));
            let error = CloudError::Capacity(
                "we currently do not have sufficient capacity in the Availability Zone you requested"
                    .into(),
            );
            ec2(Event::LaunchFailed {
                role,
                token: token.to_string(),
                fault: Some(fault),
                error: error.to_string(),
            });
            return Err(error);
        }
        let id = self.new_id();
        let next = self.next_number.entry(role).or_insert(1);
        let name = format!("{}{next}", role_prefix(role));
        *next = next.saturating_add(1);
        let t = timing::launch(&mut self.rng);
        let mut boot_at = now + t.boot_after;
        if let Some((fault, extra)) = self.slow_boots.pop_front() {
            self.took_effect.push((fault, now));
            boot_at += extra;
        }
        let addr = lookup(&name);
        let instance = Instance {
            id: id.clone(),
            name: name.clone(),
            role: Some(role),
            addr,
            token: Some(token.to_string()),
            launched_at: now,
            running_at: now + t.running_after,
            boot_at,
            terminated: None,
            host: HostLife::NotYet,
        };
        self.work = true;
        ec2(Event::InstanceLaunched {
            instance: id.clone(),
            name: name.clone(),
            addr: instance.addr.clone(),
            role,
            token: token.to_string(),
            running_ms: instance.running_at.as_millis() as u64,
            boot_ms: boot_at.as_millis() as u64,
        });
        let info = instance.info();
        self.tokens.insert(token.to_string(), id.clone());
        self.instances.insert(id, instance);
        info.ok_or_else(|| CloudError::Other("launched without a role".into()))
    }

    /// `i-` and 8 hex digits, unique among the instances.
    fn new_id(&mut self) -> String {
        loop {
            let id = format!("i-{:08x}", self.rng.random::<u32>());
            if !self.instances.contains_key(&id) {
                return id;
            }
        }
    }

    /// The terminate call landing at `now`. Terminating an instance that is already
    /// shutting down or gone is not an error (as in EC2).
    pub fn terminate(&mut self, id: &str, now: Duration) -> Result<(), CloudError> {
        let shutdown = timing::shutdown(&mut self.rng);
        let instance = self
            .instances
            .get_mut(id)
            .ok_or_else(|| CloudError::NotFound(id.to_string()))?;
        if instance.terminated.is_none() {
            instance.terminated = Some((now, now + shutdown));
            self.work = true;
            ec2(Event::InstanceTerminating {
                instance: id.to_string(),
                name: instance.name.clone(),
            });
        }
        Ok(())
    }

    /// What describe says of `id` at `now`.
    pub fn describe(&self, id: &str, now: Duration) -> Result<InstanceState, CloudError> {
        self.instances
            .get(id)
            .map(|i| i.state_at(now))
            .ok_or_else(|| CloudError::NotFound(id.to_string()))
    }

    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.instances.get(id)
    }

    /// Every instance, by id.
    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.instances.values()
    }

    /// Cloud faults armed and not yet consumed by a launch.
    pub fn armed(&self) -> (usize, usize) {
        (self.failing_launches.len(), self.slow_boots.len())
    }

    /// What the driver must do by `now`: faults that took effect (in the order launches
    /// consumed them), then hosts to kill (by instance id), then hosts to boot (by boot
    /// time, then id). Each event is returned once.
    pub fn due(&mut self, now: Duration) -> Vec<CloudEvent> {
        if !self.work && self.took_effect.is_empty() {
            return Vec::new();
        }
        let mut events: Vec<CloudEvent> = self
            .took_effect
            .drain(..)
            .map(|(fault_index, at)| CloudEvent::FaultTookEffect { fault_index, at })
            .collect();
        for i in self.instances.values_mut() {
            if i.host == HostLife::Up && i.terminated.is_some() {
                i.host = HostLife::Killed;
                ec2(Event::InstanceTerminated {
                    instance: i.id.clone(),
                    name: i.name.clone(),
                });
                events.push(CloudEvent::Terminate {
                    name: i.name.clone(),
                    instance_id: i.id.clone(),
                });
            }
        }
        let mut boots: Vec<&mut Instance> = self
            .instances
            .values_mut()
            .filter(|i| i.host == HostLife::NotYet && i.terminated.is_none() && i.boot_at <= now)
            .collect();
        boots.sort_by(|a, b| (a.boot_at, &a.id).cmp(&(b.boot_at, &b.id)));
        for i in boots {
            // Only launched instances are ever `NotYet`, and they all have a role.
            let Some(role) = i.role else { continue };
            i.host = HostLife::Up;
            ec2(Event::MachineBooted {
                instance: i.id.clone(),
                name: i.name.clone(),
                role,
                after_ms: (i.boot_at - i.launched_at).as_millis() as u64,
            });
            events.push(CloudEvent::Boot {
                name: i.name.clone(),
                role,
                instance_id: i.id.clone(),
            });
        }
        // Still work to do while an instance waits for its boot.
        self.work = self
            .instances
            .values()
            .any(|i| i.host == HostLife::NotYet && i.terminated.is_none());
        events
    }
}

/// The simulated EC2's events carry "ec2" as their source.
fn ec2(event: Event) {
    record("ec2", event);
}
