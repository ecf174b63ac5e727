//! Runs a probe against the models: one turmoil host per lab machine, the probe as a client.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use turmoil::net::TcpStream;

use super::{Endpoint, Lab, Probe, Setup, Transcript};
use crate::haproxy::run_haproxy;
use crate::machine::{factory, start_machine, MachineControl, MachineSpec, ProcessCommand};
use crate::redis::{run_redis, RedisConfig};

pub struct SimLab {
    controls: BTreeMap<&'static str, MachineControl>,
    processes: BTreeMap<Endpoint, String>,
    machines: Vec<&'static str>,
}

impl Lab for SimLab {
    type Stream = TcpStream;

    async fn connect(&self, (machine, port): Endpoint) -> std::io::Result<TcpStream> {
        TcpStream::connect((machine, port)).await
    }

    async fn kill(&self, endpoint: Endpoint) {
        let (Some(control), Some(process)) =
            (self.controls.get(endpoint.0), self.process_of(endpoint))
        else {
            panic!("probe kills {endpoint:?}, which its setup did not start");
        };
        control.send(ProcessCommand::Kill(process.clone()));
        // The kill takes effect on the machine's next turn; wait for its report.
        loop {
            if control
                .drain_events()
                .iter()
                .any(|e| e.command == ProcessCommand::Kill(process.clone()))
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
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
    let lab = SimLab {
        machines: controls.keys().copied().collect(),
        controls,
        processes,
    };
    let out: Rc<RefCell<Option<Transcript>>> = Rc::default();
    let sink = out.clone();
    let run = probe.run.sim;
    sim.client("probe", async move {
        // Give every process its first tick, as the real runner waits for readiness.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let transcript = run(&lab).await;
        *sink.borrow_mut() = Some(transcript);
        Ok(())
    });
    if let Err(e) = sim.run() {
        panic!("probe {} failed in the simulation: {e}", probe.name);
    }
    let transcript = out.borrow_mut().take();
    transcript.expect("the probe client ran to completion")
}
