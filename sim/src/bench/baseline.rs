//! The benchmark's baseline: a bare turmoil model of the same six hosts carrying the same
//! client traffic (4 clients, 100 requests/s, app → local relay → proxy → redis), with
//! none of the lab's behaviour: no checks, no replication, no history, no nemesis. Its
//! hosts and ports are the topology's, so it is the seed lab's baseline for the seed.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, UNIX_EPOCH};

use failover::layout::Topology;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;
use turmoil::net::{TcpListener, TcpStream};

async fn echo_ok(port: u16) {
    let Ok(listener) = TcpListener::bind(("0.0.0.0", port)).await else {
        return;
    };
    let mut conns = JoinSet::new();
    while let Ok((mut s, _)) = listener.accept().await {
        conns.spawn_local(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 || s.write_all(b"+OK\r\n").await.is_err() {
                    break;
                }
            }
        });
    }
}

async fn relay(port: u16, to: String, to_port: u16) {
    let Ok(listener) = TcpListener::bind(("0.0.0.0", port)).await else {
        return;
    };
    let mut conns = JoinSet::new();
    while let Ok((mut client, _)) = listener.accept().await {
        let to = to.clone();
        conns.spawn_local(async move {
            let Ok(mut server) = TcpStream::connect((to.as_str(), to_port)).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        });
    }
}

async fn clients(clients: u32, rate: f64, ports: Vec<u16>) {
    let interval = Duration::from_secs_f64(f64::from(clients) / rate);
    let mut tasks = JoinSet::new();
    for c in 0..clients {
        let port = ports[c as usize % ports.len()];
        tasks.spawn_local(async move {
            tokio::time::sleep(interval * c / clients).await;
            let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await else {
                return;
            };
            let mut buf = [0u8; 64];
            let mut n = 0u64;
            loop {
                let next = tokio::time::Instant::now() + interval;
                let cmd = format!("*3\r\n$3\r\nSET\r\n$4\r\nk{c:03}\r\n$8\r\n{n:08}\r\n");
                if s.write_all(cmd.as_bytes()).await.is_err() || s.read(&mut buf).await.is_err() {
                    return;
                }
                n += 1;
                tokio::time::sleep_until(next).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

type Task = Pin<Box<dyn Future<Output = ()>>>;

/// Runs `tasks` on the host until they all end.
async fn all_of(tasks: Vec<Task>) -> turmoil::Result {
    let mut set = JoinSet::new();
    for t in tasks {
        set.spawn_local(t);
    }
    while set.join_next().await.is_some() {}
    Ok(())
}

/// Runs the baseline of `topology` for `duration` of simulated time at the given tick and
/// latency.
pub fn run(topology: &Topology, duration: Duration, tick: Duration, latency: Duration, seed: u64) {
    let mut sim = turmoil::Builder::new()
        .epoch(UNIX_EPOCH)
        .rng_seed(seed)
        .tick_duration(tick)
        .min_message_latency(latency)
        .max_message_latency(latency)
        .simulation_duration(duration + Duration::from_secs(1))
        .build();
    let t = topology.clone();
    for name in &topology.redis_machines {
        let t = t.clone();
        sim.host(name.as_str(), move || {
            all_of(
                t.redis_port_list()
                    .into_iter()
                    .map(|p| Box::pin(echo_ok(p)) as Task)
                    .collect(),
            )
        });
    }
    // Every proxy relays to the first redis machine, the seed's master.
    for name in &topology.proxies {
        let t = t.clone();
        sim.host(name.as_str(), move || {
            let master = &t.redis_machines[0];
            all_of(
                t.redis_port_list()
                    .into_iter()
                    .map(|p| Box::pin(relay(t.proxy_port(p), master.clone(), p)) as Task)
                    .collect(),
            )
        });
    }
    sim.host(topology.app.as_str(), move || {
        let primary = &t.proxies[0];
        let mut tasks: Vec<Task> = t
            .redis_port_list()
            .into_iter()
            .map(|p| Box::pin(relay(t.app_port(p), primary.clone(), t.proxy_port(p))) as Task)
            .collect();
        tasks.push(Box::pin(clients(4, 100.0, t.app_ports())));
        all_of(tasks)
    });
    sim.host(topology.monitor.as_str(), || async {
        std::future::pending::<()>().await;
        Ok(())
    });
    while sim.elapsed() < duration {
        sim.step().expect("the baseline never fails");
    }
}
