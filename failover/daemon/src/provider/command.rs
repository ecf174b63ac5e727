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
        let name = l.name.unwrap_or_else(|| format!("{role_s}-{token}"));
        // Both go into haproxy's runtime-API commands, one word each.
        if !crate::config::is_machine_name(&name) || !crate::config::is_address(&l.addr) {
            return Err(CloudError::Other(format!(
                "launch command printed name {name:?} and addr {:?}: a name is 1 to 64 letters, digits, '-', '_' or '.', an addr an IP address or a DNS name",
                l.addr
            )));
        }
        Ok(MachineInfo {
            name,
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

#[cfg(test)]
mod tests {
    use super::*;
    use scenario::SimDuration;

    fn cloud(dir: &std::path::Path, script: &str, timeout_ms: u64) -> CommandCloud {
        let path = dir.join("cloud.sh");
        std::fs::write(&path, script).unwrap();
        let cmd = |verb: &str, arg: &str| {
            vec![
                "sh".into(),
                path.display().to_string(),
                verb.into(),
                arg.into(),
            ]
        };
        CommandCloud::new(CommandFile {
            launch: cmd("launch", "{role}:{token}"),
            terminate: cmd("terminate", "{instance_id}"),
            describe: cmd("describe", "{instance_id}"),
            timeout: SimDuration::from_millis(timeout_ms),
        })
    }

    #[tokio::test]
    async fn commands_speak_json_and_exit_statuses_carry_the_error_kind() {
        let dir = tempfile::tempdir().unwrap();
        let script = r#"case "$1" in
  launch) [ "$FAILOVER_ROLE" = redis ] || exit 1; echo "starting" ; echo "{\"addr\": \"10.0.0.9\", \"instance_id\": \"vm-$FAILOVER_TOKEN\"}" ;;
  describe) [ "$2" = vm-gone ] && { echo "no such vm" >&2; exit 44; }; echo '{"state": "pending"}' ;;
  terminate) [ "$2" = vm-gone ] && exit 44; [ "$2" = vm-busy ] && { echo "first line" >&2; echo "API is busy" >&2; exit 3; }; exit 0 ;;
esac"#;
        let c = cloud(dir.path(), script, 5_000);
        let m = c.launch(MachineRole::Redis, "t1").await.unwrap();
        assert_eq!(
            (m.name.as_str(), m.addr.as_str(), m.instance_id.as_deref()),
            ("redis-t1", "10.0.0.9", Some("vm-t1"))
        );
        let e = c.launch(MachineRole::Haproxy, "t2").await.unwrap_err();
        assert!(
            matches!(e, CloudError::Other(ref s) if s.contains("exit status 1")),
            "{e}"
        );
        assert_eq!(c.describe("vm-1").await.unwrap(), InstanceState::Pending);
        assert_eq!(
            c.describe("vm-gone").await.unwrap_err(),
            CloudError::NotFound("no such vm".into())
        );
        c.terminate("vm-1").await.unwrap();
        c.terminate("vm-gone").await.expect("already gone is done");
        let e = c.terminate("vm-busy").await.unwrap_err();
        assert!(
            matches!(e, CloudError::Other(ref s) if s.ends_with("exit status 3): API is busy")),
            "{e}"
        );
    }

    #[tokio::test]
    async fn capacity_bad_output_and_hung_commands() {
        let dir = tempfile::tempdir().unwrap();
        let c = cloud(
            dir.path(),
            "echo 'no m5.large in us-east-1a' >&2; exit 75",
            5_000,
        );
        assert_eq!(
            c.launch(MachineRole::Redis, "t").await.unwrap_err(),
            CloudError::Capacity("no m5.large in us-east-1a".into())
        );
        let c = cloud(
            dir.path(),
            "echo '{\"name\": \"a b\", \"addr\": \"10.0.0.1\"}'",
            5_000,
        );
        let e = c
            .launch(MachineRole::Redis, "t")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("printed name \"a b\""), "{e}");
        let c = cloud(dir.path(), "echo 'not json'", 5_000);
        let e = c
            .launch(MachineRole::Redis, "t")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("printed \"not json\", not {\"name\""), "{e}");
        let c = cloud(dir.path(), "exec sleep 30", 300);
        let start = std::time::Instant::now();
        let e = c.describe("x").await.unwrap_err().to_string();
        assert!(e.contains("did not finish within 300ms; killed"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
