//! The simulated EC2: call latencies, boot times, client tokens, cloud faults,
//! termination, booted machines that answer, and determinism.
//!
//! Simulation tests run a "controller" client host that calls `SimCloud`, while the test's
//! own loop steps turmoil and plays the driver (`lab::cloud_driver::after_step`), as the run
//! loop does. Pure tests drive `CloudState` and the timing draws directly.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use failover::config::Policy;
use failover::effects::{Cloud, CloudError, InstanceState};
use failover::layout::{MachineInfo, MachineRole, Topology};
use failover::resp::{render, RespConnection};
use judge::history::History;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sim::cloud::{timing, CloudEvent, CloudFaults, CloudState, SimCloud};
use sim::lab::{boot, cloud_driver as driver};
use sim::lab::{Lab, MachineHandle};
use sim::machine::MachineControl;

const SEED: u64 = 7;

fn lab<'a>() -> Lab<'a> {
    let sim = turmoil::Builder::new()
        .epoch(UNIX_EPOCH)
        .rng_seed(1)
        .tick_duration(Duration::from_millis(1))
        .simulation_duration(Duration::from_secs(3600))
        .build();
    Lab {
        sim,
        topology: Topology::seed(),
        policy: Policy::Safe,
        machines: BTreeMap::new(),
        dead: Default::default(),
        network: sim::lab::network::Network::new(Duration::from_millis(1), 1),
        cloud: SimCloud::new(SEED),
        history: History::default(),
    }
}

fn now() -> Duration {
    turmoil::sim_elapsed().expect("inside the simulation")
}

/// Steps until the client hosts are done (or `limit`), playing the driver after each
/// step. Returns the cloud faults reported as taken effect.
fn drive(
    lab: &mut Lab,
    cloud: &SimCloud,
    faults: &mut CloudFaults,
    limit: Duration,
) -> Vec<(usize, Duration)> {
    let mut took_effect = Vec::new();
    while lab.sim.elapsed() < limit {
        let done = lab.sim.step().expect("the simulation runs");
        took_effect.extend(driver::after_step(lab, cloud, faults, SEED));
        if done {
            break;
        }
    }
    took_effect
}

type Shared<T> = Rc<RefCell<T>>;

