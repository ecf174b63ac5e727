//! The network model after a partition heals: what the partition held arrives on TCP's
//! retransmission schedule, not at the heal, for two-way and one-way partitions; what is
//! sent after the heal on a new connection is not held back.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use sim::lab::network::{Network, Reason};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use turmoil::net::{TcpListener, TcpStream};

const LATENCY: Duration = Duration::from_millis(1);

/// A server that records when each byte arrives; a client that connects at once and sends
/// one byte at `send_at` (on its first connection) and one on a new connection at
/// `fresh_at`. `fault` runs between steps at the times it names. Returns the arrivals.
fn run(
    send_at: Duration,
    fresh_at: Duration,
    mut fault: impl FnMut(&turmoil::Sim, &mut Network, Duration),
) -> Vec<(u8, Duration)> {
    let mut sim = turmoil::Builder::new()
        .epoch(UNIX_EPOCH)
        .min_message_latency(LATENCY)
        .max_message_latency(LATENCY)
        .tick_duration(Duration::from_millis(1))
        .simulation_duration(Duration::from_secs(120))
        .build();
    let arrivals: Rc<RefCell<Vec<(u8, Duration)>>> = Rc::default();
    let seen = arrivals.clone();
    sim.host("server", move || {
        let seen = seen.clone();
        async move {
            let listener = TcpListener::bind(("0.0.0.0", 1)).await?;
            loop {
                let (mut s, _) = listener.accept().await?;
                let seen = seen.clone();
                tokio::task::spawn_local(async move {
                    let mut b = [0u8; 1];
                    while let Ok(1) = s.read(&mut b).await {
                        let at = turmoil::sim_elapsed().unwrap_or_default();
                        seen.borrow_mut().push((b[0], at));
                    }
                });
            }
        }
    });
    sim.client("client", async move {
        let mut s = TcpStream::connect(("server", 1)).await?;
        tokio::time::sleep(send_at).await;
        s.write_all(b"a").await?;
        tokio::time::sleep(fresh_at - send_at).await;
        let mut fresh = TcpStream::connect(("server", 1)).await?;
        fresh.write_all(b"b").await?;
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(s);
        Ok(())
    });
    let mut network = Network::new(LATENCY, 1);
    loop {
        let now = sim.elapsed();
        fault(&sim, &mut network, now);
        network.step(&sim, now);
        if sim.step().unwrap() {
            break;
        }
    }
    let out = arrivals.borrow().clone();
    out
}

fn at(arrivals: &[(u8, Duration)], byte: u8) -> Duration {
    arrivals
        .iter()
        .find(|(b, _)| *b == byte)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("{} never arrived: {arrivals:?}", byte as char))
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[test]
fn a_two_way_partition_delivers_held_data_at_its_retransmission_after_the_heal() {
    let (cut, heal) = (Duration::from_secs(1), Duration::from_secs(11));
    let arrivals = run(
        Duration::from_secs(2),
        Duration::from_secs(12),
        |sim, net, now| {
            let (c, s) = (sim.lookup("client"), sim.lookup("server"));
            if now == cut {
                net.hold(sim, c, s, Reason::Fault(0));
            } else if now == heal {
                net.heal(sim, 0);
            }
        },
    );
    // Sent at 2 s, held: retransmitted at 2.206, 2.412, 2.836, 3.668, 5.316, 8.708 and
    // 15.364 s, the first after the heal.
    let a = secs(at(&arrivals, b'a'));
    assert!((15.3..15.5).contains(&a), "held byte arrived at {a}");
    // A connection opened after the heal is not held back.
    let b = secs(at(&arrivals, b'b'));
    assert!((12.0..12.1).contains(&b), "fresh byte arrived at {b}");
}

#[test]
fn a_one_way_partition_delivers_held_data_at_its_retransmission_after_the_heal() {
    let (cut, heal) = (Duration::from_secs(1), Duration::from_secs(11));
    let arrivals = run(
        Duration::from_secs(2),
        Duration::from_secs(12),
        |sim, net, now| {
            let (c, s) = (sim.lookup("client"), sim.lookup("server"));
            if now == cut {
                net.block_oneway(sim, c, s, 0);
            } else if now == heal {
                net.heal(sim, 0);
            }
        },
    );
    let a = secs(at(&arrivals, b'a'));
    assert!((15.3..15.5).contains(&a), "held byte arrived at {a}");
    let b = secs(at(&arrivals, b'b'));
    assert!((12.0..12.1).contains(&b), "fresh byte arrived at {b}");
}
