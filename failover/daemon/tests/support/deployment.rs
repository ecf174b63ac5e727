//! The seed deployment on loopback (redis1, redis2 with a redis-server per port, haproxy1,
//! haproxy2, the app's haproxy), and failoverd watching it with the local provider.

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use failover::layout::Topology;
use failover_local::{seed, Binaries, LocalCloud, Ports, Table};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The boot delay of a replacement machine. The lab's EC2 takes 25 s plus a tail; the
/// tests use less to stay short, and the report subtracts it when comparing.
pub const BOOT_DELAY: Duration = Duration::from_secs(5);

pub struct World {
    pub dir: tempfile::TempDir,
    pub topology: Topology,
    pub cloud: LocalCloud,
    pub table: Option<Table>,
    pub failoverd: Option<Child>,
    pub http: u16,
    pub config: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

pub fn ip_of(cloud: &LocalCloud, name: &str) -> Ipv4Addr {
    cloud
        .machine(name)
        .unwrap_or_else(|| panic!("no machine {name}"))
        .ip
}

pub async fn wait_until<F, Fut>(what: &str, limit: Duration, mut ok: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !ok().await {
        assert!(
            start.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl World {
    /// Starts the seed deployment and waits until redis2 replicates every port and both
    /// proxies route to redis1.
    pub async fn start() -> World {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let topology = Topology::seed();
        let cloud = LocalCloud::open(
            &dir.path().join("cloud"),
            BOOT_DELAY,
            Ports::of(&topology),
            Binaries::default(),
        )
        .expect("the local cloud");
        let world = World {
            config: dir.path().join("failoverd.toml"),
            dir,
            topology,
            cloud,
            table: None,
            failoverd: None,
            http: free_port(),
        };
        seed::launch(&world.cloud, &world.topology).expect("the seed machines");
        seed::wait_ready(&world.cloud, &world.topology, Duration::from_secs(30))
            .await
            .expect("the seed deployment");
        world
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn audit_log(&self) -> PathBuf {
        self.path("audit.jsonl")
    }

    /// failoverd's configuration for this deployment, with the lab's detection settings.
    pub fn write_config(&self) {
        let text = failoverd::demo::local_config(
            self.dir.path(),
            &self.path("cloud"),
            &self.cloud,
            &self.topology,
            &format!("127.0.0.1:{}", self.http),
            BOOT_DELAY,
        );
        std::fs::write(&self.config, text).expect("writing the configuration");
    }

    /// Starts failoverd and waits for its /health.
    pub async fn start_failoverd(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path("failoverd.log"))
            .expect("failoverd's log");
        let child = Command::new(env!("CARGO_BIN_EXE_failoverd"))
            .arg("run")
            .arg(&self.config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("starting failoverd");
        self.failoverd = Some(child);
        let port = self.http;
        wait_until(
            "failoverd's /health",
            Duration::from_secs(20),
            || async move {
                get(port, "/health")
                    .await
                    .is_some_and(|(code, _)| code == 200)
            },
        )
        .await;
    }

    /// SIGKILL to failoverd, by PID, and reaps it.
    pub fn kill_failoverd(&mut self) {
        if let Some(mut c) = self.failoverd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM to failoverd, by PID; its exit status.
    pub fn stop_failoverd(&mut self) -> Option<std::process::ExitStatus> {
        let mut c = self.failoverd.take()?;
        let _ = kill(Pid::from_raw(c.id() as i32), Signal::SIGTERM);
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = c.try_wait() {
                return Some(status);
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = c.kill();
                let _ = c.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn table(&mut self) -> &Table {
        if self.table.is_none() {
            self.table =
                Some(Table::create("failoverd_test").expect("an nftables table (needs root)"));
        }
        self.table.as_ref().expect("just made")
    }

    pub fn failoverd_log(&self) -> String {
        std::fs::read_to_string(self.path("failoverd.log")).unwrap_or_default()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.kill_failoverd();
        for r in self.cloud.records() {
            let _ = self.cloud.end(&r.name);
        }
        // The table (if any) is deleted when dropped, after the processes are gone.
        self.table.take();
        if std::thread::panicking() || std::env::var_os("FAILOVERD_KEEP").is_some() {
            let keep = self
                .dir
                .path()
                .join("..")
                .join(format!("failoverd-test-{}", std::process::id()));
            let _ = copy_dir(self.dir.path(), &keep);
            eprintln!("the test's files are kept in {}", keep.display());
        }
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        if e.file_type()?.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}

/// A GET on failoverd's HTTP API: (status code, body).
pub async fn get(port: u16, path: &str) -> Option<(u16, String)> {
    request(port, "GET", path).await
}

pub async fn request(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let req =
            format!("{method} {path} HTTP/1.0\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
        s.write_all(req.as_bytes()).await.ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.ok()?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let code = text.split_whitespace().nth(1)?.parse().ok()?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Some((code, body))
    };
    tokio::time::timeout(Duration::from_secs(2), fut)
        .await
        .ok()
        .flatten()
}

/// Writes a file atomically enough for a test (used to append notes).
pub fn append(path: &Path, line: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open");
    let _ = writeln!(f, "{line}");
}