#[test]
fn launch_answers_in_1_to_2_s_and_boots_after_running() {
    let mut lab = lab();
    let cloud = SimCloud::new(SEED);
    let out: Shared<Vec<(Duration, Duration, MachineInfo, Duration)>> = Shared::default();
    let (c, o) = (cloud.clone(), out.clone());
    lab.sim.client("controller", async move {
        for n in 0..3 {
            let t0 = now();
            let info = c.launch(MachineRole::Redis, &format!("t{n}")).await?;
            let t1 = now();
            let id = info.instance_id.clone().unwrap_or_default();
            assert_eq!(c.describe(&id).await?, InstanceState::Pending);
            while c.describe(&id).await? == InstanceState::Pending {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            o.borrow_mut().push((t0, t1, info, now()));
        }
        Ok(())
    });
    drive(
        &mut lab,
        &cloud,
        &mut CloudFaults::default(),
        Duration::from_secs(600),
    );
    let out = out.borrow();
    assert_eq!(out.len(), 3);
    for (n, (t0, t1, info, running_seen)) in out.iter().enumerate() {
        let latency = *t1 - *t0;
        assert!(
            latency >= Duration::from_secs(1) && latency <= Duration::from_millis(2_002),
            "launch took {latency:?}"
        );
        assert_eq!(info.name, format!("redis{}", n + 1));
        assert_eq!(info.role, MachineRole::Redis);
        let state = cloud.state().borrow();
        let i = state
            .instance(info.instance_id.as_deref().unwrap_or_default())
            .expect("instance kept");
        let id = &i.id;
        assert!(id.len() == 10 && id.starts_with("i-"), "{id}");
        assert!(id[2..].bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        let running = i.running_at - i.launched_at;
        let boot = i.boot_at - i.launched_at;
        assert!(running >= Duration::from_secs(5) && running <= Duration::from_secs(20));
        assert!(boot >= Duration::from_secs(25) && boot <= Duration::from_secs(600));
        assert!(i.running_at < i.boot_at);
        assert!(*running_seen >= i.running_at);
        // The machine's address is the one turmoil gives its host when it boots.
        assert_eq!(info.addr, lab.sim.lookup(info.name.as_str()).to_string());
    }
}

#[test]
fn same_token_same_instance_and_numbering_continues() {
    let mut state = CloudState::new(SEED);
    for name in ["redis1", "redis2", "haproxy1", "haproxy2", "app", "monit"] {
        state.register(name, sim::cloud::state::role_of_name(name), name);
    }
    let lookup = |n: &str| format!("addr-{n}");
    let t = Duration::from_secs(1);
    let a = state
        .launch(MachineRole::Redis, "plan-1", t, lookup)
        .unwrap();
    let again = state
        .launch(MachineRole::Redis, "plan-1", t * 5, lookup)
        .unwrap();
    assert_eq!(a, again);
    assert_eq!(a.name, "redis3");
    let b = state
        .launch(MachineRole::Redis, "plan-2", t, lookup)
        .unwrap();
    assert_eq!(b.name, "redis4");
    let h = state
        .launch(MachineRole::Haproxy, "plan-3", t, lookup)
        .unwrap();
    assert_eq!(
        (h.name.as_str(), h.addr.as_str()),
        ("haproxy3", "addr-haproxy3")
    );
    // The same token for another role is a mismatch, not a second machine.
    assert!(matches!(
        state.launch(MachineRole::Haproxy, "plan-1", t, lookup),
        Err(CloudError::Other(_))
    ));
    // Seed machines are instances too.
    assert_eq!(state.describe("i-redis1", t), Ok(InstanceState::Running));
    assert_eq!(state.describe("i-app", t), Ok(InstanceState::Running));
}

#[test]
fn same_token_in_the_simulation() {
    let mut lab = lab();
    let cloud = SimCloud::new(SEED);
    let out: Shared<Vec<MachineInfo>> = Shared::default();
    let (c, o) = (cloud.clone(), out.clone());
    lab.sim.client("controller", async move {
        let first = c.launch(MachineRole::Haproxy, "tok").await?;
        let second = c.launch(MachineRole::Haproxy, "tok").await?;
        o.borrow_mut().extend([first, second]);
        Ok(())
    });
    drive(
        &mut lab,
        &cloud,
        &mut CloudFaults::default(),
        Duration::from_secs(10),
    );
    let out = out.borrow();
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], out[1]);
    assert_eq!(cloud.state().borrow().instances().count(), 1);
}

