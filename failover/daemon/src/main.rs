//! The `failoverd` command: `run`, `check-config`, `replay`, `demo`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use failoverd::config::{self, LogFormat};
use failoverd::daemon::{self, RunOptions};

#[derive(Parser)]
#[command(name = "failoverd", version, about = "Redis + haproxy failover daemon")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the daemon until SIGTERM or SIGINT.
    Run {
        config: PathBuf,
        /// Poll and decide, log what would be done, do nothing (the state file is read,
        /// never written).
        #[arg(long)]
        dry_run: bool,
    },
    /// Checks a configuration file; exit status 0 when it is valid (and, with --probe,
    /// every endpoint answered).
    CheckConfig {
        config: PathBuf,
        /// Also connect to every redis server and runtime API and say what answered.
        #[arg(long)]
        probe: bool,
    },
    /// Feeds an audit log through the pure core and checks it makes the same decisions.
    Replay { audit: PathBuf },
    /// Starts the seed deployment as local processes on loopback addresses and failoverd
    /// watching it; kills the master's machine on Enter (or after --fail-after).
    Demo {
        /// Where its files go (default: a new directory under the system's temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Kill the master's machine after this many seconds instead of on Enter (1 to 3600).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3600))]
        fail_after: Option<u64>,
        /// The HTTP API's address.
        #[arg(long, default_value = "127.0.0.1:9180")]
        listen: String,
        /// Seconds a replacement machine takes to boot (0 to 600).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=600))]
        boot_delay: u64,
    },
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config, dry_run } => {
            let config = match config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            init_tracing(config.log_format);
            let local = tokio::task::LocalSet::new();
            match local.block_on(&runtime(), daemon::run(config, RunOptions { dry_run })) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(target: "failoverd", error = %e, "failoverd cannot run");
                    eprintln!("failoverd: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::CheckConfig { config, probe } => {
            let c = match config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            println!(
                "{}: valid: {} redis machines with {} ports each, {} proxies, provider {:?}",
                config.display(),
                c.topology.redis_machines.len(),
                c.topology.redis_ports,
                c.topology.proxies.len(),
                c.cloud.provider
            );
            if !probe {
                return ExitCode::SUCCESS;
            }
            let (lines, all) = runtime().block_on(failoverd::probe::probe(&c));
            for l in lines {
                println!("{l}");
            }
            if all {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Demo {
            dir,
            fail_after,
            listen,
            boot_delay,
        } => {
            init_tracing(LogFormat::Text);
            let opts = failoverd::demo::DemoOptions {
                dir,
                fail_after: fail_after.map(std::time::Duration::from_secs),
                listen,
                boot_delay: std::time::Duration::from_secs(boot_delay),
            };
            let local = tokio::task::LocalSet::new();
            match local.block_on(&runtime(), failoverd::demo::run(opts)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("failoverd demo: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Replay { audit } => match failoverd::replay::replay(&audit) {
            Ok(r) => {
                println!(
                    "{}: {} inputs from {} starts replayed; the controller made the same {} decisions",
                    audit.display(),
                    r.inputs,
                    r.starts,
                    r.actions
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
    }
}
