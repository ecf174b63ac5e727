//! The `command` provider: launch, terminate and describe run programs from the
//! configuration, for any other cloud or a datacenter.
//!
//! Each command is an argument list (no shell) where `{role}`, `{token}` and
//! `{instance_id}` are replaced; the same values are in the environment as
//! `FAILOVER_ROLE`, `FAILOVER_TOKEN`, `FAILOVER_INSTANCE_ID`. Protocol:
//! - launch prints `{"name": ..., "addr": ..., "instance_id": ...}` (instance_id
//!   optional; name defaults to `<role>-<token>`); the same token must give the same
//!   machine, as EC2's ClientToken does;
//! - describe prints `{"state": "pending" | "running" | "shutting-down" | "terminated"}`;
//! - terminate prints nothing in particular; terminating a machine already gone succeeds;
//! - exit status 0 is success; 75 (EX_TEMPFAIL) is a capacity shortage, 44 is "no such
//!   instance", anything else a failure. The last line of stderr is the error's text.
//!
//! A command that outlives the timeout is killed (by its PID, through tokio's `Child`).

use std::process::Stdio;
use std::time::Duration;

use failover::effects::{Cloud, CloudError, InstanceState};
use failover::layout::{MachineInfo, MachineRole};
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

use crate::config::CommandFile;

/// More output than any of the three replies needs; the rest is not read.
const OUTPUT_LIMIT: u64 = 64 * 1024;
pub const EXIT_CAPACITY: i32 = 75;
pub const EXIT_NOT_FOUND: i32 = 44;

pub struct CommandCloud {
    config: CommandFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Launched {
    #[serde(default)]
    name: Option<String>,
    addr: String,
    #[serde(default)]
    instance_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Described {
    state: InstanceState,
}

pub fn role_name(role: MachineRole) -> &'static str {
    match role {
        MachineRole::Redis => "redis",
        MachineRole::Haproxy => "haproxy",
    }
}

impl CommandCloud {
    pub fn new(config: CommandFile) -> Self {
        CommandCloud { config }
    }

    async fn run(
        &self,
        which: &str,
        args: &[String],
        vars: &[(&str, &str)],
    ) -> Result<String, CloudError> {
        let subst = |a: &String| {
            vars.iter()
                .fold(a.clone(), |a, (k, v)| a.replace(&format!("{{{k}}}"), v))
        };
        let argv: Vec<String> = args.iter().map(subst).collect();
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in vars {
            cmd.env(format!("FAILOVER_{}", k.to_uppercase()), v);
        }
        // The program only: arguments may carry what a log should not.
        tracing::info!(target: "failoverd", command = which, program = %argv[0], "cloud command");
        let mut child = cmd.spawn().map_err(|e| {
            CloudError::Other(format!("{which} command {:?} did not start: {e}", argv[0]))
        })?;
        let (mut out, mut err) = (
            child.stdout.take().expect("piped"),
            child.stderr.take().expect("piped"),
        );
        let work = async {
            let (mut o, mut e) = (Vec::new(), Vec::new());
            let (mut out_l, mut err_l) =
                ((&mut out).take(OUTPUT_LIMIT), (&mut err).take(OUTPUT_LIMIT));
            let (r1, r2) = tokio::join!(out_l.read_to_end(&mut o), err_l.read_to_end(&mut e));
            r1.and(r2)?;
            let status = child.wait().await?;
            Ok::<_, std::io::Error>((status, o, e))
        };
        let timeout = Duration::from_millis(self.config.timeout.as_millis());
        let (status, stdout, stderr) = match tokio::time::timeout(timeout, work).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(CloudError::Other(format!("{which} command: {e}"))),
            // Dropping `work` drops the child, which kills it.
            Err(_) => {
                return Err(CloudError::Other(format!(
                    "{which} command did not finish within {}; killed",
                    self.config.timeout
                )))
            }
        };
        let why = String::from_utf8_lossy(&stderr)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .chars()
            .take(500)
            .collect::<String>();
        match status.code() {
            Some(0) => Ok(String::from_utf8_lossy(&stdout).into_owned()),
            Some(EXIT_CAPACITY) => Err(CloudError::Capacity(why)),
            Some(EXIT_NOT_FOUND) => Err(CloudError::NotFound(why)),
            code => Err(CloudError::Other(format!(
                "{which} command failed ({}): {why}",
                code.map_or("killed by a signal".to_string(), |c| format!(
                    "exit status {c}"
                ))
            ))),
        }
    }
}

fn reply<T: for<'de> Deserialize<'de>>(
    which: &str,
    out: &str,
    want: &str,
) -> Result<T, CloudError> {
    let line = out
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str(line).map_err(|e| {
        CloudError::Other(format!(
            "{which} command printed {:?}, not {want}: {e}",
            line.chars().take(200).collect::<String>()
        ))
    })
}

impl Cloud for CommandCloud {
    async fn launch(&self, role: MachineRole, token: &str) -> Result<MachineInfo, CloudError> {
        let role_s = role_name(role);
        let out = self
            .run(
                "launch",
                &self.config.launch,
                &[("role", role_s), ("token", token)],
            )
            .await?;
        let l: Launched = reply(
            "launch",
            &out,
            r#"{"name": ..., "addr": ..., "instance_id": ...}"#,
        )?;
        Ok(MachineInfo {
            name: l.name.unwrap_or_else(|| format!("{role_s}-{token}")),
            addr: l.addr,
            role,
            instance_id: l.instance_id,
        })
    }

    async fn terminate(&self, instance_id: &str) -> Result<(), CloudError> {
        match self
            .run(
                "terminate",
                &self.config.terminate,
                &[("instance_id", instance_id)],
            )
            .await
        {
            Ok(_) | Err(CloudError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn describe(&self, instance_id: &str) -> Result<InstanceState, CloudError> {
        let out = self
            .run(
                "describe",
                &self.config.describe,
                &[("instance_id", instance_id)],
            )
            .await?;
        let d: Described = reply("describe", &out, r#"{"state": "running"}"#)?;
        Ok(d.state)
    }
}
