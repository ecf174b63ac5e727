//! `failoverd demo`: the seed deployment as local processes (redis-server and haproxy on
//! loopback addresses of their own), failoverd watching it with the local provider, and a
//! master failure on a key press or a timer. Everything it started is ended when it stops.

use std::path::{Path, PathBuf};
use std::time::Duration;

use failover::layout::Topology;
use failover_local::{seed, Binaries, LocalCloud, Ports};
use nix::sys::signal::Signal;

use crate::config;
use crate::daemon::{self, RunOptions};

/// The configuration of failoverd for a local deployment whose machines are recorded in
/// `cloud` (its directory is `cloud_dir`), with files in `dir`.
pub fn local_config(
    dir: &Path,
    cloud_dir: &Path,
    cloud: &LocalCloud,
    t: &Topology,
    listen: &str,
    boot_delay: Duration,
) -> String {
    let ip = |name: &str| {
        cloud
            .machine(name)
            .map(|r| r.ip.to_string())
            .unwrap_or_default()
    };
    let mut text = format!(
        "state_file = {:?}\naudit_log = {:?}\nlisten = {listen:?}\nshutdown_grace = \"10s\"\n\n",
        dir.join("state.json"),
        dir.join("audit.jsonl"),
    );
    text.push_str(&format!("[topology]\nredis_ports = {}\n\n", t.redis_ports));
    for (table, names) in [("redis", &t.redis_machines), ("haproxy", &t.proxies)] {
        for name in names {
            text.push_str(&format!(
                "[[{table}]]\nname = \"{name}\"\naddr = \"{}\"\ninstance_id = \"local-{name}\"\n\n",
                ip(name)
            ));
        }
    }
    text.push_str(&format!("[app]\naddr = \"{}\"\n\n", ip("app")));
    text.push_str("[detection]\ninterval = \"1s\"\nfail_count = 3\npoll_timeout = \"800ms\"\n\n");
    text.push_str(&format!(
        "[cloud]\nprovider = \"local\"\n\n[cloud.local]\nstate_dir = {cloud_dir:?}\nboot_delay = \"{}ms\"\n",
        boot_delay.as_millis()
    ));
    text
}

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub dir: Option<PathBuf>,
    /// Kill the master's machine this long after the start; `None`: on Enter.
    pub fail_after: Option<Duration>,
    pub listen: String,
    pub boot_delay: Duration,
}

/// Runs the demo until SIGINT or SIGTERM; ends every process it started.
pub async fn run(opts: DemoOptions) -> Result<(), String> {
    let dir = opts.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("failoverd-demo-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let cloud_dir = dir.join("cloud");
    let t = Topology::seed();
    let cloud = LocalCloud::open(
        &cloud_dir,
        opts.boot_delay,
        Ports::of(&t),
        Binaries::default(),
    )
    .map_err(|e| {
        format!(
            "cannot open the local cloud in {}: {e}",
            cloud_dir.display()
        )
    })?;
    let result = demo(&dir, &cloud_dir, &cloud, &t, &opts).await;
    cloud.end_all().await;
    println!(
        "demo: every process it started is ended; its files are in {}",
        dir.display()
    );
    result
}

async fn demo(
    dir: &Path,
    cloud_dir: &Path,
    cloud: &LocalCloud,
    t: &Topology,
    opts: &DemoOptions,
) -> Result<(), String> {
    seed::launch(cloud, t).map_err(|e| e.to_string())?;
    seed::wait_ready(cloud, t, Duration::from_secs(30)).await?;
    let app = cloud
        .machine("app")
        .map(|r| r.ip.to_string())
        .unwrap_or_default();
    let text = local_config(dir, cloud_dir, cloud, t, &opts.listen, opts.boot_delay);
    let path = dir.join("failoverd.toml");
    std::fs::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let config = config::load(&path).map_err(|e| e.to_string())?;
    println!("demo: the seed deployment runs on loopback; the app's haproxy is {app} (redis on ports {:?})", t.app_ports());
    println!(
        "demo: try `redis-cli -h {app} -p {} set k v`, `curl {}/status`, `curl {}/metrics`",
        t.app_port(t.redis_base + 1),
        opts.listen,
        opts.listen
    );
    println!(
        "demo: configuration {}, audit log {}",
        path.display(),
        config.audit_log.display()
    );
    let cloud = cloud.clone();
    let fail_after = opts.fail_after;
    tokio::task::spawn_local(async move {
        match fail_after {
            Some(d) => {
                println!(
                    "demo: redis1, the master's machine, will be killed in {} s",
                    d.as_secs()
                );
                tokio::time::sleep(d).await;
            }
            None => {
                println!("demo: press Enter to kill redis1, the master's machine (Ctrl-C stops the demo)");
                let (tx, rx) = tokio::sync::oneshot::channel();
                std::thread::spawn(move || {
                    let mut line = String::new();
                    if std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
                        let _ = tx.send(());
                    }
                });
                if rx.await.is_err() {
                    return;
                }
            }
        }
        match cloud.signal("redis1", None, Signal::SIGKILL) {
            Ok(pids) => {
                println!("demo: killed redis1's processes {pids:?}; watch failoverd fail over")
            }
            Err(e) => println!("demo: cannot kill redis1: {e}"),
        }
    });
    daemon::run(config, RunOptions { dry_run: false }).await
}