#[test]
fn launch_fails_fault_fails_the_next_launch_only() {
    let mut lab = lab();
    let cloud = SimCloud::new(SEED);
    let out: Shared<Vec<Result<MachineInfo, CloudError>>> = Shared::default();
    let (c, o) = (cloud.clone(), out.clone());
    lab.sim.client("controller", async move {
        for _ in 0..2 {
            let r = c.launch(MachineRole::Redis, "retry-me").await;
            o.borrow_mut().push(r);
        }
        Ok(())
    });
    let mut faults = CloudFaults {
        failing_launches: vec![4],
        slow_boots: Vec::new(),
    };
    let took = drive(&mut lab, &cloud, &mut faults, Duration::from_secs(10));
    let out = out.borrow();
    assert!(
        matches!(&out[0], Err(CloudError::Capacity(_))),
        "{:?}",
        out[0]
    );
    assert!(out[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .starts_with("InsufficientInstanceCapacity"));
    assert_eq!(out[1].as_ref().map(|i| i.name.as_str()), Ok("redis1"));
    assert_eq!(took.len(), 1);
    assert_eq!(took[0].0, 4);
    assert!(took[0].1 >= Duration::from_secs(1) && took[0].1 <= Duration::from_millis(2_002));
    assert_eq!(cloud.state().borrow().armed(), (0, 0));
}

#[test]
fn slow_boot_adds_its_extra() {
    let extra = Duration::from_secs(120);
    let lookup = |n: &str| n.to_string();
    let at = Duration::from_secs(3);
    let mut plain = CloudState::new(SEED);
    let mut slow = CloudState::new(SEED);
    slow.arm(&mut CloudFaults {
        failing_launches: Vec::new(),
        slow_boots: vec![(2, extra)],
    });
    let a = plain.launch(MachineRole::Redis, "x", at, lookup).unwrap();
    let b = slow.launch(MachineRole::Redis, "x", at, lookup).unwrap();
    let id = a.instance_id.unwrap();
    assert_eq!(Some(id.clone()), b.instance_id);
    let (pa, sb) = (
        plain.instance(&id).unwrap().clone(),
        slow.instance(&id).unwrap().clone(),
    );
    assert_eq!(sb.boot_at, pa.boot_at + extra);
    assert_eq!(sb.running_at, pa.running_at);
    // The fault is reported once; the boot comes at the slow time, not before.
    assert_eq!(
        slow.due(at),
        vec![CloudEvent::FaultTookEffect { fault_index: 2, at }]
    );
    assert_eq!(slow.due(pa.boot_at), vec![]);
    let boot_at = sb.boot_at;
    assert!(matches!(&slow.due(boot_at)[..], [CloudEvent::Boot { name, .. }] if name == "redis1"));
    assert_eq!(slow.due(boot_at + extra), vec![]);
}

#[test]
fn terminate_then_describe_and_the_machine_goes_silent() {
    let mut lab = lab();
    boot::add_machine(&mut lab, "redis1", MachineRole::Redis, SEED);
    let cloud = SimCloud::with_machines(SEED, lab.machines.iter().map(|(n, m)| (n.as_str(), m.ip)));
    // The controller is a machine of the lab too, so the kill silences its link.
    let ip = lab.sim.lookup("controller");
    lab.machines.insert(
        "controller".into(),
        MachineHandle {
            control: MachineControl::default(),
            ip,
            processes: Vec::new(),
        },
    );
    let out: Shared<Vec<String>> = Shared::default();
    let (c, o) = (cloud.clone(), out.clone());
    lab.sim.client("controller", async move {
        let log = |s: String| o.borrow_mut().push(s);
        // The seed machine answers before it is terminated.
        let s = turmoil::net::TcpStream::connect(("redis1", 9001)).await?;
        let mut conn = RespConnection::new(s);
        log(render(&conn.command(&["PING"]).await?));
        let t0 = now();
        c.terminate("i-redis1").await?;
        let latency = now() - t0;
        log(format!(
            "latency ok {}",
            latency >= Duration::from_secs(1) && latency <= Duration::from_millis(2_002)
        ));
        log(format!("{:?}", c.describe("i-redis1").await?));
        // Terminating again is fine; an unknown instance is not.
        c.terminate("i-redis1").await?;
        log(format!("{:?}", c.terminate("i-nope").await));
        // A dead machine says nothing: no reset, the request just hangs.
        let silent = tokio::time::timeout(Duration::from_secs(5), conn.command(&["PING"])).await;
        log(format!("silent {}", silent.is_err()));
        tokio::time::sleep(Duration::from_secs(10)).await;
        log(format!("{:?}", c.describe("i-redis1").await?));
        Ok(())
    });
    drive(
        &mut lab,
        &cloud,
        &mut CloudFaults::default(),
        Duration::from_secs(60),
    );
    assert_eq!(
        *out.borrow(),
        vec![
            "PONG",
            "latency ok true",
            "ShuttingDown",
            "Err(NotFound(\"i-nope\"))",
            "silent true",
            "Terminated"
        ]
    );
    assert!(!lab.is_alive("redis1"));
}

#[test]
fn a_booted_redis_machine_answers_ping_on_both_ports() {
    let mut lab = lab();
    let cloud = SimCloud::new(SEED);
    let out: Shared<Vec<String>> = Shared::default();
    let (c, o) = (cloud.clone(), out.clone());
    lab.sim.client("controller", async move {
        let info = c.launch(MachineRole::Redis, "r").await?;
        let launched = now();
        // Poll as a controller would: refused until the machine boots.
        let first = loop {
            match turmoil::net::TcpStream::connect((info.addr.as_str(), 9001)).await {
                Ok(s) => break s,
                Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        };
        // `log` borrows only once its argument is ready: no borrow across an await.
        let log = |s: String| o.borrow_mut().push(s);
        log(format!(
            "reachable 25 s or more after the launch: {}",
            now() - launched >= Duration::from_secs(25)
        ));
        let mut conn = RespConnection::new(first);
        log(render(&conn.command(&["PING"]).await?));
        let s = turmoil::net::TcpStream::connect((info.addr.as_str(), 9002)).await?;
        let mut conn = RespConnection::new(s);
        log(render(&conn.command(&["PING"]).await?));
        // A replacement starts empty and as a master.
        log(render(&conn.command(&["DBSIZE"]).await?));
        let info = render(&conn.command(&["INFO", "replication"]).await?);
        log(format!("master {}", info.contains("role:master")));
        Ok(())
    });
    drive(
        &mut lab,
        &cloud,
        &mut CloudFaults::default(),
        Duration::from_secs(700),
    );
    assert_eq!(
        *out.borrow(),
        vec![
            "reachable 25 s or more after the launch: true",
            "PONG",
            "PONG",
            "(integer) 0",
            "master true"
        ]
    );
    let handle = &lab.machines["redis1"];
    assert_eq!(handle.processes, vec!["redis-9001", "redis-9002"]);
}

#[test]
fn boot_times_have_a_30_to_40_s_median_and_a_tail() {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut boots: Vec<Duration> = (0..200)
        .map(|_| {
            let t = timing::launch(&mut rng);
            assert!(t.running_after >= Duration::from_secs(5));
            assert!(t.running_after <= Duration::from_secs(20));
            assert!(t.boot_after >= timing::BOOT_FLOOR && t.boot_after <= timing::BOOT_CAP);
            t.boot_after
        })
        .collect();
    boots.sort();
    let median = boots[100];
    assert!(
        median >= Duration::from_secs(30) && median <= Duration::from_secs(40),
        "median {median:?}"
    );
    let slow = boots
        .iter()
        .filter(|b| **b > Duration::from_secs(60))
        .count();
    assert!(slow >= 1, "no boot over 60 s");
    for _ in 0..200 {
        let l = timing::api_latency(&mut rng);
        assert!(l >= Duration::from_secs(1) && l <= Duration::from_secs(2));
    }
}

/// Launch three machines and terminate one; what the cloud decided.
fn replay(seed: u64) -> Vec<(String, String, Duration, Duration)> {
    let mut lab = lab();
    let cloud = SimCloud::new(seed);
    let (c, roles) = (
        cloud.clone(),
        [MachineRole::Redis, MachineRole::Haproxy, MachineRole::Redis],
    );
    lab.sim.client("controller", async move {
        let mut ids = Vec::new();
        for (n, role) in roles.into_iter().enumerate() {
            ids.push(
                c.launch(role, &format!("t{n}"))
                    .await?
                    .instance_id
                    .unwrap_or_default(),
            );
        }
        c.terminate(&ids[1]).await?;
        Ok(())
    });
    drive(
        &mut lab,
        &cloud,
        &mut CloudFaults::default(),
        Duration::from_secs(30),
    );
    let state = cloud.state().borrow();
    state
        .instances()
        .map(|i| (i.id.clone(), i.name.clone(), i.running_at, i.boot_at))
        .collect()
}

#[test]
fn same_seed_same_instances_and_times() {
    let a = replay(SEED);
    assert_eq!(a.len(), 3);
    assert_eq!(a, replay(SEED));
    assert_ne!(a, replay(SEED + 1));
}

#[test]
fn the_api_refuses_calls_from_outside_the_simulation() {
    let cloud = SimCloud::new(SEED);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let r = rt.block_on(cloud.launch(MachineRole::Redis, "x"));
    assert!(matches!(r, Err(CloudError::Other(_))));
    assert_eq!(cloud.state().borrow().instances().count(), 0);
}
