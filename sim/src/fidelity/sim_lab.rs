//! Runs a probe against the models: one turmoil host per lab machine, the probe as a client.
//!
//! Network faults go through the scenario lab's own [`Network`], so a probe tests the same
//! packet-holding model the scenarios run on. The probe (inside the simulation) queues them;
//! the runner (outside, between steps) applies them and steps the network.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use turmoil::net::TcpStream;

use super::{Endpoint, Lab, Probe, ProcessSignal, Setup, Transcript};
use crate::haproxy::run_haproxy;
use crate::lab::network::{Network, Reason};
use crate::machine::{factory, start_machine, MachineControl, MachineSpec, ProcessCommand};
use crate::redis::{run_redis, RedisConfig};

/// The turmoil host the probe runs on.
const PROBE_HOST: &str = "probe";

/// The links' latency: loopback is near zero, a simulated network needs some.
const LATENCY: Duration = Duration::from_millis(1);

/// A network fault a probe asked for, applied by the runner between steps.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum NetFault {
    Silence(&'static str),
    Cut(&'static str, &'static str),
}

#[derive(Default)]
struct NetQueue {
    /// (fault, true to start it / false to heal it), in the order asked.
    pending: VecDeque<(NetFault, bool)>,
}

pub struct SimLab {
    controls: BTreeMap<&'static str, MachineControl>,
    processes: BTreeMap<Endpoint, String>,
    machines: Vec<&'static str>,
    net: Rc<RefCell<NetQueue>>,
}

impl Lab for SimLab {
    type Stream = TcpStream;

    async fn connect(&self, (machine, port): Endpoint) -> std::io::Result<TcpStream> {
        TcpStream::connect((machine, port)).await
    }

    async fn signal(&self, endpoint: Endpoint, signal: ProcessSignal) {
        let process = self.process(endpoint);
        let command = match signal {
            ProcessSignal::Kill => ProcessCommand::Kill(process),
            ProcessSignal::Term => ProcessCommand::Terminate(process),
            ProcessSignal::Stop => ProcessCommand::Pause(process),
            ProcessSignal::Cont => ProcessCommand::Resume(process),
        };
        self.command(endpoint, command).await;
    }

    async fn restart(&self, endpoint: Endpoint) {
        let process = self.process(endpoint);
        self.command(endpoint, ProcessCommand::Start(process)).await;
        // A real restart is not instant either: the runner waits until the port listens.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    async fn silence(&self, machine: &'static str) {
        self.network(NetFault::Silence(machine), true).await
    }

    async fn unsilence(&self, machine: &'static str) {
        self.network(NetFault::Silence(machine), false).await
    }

    async fn cut(&self, a: &'static str, b: &'static str) {
        self.network(NetFault::Cut(a, b), true).await
    }

    async fn heal(&self, a: &'static str, b: &'static str) {
        self.network(NetFault::Cut(a, b), false).await
    }

    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await
    }

    fn elapsed(&self) -> Duration {
        turmoil::sim_elapsed().unwrap_or_default()
    }

    fn address_of(&self, endpoint: Endpoint) -> (String, u16) {
        (turmoil::lookup(endpoint.0).to_string(), endpoint.1)
    }

    fn endpoint_named(&self, host: &str, port: u16) -> Option<Endpoint> {
        let name = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => turmoil::reverse_lookup(ip)?,
            Err(_) => host.to_string(),
        };
        let machine = self.machines.iter().find(|m| **m == name)?;
        Some((machine, port))
    }
}

impl SimLab {
    fn process(&self, endpoint: Endpoint) -> String {
        match self.process_of(endpoint) {
            Some(p) => p.clone(),
            None => panic!("the probe signals {endpoint:?}, which its setup did not start"),
        }
    }

