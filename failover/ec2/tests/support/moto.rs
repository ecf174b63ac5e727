//! A moto server of the test's own on a free loopback port, ended by PID when dropped
//! (also when the test panics). moto is only ever reached on 127.0.0.1.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

pub const SKIP_VAR: &str = "FAILOVER_SKIP_MOTO";
/// What the credentials chain finds; the tests check no Debug output carries it.
pub const SECRET: &str = "testing-secret-key-never-printed";

pub struct Moto {
    child: Child,
    log: PathBuf,
    pub endpoint: String,
}

static ENV: Once = Once::new();

/// Dummy credentials for the SDK's standard chain (its environment provider answers
/// first), instance metadata off so that nothing tries 169.254.169.254, and no profile
/// file. Set once, before any test's SDK client reads the environment.
pub fn dummy_environment() {
    ENV.call_once(|| {
        for (key, value) in [
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", SECRET),
            ("AWS_SESSION_TOKEN", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent/failover-ec2-tests/config"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/failover-ec2-tests/credentials",
            ),
        ] {
            std::env::set_var(key, value);
        }
        std::env::remove_var("AWS_PROFILE");
    });
}

impl Moto {
    /// A running moto, or `None` when the tests are to be skipped (`FAILOVER_SKIP_MOTO=1`,
    /// which prints that they were). A missing moto_server fails the test with how to
    /// install it.
    pub fn start(test: &str) -> Option<Moto> {
        dummy_environment();
        if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
            eprintln!("{test}: skipped ({SKIP_VAR}=1): the moto tests did not run");
            return None;
        }
        let port = free_port();
        let log = std::env::temp_dir().join(format!("failover-ec2-moto-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("create moto's log file");
        let spawned = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone log file"))
            .stderr(log_file)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "moto_server is not installed ({e}). Install it with `pip install 'moto[server]'` \
                 (.ci/run does), or set {SKIP_VAR}=1 to skip the moto tests"
            ),
            Err(e) => panic!("cannot start moto_server: {e}"),
        };
        let mut moto = Moto {
            child,
            log,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        moto.wait_ready(port);
        Some(moto)
    }

    fn wait_ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("poll moto_server") {
                panic!("moto_server exited with {status}: {}", self.log_text());
            }
            if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "moto_server did not listen on 127.0.0.1:{port} within 60 s: {}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // The child's own PID (pyenv's shim execs into python, so it is moto itself).
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A port nobody listens on now (the kernel's pick; moto binds it right after).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    listener.local_addr().unwrap().port()
}
