//! The benchmark's baseline: a bare turmoil model of the same six hosts carrying the same
//! client traffic (4 clients, 100 requests/s, app → local relay → proxy → redis), with
//! none of the lab's behaviour: no checks, no replication, no history, no nemesis.

use std::time::{Duration, UNIX_EPOCH};

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

async fn relay(port: u16, to: &'static str, to_port: u16) {
    let Ok(listener) = TcpListener::bind(("0.0.0.0", port)).await else {
        return;
    };
    let mut conns = JoinSet::new();
    while let Ok((mut client, _)) = listener.accept().await {
        conns.spawn_local(async move {
            let Ok(mut server) = TcpStream::connect((to, to_port)).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        });
    }
}

async fn clients(clients: u32, rate: f64) {
    let interval = Duration::from_secs_f64(f64::from(clients) / rate);
    let mut tasks = JoinSet::new();
    for c in 0..clients {
        let port = if c % 2 == 0 { 7001 } else { 7002 };
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

/// Runs the baseline for `duration` of simulated time at the given tick and latency.
pub fn run(duration: Duration, tick: Duration, latency: Duration, seed: u64) {
    let mut sim = turmoil::Builder::new()
        .epoch(UNIX_EPOCH)
        .rng_seed(seed)
        .tick_duration(tick)
        .min_message_latency(latency)
        .max_message_latency(latency)
        .simulation_duration(duration + Duration::from_secs(1))
        .build();
    for name in ["redis1", "redis2"] {
        sim.host(name, || async {
            tokio::join!(echo_ok(9001), echo_ok(9002));
            Ok(())
        });
    }
    sim.host("haproxy1", || async {
        tokio::join!(relay(8001, "redis1", 9001), relay(8002, "redis1", 9002));
        Ok(())
    });
    sim.host("haproxy2", || async {
        tokio::join!(relay(8001, "redis1", 9001), relay(8002, "redis1", 9002));
        Ok(())
    });
    sim.host("app", || async {
        tokio::join!(
            relay(7001, "haproxy1", 8001),
            relay(7002, "haproxy1", 8002),
            clients(4, 100.0)
        );
        Ok(())
    });
    sim.host("monit", || async {
        std::future::pending::<()>().await;
        Ok(())
    });
    while sim.elapsed() < duration {
        sim.step().expect("the baseline never fails");
    }
}