    /// Sends a command to the machine's supervisor and waits for its report: it takes
    /// effect on the machine's next turn.
    async fn command(&self, endpoint: Endpoint, command: ProcessCommand) {
        let control = &self.controls[endpoint.0];
        control.send(command.clone());
        loop {
            if control.drain_events().iter().any(|e| e.command == command) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Queues a network fault for the runner, which applies it before the next step.
    async fn network(&self, fault: NetFault, start: bool) {
        self.net.borrow_mut().pending.push_back((fault, start));
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    fn process_of(&self, endpoint: Endpoint) -> Option<&String> {
        self.processes.get(&endpoint).or_else(|| {
            // Any port of an haproxy machine names its haproxy process.
            self.processes
                .iter()
                .find(|((m, _), p)| *m == endpoint.0 && p.as_str() == "haproxy")
                .map(|(_, p)| p)
        })
    }
}

/// Builds the probe's machines in turmoil, runs the probe, returns its transcript.
pub fn run(probe: &Probe, seed: u64) -> Transcript {
    let setup: Setup = (probe.setup)();
    let mut sim = turmoil::Builder::new()
        .epoch(UNIX_EPOCH)
        .rng_seed(seed)
        .tick_duration(Duration::from_millis(1))
        .min_message_latency(LATENCY)
        .max_message_latency(LATENCY)
        .simulation_duration(Duration::from_secs(600))
        .build();
    let mut specs: BTreeMap<&'static str, MachineSpec> = BTreeMap::new();
    let mut processes = BTreeMap::new();
    let spec = |specs: &mut BTreeMap<&'static str, MachineSpec>, m: &'static str| {
        specs.entry(m).or_insert_with(|| MachineSpec {
            name: m.to_string(),
            seed,
            processes: Vec::new(),
        });
    };
    for &(machine, port) in &setup.redis {
        spec(&mut specs, machine);
        let name = scenario::redis_process(port);
        processes.insert((machine, port), name.clone());
        specs.get_mut(machine).expect("added").processes.push((
            name,
            factory(move |ctx| run_redis(RedisConfig::debian(port), ctx)),
        ));
    }
    for (machine, config) in &setup.haproxy {
        spec(&mut specs, machine);
        processes.insert((*machine, 0), "haproxy".to_string());
        let config = config.clone();
        specs.get_mut(machine).expect("added").processes.push((
            "haproxy".to_string(),
            factory(move |ctx| run_haproxy(config.clone(), ctx)),
        ));
    }
    let mut controls = BTreeMap::new();
    for (machine, spec) in specs {
        controls.insert(machine, start_machine(&mut sim, spec));
    }
    let net: Rc<RefCell<NetQueue>> = Rc::default();
    let lab_machines: Vec<&'static str> = controls.keys().copied().collect();
    let lab = SimLab {
        machines: controls.keys().copied().collect(),
        controls,
        processes,
        net: net.clone(),
    };
    let out: Rc<RefCell<Option<Transcript>>> = Rc::default();
    let sink = out.clone();
    let run = probe.run.sim;
    sim.client(PROBE_HOST, async move {
        // Give every process its first tick, as the real runner waits for readiness.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let transcript = run(&lab).await;
        *sink.borrow_mut() = Some(transcript);
        Ok(())
    });
    let mut faults = Faults {
        network: Network::new(LATENCY, seed),
        hosts: hosts_of(&lab_machines),
        ids: BTreeMap::new(),
    };
    loop {
        let pending: Vec<_> = net.borrow_mut().pending.drain(..).collect();
        for (fault, start) in pending {
            faults.apply(&sim, fault, start);
        }
        faults.network.step(&sim, sim.elapsed());
        match sim.step() {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => panic!("probe {} failed in the simulation: {e}", probe.name),
        }
    }
    let transcript = out.borrow_mut().take();
    transcript.expect("the probe client ran to completion")
}

/// The network faults under way, each with the id the network heals it by.
struct Faults {
    network: Network,
    /// Every host of the probe's world: its machines and the probe itself.
    hosts: Vec<&'static str>,
    ids: BTreeMap<NetFault, usize>,
}

impl Faults {
    fn apply(&mut self, sim: &turmoil::Sim, fault: NetFault, start: bool) {
        if !start {
            if let Some(id) = self.ids.remove(&fault) {
                self.network.heal(sim, id);
            }
            return;
        }
        if self.ids.contains_key(&fault) {
            return;
        }
        let id = self.ids.values().max().map_or(0, |m| m + 1);
        self.ids.insert(fault.clone(), id);
        for (a, b) in links(sim, &self.hosts, &fault) {
            self.network.hold(sim, a, b, Reason::Fault(id));
        }
    }
}

fn hosts_of(machines: &[&'static str]) -> Vec<&'static str> {
    machines.iter().copied().chain([PROBE_HOST]).collect()
}

/// The links a fault holds: a silent machine's link to every other host (the probe
/// included), or the one link between two machines.
fn links(sim: &turmoil::Sim, hosts: &[&'static str], fault: &NetFault) -> Vec<(IpAddr, IpAddr)> {
    match fault {
        NetFault::Cut(a, b) => vec![(sim.lookup(*a), sim.lookup(*b))],
        NetFault::Silence(m) => hosts
            .iter()
            .filter(|other| *other != m)
            .map(|other| (sim.lookup(*m), sim.lookup(*other)))
            .collect(),
    }
}
