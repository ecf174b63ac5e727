//! failoverd's modes against a deployment that is down (addresses where nothing listens),
//! with the `command` provider writing a marker file for each call: a dry run decides and
//! does nothing; maintenance mode holds every failover until resumed; SIGTERM exits 0;
//! the audit log replays through the core. No root needed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use failover_local::Address;

struct Daemon {
    child: Child,
    http: u16,
    dir: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(dir: &Path, addrs: &[Address], http: u16) -> PathBuf {
    let script = dir.join("cloud.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ntouch \"$(dirname \"$0\")/called-$1\"\ncase \"$1\" in\n  launch) echo '{\"addr\": \"127.0.0.1\"}' ;;\n  describe) echo '{\"state\": \"running\"}' ;;\nesac\n",
    )
    .unwrap();
    let mut text = format!(
        "state_file = {:?}\naudit_log = {:?}\nlisten = \"127.0.0.1:{http}\"\n",
        dir.join("state.json"),
        dir.join("audit.jsonl")
    );
    for (i, name) in ["redis1", "redis2", "haproxy1", "haproxy2"]
        .iter()
        .enumerate()
    {
        let table = if i < 2 { "redis" } else { "haproxy" };
        text.push_str(&format!(
            "[[{table}]]\nname = \"{name}\"\naddr = \"{}\"\ninstance_id = \"i-{name}\"\n",
            addrs[i]
        ));
    }
    text.push_str(&format!("[app]\naddr = \"{}\"\n", addrs[4]));
    let s = script.display();
    text.push_str(&format!(
        "[cloud]\nprovider = \"command\"\n[cloud.command]\nlaunch = [\"sh\", \"{s}\", \"launch\", \"{{role}}\", \"{{token}}\"]\nterminate = [\"sh\", \"{s}\", \"terminate\", \"{{instance_id}}\"]\ndescribe = [\"sh\", \"{s}\", \"describe\", \"{{instance_id}}\"]\n"
    ));
    let path = dir.join("failoverd.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn start(dir: &Path, extra: &[&str]) -> Daemon {
    let addrs: Vec<Address> = (0..5).map(|_| Address::lease().unwrap()).collect();
    let http = free_port();
    let cfg = config(dir, &addrs, http);
    let log = std::fs::File::create(dir.join("failoverd.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_failoverd"))
        .arg("run")
        .arg(&cfg)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let d = Daemon {
        child,
        http,
        dir: dir.to_path_buf(),
    };
    wait("/health answers", Duration::from_secs(10), || {
        request(http, "GET", "/health").is_some_and(|(c, _)| c == 200)
    });
    // The addresses stay leased while the daemon runs.
    std::mem::forget(addrs);
    d
}

fn wait(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn request(port: u16, method: &str, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let code = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, text.split_once("\r\n\r\n")?.1.to_string()))
}

fn audit(d: &Daemon) -> String {
    std::fs::read_to_string(d.dir.join("audit.jsonl")).unwrap_or_default()
}

fn sigterm(mut d: Daemon) -> Option<i32> {
    let pid = nix::unistd::Pid::from_raw(d.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = d.child.try_wait().unwrap() {
            return status.code();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "failoverd ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_dry_run_decides_and_does_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path(), &["--dry-run"]);
    wait("a step held", Duration::from_secs(20), || {
        audit(&d).contains("\"kind\":\"held\"")
    });
    let text = audit(&d);
    assert!(text.contains("machine-failed"), "{text}");
    assert!(
        !dir.path().join("called-terminate").exists() && !dir.path().join("called-launch").exists()
    );
    let (_, status) = request(d.http, "GET", "/status").unwrap();
    assert!(status.contains("\"dry_run\":true"), "{status}");
    assert_eq!(sigterm(d), Some(0));
    // A dry run reads the state file but never writes it.
    assert!(!dir.path().join("state.json").exists());
    let r = failoverd::replay::replay(&dir.path().join("audit.jsonl")).expect("replays");
    assert!(r.inputs > 0 && r.actions > 0);
}

#[test]
fn maintenance_mode_holds_failovers_until_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path(), &[]);
    let (code, body) = request(d.http, "POST", "/pause").unwrap();
    assert_eq!((code, body.as_str()), (200, "{\"paused\":true}"));
    if audit(&d).contains("machine-failed") {
        // Three failed cycles passed before the pause landed: the test cannot tell.
        panic!("the deployment was declared failed within the first second; raise fail_count");
    }
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        !audit(&d).contains("machine-failed"),
        "a machine was failed over while paused"
    );
    let (_, metrics) = request(d.http, "GET", "/metrics").unwrap();
    assert!(metrics.contains("failover_paused 1"), "{metrics}");
    let (_, status) = request(d.http, "GET", "/status").unwrap();
    assert!(status.contains("\"paused\":true"), "{status}");
    // /health stays ok while paused.
    assert_eq!(request(d.http, "GET", "/health").unwrap().0, 200);
    request(d.http, "POST", "/resume").unwrap();
    wait("a failover after resume", Duration::from_secs(15), || {
        dir.path().join("called-terminate").exists()
    });
    let (_, metrics) = request(d.http, "GET", "/metrics").unwrap();
    assert!(
        metrics.contains("failover_machines_failed_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("failover_polls_total{role=\"redis\",result=\"failed\"}"),
        "{metrics}"
    );
    assert_eq!(sigterm(d), Some(0));
    assert!(dir.path().join("state.json").exists());
    let r = failoverd::replay::replay(&dir.path().join("audit.jsonl")).expect("replays");
    assert!(r.inputs > 0);
}

#[test]
fn an_edited_audit_log_does_not_replay() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path(), &["--dry-run"]);
    wait("a step held", Duration::from_secs(20), || {
        audit(&d).contains("\"kind\":\"held\"")
    });
    assert_eq!(sigterm(d), Some(0));
    let path = dir.path().join("audit.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    // Make every failed poll look successful: the controller then decides differently
    // (no machine fails), and the replay must say where.
    let mut edited = String::new();
    let mut changed = 0;
    for line in text.lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
        let answers = [
            (
                "RedisPolled",
                serde_json::json!({"Ok": {"Master": {"offset": 0}}}),
            ),
            ("HaproxyPolled", serde_json::json!({"Ok": []})),
        ];
        for (poll, answer) in answers {
            if let Some(result) = v
                .pointer_mut(&format!("/input/observed/{poll}/result"))
                .filter(|r| r.get("Err").is_some())
            {
                *result = answer;
                changed += 1;
            }
        }
        edited.push_str(&v.to_string());
        edited.push('\n');
    }
    assert!(changed > 0, "no failed poll to edit:\n{text}");
    std::fs::write(&path, edited).unwrap();
    let e = failoverd::replay::replay(&path).unwrap_err();
    assert!(
        e.contains("audit.jsonl:") && e.contains("the controller now decides"),
        "{e}"
    );
}
