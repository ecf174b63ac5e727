//! The local cloud: a launch with a token already seen returns the same machine, also from
//! another `LocalCloud` on the same directory (a restarted failoverd), a boot that was
//! under way when its process died is finished by the next one, and terminating ends the
//! machine's processes by PID. Needs redis-server (skipped with a message otherwise).

use std::time::Duration;

use failover::effects::{Cloud, InstanceState};
use failover::layout::{MachineRole, Topology};
use failover_local::{Binaries, LocalCloud, Ports};

fn redis_installed() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("redis-server").is_file()))
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").and_then(|(_, r)| r.chars().next()))
        .is_some_and(|c| c != 'Z' && c != 'X')
}

async fn wait_running(cloud: &LocalCloud, id: &str) {
    for _ in 0..100 {
        if cloud.describe(id).await.unwrap() == InstanceState::Running {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} did not boot");
}

#[test]
fn a_token_names_one_machine_across_restarts_and_terminate_ends_it() {
    if !redis_installed() {
        eprintln!("SKIPPED: redis-server is not installed (.ci/run installs it)");
        return;
    }
    // The first "process" is a runtime of its own, shut down before the boot ends, as a
    // failoverd killed mid-boot.
    let dir = tempfile::tempdir().unwrap();
    let t = Topology::seed();
    let rt = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let first_rt = rt();
    let m = first_rt.block_on(async {
        let first = LocalCloud::open(
            dir.path(),
            Duration::from_millis(300),
            Ports::of(&t),
            Binaries::default(),
        )
        .unwrap();
        let m = first
            .launch(MachineRole::Redis, "00ab-plan-1")
            .await
            .unwrap();
        assert_eq!(
            first
                .describe(m.instance_id.as_deref().unwrap())
                .await
                .unwrap(),
            InstanceState::Pending
        );
        m
    });
    drop(first_rt);
    rt().block_on(restarted(dir.path(), &t, m));
}

async fn restarted(dir: &std::path::Path, t: &Topology, m: failover::layout::MachineInfo) {
    let second = LocalCloud::open(
        dir,
        Duration::from_millis(300),
        Ports::of(t),
        Binaries::default(),
    )
    .unwrap();
    let again = second
        .launch(MachineRole::Redis, "00ab-plan-1")
        .await
        .unwrap();
    assert_eq!(again, m, "the same token must give the same machine");
    let id = m.instance_id.clone().unwrap();
    wait_running(&second, &id).await;
    let record = second.machine(&m.name).unwrap();
    assert_eq!(record.pids.len(), 2, "a redis-server per port: {record:?}");
    assert!(m.addr.starts_with("127.") && m.addr != "127.0.0.1");
    let other = second
        .launch(MachineRole::Redis, "00ab-plan-2")
        .await
        .unwrap();
    assert_ne!(other.addr, m.addr);
    second.terminate(&id).await.unwrap();
    second.terminate(&id).await.unwrap();
    assert_eq!(
        second.describe(&id).await.unwrap(),
        InstanceState::Terminated
    );
    for _ in 0..50 {
        if record.pids.iter().all(|(_, p)| !alive(*p)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(record.pids.iter().all(|(_, p)| !alive(*p)), "{record:?}");
    second.end_all().await;
    let rec2 = second.machine(&other.name).unwrap();
    assert!(rec2.terminated && rec2.pids.iter().all(|(_, p)| !alive(*p)));
}
