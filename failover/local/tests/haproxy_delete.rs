//! The controller's removal of a server never crashes real haproxy. haproxy 2.6.12
//! segfaults when a server is deleted while a session waits between refused connects to
//! it and the memory is then reused; `HaproxyAdmin::remove_server` waits the retries out
//! first (`TURNAROUND_WAIT`). Without that wait this test fails almost always (12 crashes
//! in 20 tries of one round). Needs haproxy (skipped with a message otherwise).

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use failover::admin::HaproxyAdmin;
use failover::connector::TokioConnector;
use failover_local::{Address, Binaries};

const FRONT: u16 = 7001;
/// Nothing listens there: every connect is refused.
const DEAD: u16 = 7002;
const API: u16 = 9999;
const ROUNDS: usize = 5;

fn haproxy_installed(bins: &Binaries) -> bool {
    bins.haproxy.is_file()
        || std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("haproxy").is_file()))
}

fn config(ip: Ipv4Addr) -> String {
    format!(
        "global\n  stats socket ipv4@{ip}:{API} level admin\n\
         defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 50s\n  timeout server 50s\n  retries 3\n\
         frontend fe\n  bind {ip}:{FRONT}\n  default_backend be\n\
         backend be\n  server s1 {ip}:{DEAD}\n"
    )
}

/// Kills the haproxy it holds by PID when dropped, whatever the test did.
struct Haproxy(Child);

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_api(ip: Ipv4Addr) {
    for _ in 0..500 {
        if tokio::net::TcpStream::connect((ip, API)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("haproxy's runtime API on {ip}:{API} did not come up");
}

/// One round: sessions in their connect retries, the removal, then the adds that reuse
/// the memory; haproxy must still run once every retry is over.
async fn round(bins: &Binaries, dir: &std::path::Path, ip: Ipv4Addr, n: usize) -> Option<i32> {
    let cfg = dir.join(format!("haproxy-{n}.cfg"));
    std::fs::File::create(&cfg)
        .and_then(|mut f| f.write_all(config(ip).as_bytes()))
        .expect("writing the configuration");
    let child = Command::new(&bins.haproxy)
        .arg("-f")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting haproxy");
    let mut haproxy = Haproxy(child);
    wait_api(ip).await;
    let mut clients = Vec::new();
    for _ in 0..5 {
        let mut c = tokio::net::TcpStream::connect(SocketAddr::from((ip, FRONT)))
            .await
            .expect("connecting to the frontend");
        tokio::io::AsyncWriteExt::write_all(&mut c, b"PING\r\n")
            .await
            .expect("sending");
        clients.push(c);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let admin = HaproxyAdmin::new(TokioConnector, API, Duration::from_secs(2));
    let host = ip.to_string();
    admin
        .remove_server(&host, "be", "s1")
        .await
        .expect("remove_server");
    for i in 0..3 {
        let reply = failover::runtime_api::runtime_command(
            tokio::net::TcpStream::connect((ip, API))
                .await
                .expect("API"),
            &format!("add server be/n{i} {ip}:{DEAD}"),
        )
        .await
        .expect("add server");
        assert!(reply.contains("New server registered."), "{reply}");
    }
    // Longer than any session's remaining retries.
    tokio::time::sleep(Duration::from_secs(3)).await;
    haproxy
        .0
        .try_wait()
        .expect("waiting on haproxy")
        .map(|status| {
            use std::os::unix::process::ExitStatusExt;
            status.signal().unwrap_or(0)
        })
}

#[test]
fn removing_a_server_with_sessions_in_their_retries_does_not_crash_haproxy() {
    let bins = Binaries::default();
    if !haproxy_installed(&bins) {
        eprintln!("SKIPPED: haproxy is not installed (.ci/run installs it)");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let address = Address::lease().expect("a loopback address");
    rt.block_on(async {
        for n in 0..ROUNDS {
            if let Some(signal) = round(&bins, dir.path(), address.ip(), n).await {
                panic!("round {n}: haproxy died after the removal (signal {signal}; 0: it exited)");
            }
        }
    });
}
