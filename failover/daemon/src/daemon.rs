//! `failoverd run`: the shell with the daemon's connector, provider, state file, audit
//! log, HTTP API and signals.

use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use failover::effects::{Cloud, CloudError, InstanceState, Store};
use failover::layout::{MachineInfo, MachineRole};
use failover::shell::{Mode, Shell};
use failover::store::{FileStore, MemoryStore};
use tokio::signal::unix::{signal, SignalKind};

use crate::audit::{AuditLog, Entry};
use crate::config::Config;
use crate::connector::DaemonConnector;
use crate::provider::Provider;
use crate::status::{DaemonTap, Shared};

/// A state file is a controller snapshot: a few kilobytes per plan.
pub const STATE_LIMIT: u64 = 64 << 20;

#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    pub dry_run: bool,
}

/// The provider, shared by the shell and the DNS hook.
#[derive(Clone)]
pub struct SharedProvider(pub Rc<Provider>);

impl Cloud for SharedProvider {
    async fn launch(&self, role: MachineRole, token: &str) -> Result<MachineInfo, CloudError> {
        self.0.launch(role, token).await
    }
    async fn terminate(&self, instance_id: &str) -> Result<(), CloudError> {
        self.0.terminate(instance_id).await
    }
    async fn describe(&self, instance_id: &str) -> Result<InstanceState, CloudError> {
        self.0.describe(instance_id).await
    }
}

/// The state file, or in a dry run a copy in memory: a dry run reads the state a real
/// run left but never changes it.
pub enum DaemonStore {
    File(FileStore),
    Memory(MemoryStore),
}

impl Store for DaemonStore {
    fn load(&self) -> Option<String> {
        match self {
            DaemonStore::File(f) => f.load(),
            DaemonStore::Memory(m) => m.load(),
        }
    }
    fn save(&self, state: &str) {
        match self {
            DaemonStore::File(f) => f.save(state),
            DaemonStore::Memory(m) => m.save(state),
        }
    }
}

/// The saved state, read without trusting the path (a FIFO would hang a plain read).
fn read_state(path: &Path) -> Result<Option<String>, String> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        _ => {}
    }
    let what = format!("the state file {}", path.display());
    let bytes = scenario::input::read_limited(path, STATE_LIMIT).map_err(|e| e.about(&what))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| format!("{what} is not UTF-8; it is not a state failoverd wrote"))
}

/// Runs until SIGTERM or SIGINT; then finishes or checkpoints the running steps and
/// returns.
pub async fn run(config: Config, options: RunOptions) -> Result<(), String> {
    let audit = Arc::new(AuditLog::open(&config.audit_log).map_err(|e| {
        format!(
            "cannot open the audit log {}: {e}",
            config.audit_log.display()
        )
    })?);
    let saved = read_state(&config.state_file)?;
    let store = if options.dry_run {
        let m = MemoryStore::default();
        if let Some(s) = &saved {
            m.save(s);
        }
        DaemonStore::Memory(m)
    } else {
        if let Some(dir) = config
            .state_file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            if !dir.is_dir() {
                return Err(format!(
                    "the state file's directory {} does not exist",
                    dir.display()
                ));
            }
        }
        DaemonStore::File(FileStore {
            path: config.state_file.clone(),
        })
    };
    let provider = Rc::new(Provider::new(&config).await?);
    let shared = Shared::new(config.controller.interval_ms, options.dry_run);
    let connector = DaemonConnector::new(config.topology.api_port, config.runtime_apis.clone());
    let epoch: u64 = rand::random();
    let shell = Shell::new(
        config.controller.clone(),
        config.deployment.clone(),
        epoch,
        connector,
        SharedProvider(provider.clone()),
        store,
    )
    .map_err(|e| {
        format!(
            "the controller cannot start: {e} (state file {})",
            config.state_file.display()
        )
    })?;

    let dns = provider.clone();
    let app_facing: Box<dyn Fn(String, String)> = Box::new(move |machine, addr| {
        let dns = dns.clone();
        tokio::task::spawn_local(async move {
            match dns.app_facing_changed(&machine, &addr).await {
                Ok(()) => {
                    tracing::info!(target: "failoverd", machine = %machine, addr = %addr, "app-facing record updated")
                }
                Err(e) => {
                    tracing::error!(target: "failoverd", machine = %machine, error = %e, "cannot update the app-facing record")
                }
            }
        });
    });
    let tap = Rc::new(DaemonTap {
        shared: shared.clone(),
        audit: audit.clone(),
        dry_run: options.dry_run,
        app_facing: (!options.dry_run).then_some(app_facing),
    });
    let recorder_audit = audit.clone();
    let shell = shell
        .with_tap(tap)
        .with_recorder(Rc::new(move |event| {
            recorder_audit.write(Entry::Event { event })
        }))
        .with_mode(Mode {
            paused: Some(shared.pause.subscribe()),
            dry_run: options.dry_run,
        });

    if let Some(listen) = &config.listen {
        let listener = tokio::net::TcpListener::bind(listen.as_str())
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        tracing::info!(target: "failoverd", listen = %listen, "HTTP API listening");
        let router = crate::http::router(shared.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(target: "failoverd", error = %e, "the HTTP API stopped");
            }
        });
    }

    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let stop_audit = audit.clone();
    let stop = async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(target: "failoverd", signal = name, "stopping: finishing the steps under way");
        stop_audit.write(Entry::Stopped {
            signal: name.into(),
        });
    };
    tracing::info!(target: "failoverd", config = %config.origin, dry_run = options.dry_run, "failoverd started");
    shell
        .run_until(
            stop,
            Duration::from_millis(config.shutdown_grace.as_millis()),
        )
        .await;
    audit.sync();
    Ok(())
}
