//! The file form of a scenario: the TOML tables exactly as written, before each fault's
//! `kind` has decided which fields it takes.
//!
//! A `[[faults]]` table is read as one flat [`FaultTable`] (every field any kind takes) and
//! then converted per kind, instead of letting serde pick an enum variant by `kind`: serde's
//! internally tagged enums buffer the table, which loses the field path and position of
//! errors inside it, and could only say "unknown field" where a person needs "`machine`
//! does not apply to a partition fault". Writing goes the same way back, so what
//! [`crate::to_toml`] writes is what [`crate::parse`] reads.

use serde::{Deserialize, Serialize};

use crate::duration::SimDuration;
use crate::error::Problem;
use crate::fault::{Fault, FaultAction, FAULT_KINDS};
use crate::location::FieldPath;
use crate::schema::{Expect, FailoverSettings, Scenario, Status, Topology, Workload};

/// The top level of a scenario file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    // Strings rather than an enum, so that a missing or unknown status gets a message
    // listing the valid ones and a reason gets checked against the status it goes with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    duration: SimDuration,
    seed: u64,
    #[serde(default)]
    topology: Topology,
    #[serde(default)]
    workload: Workload,
    #[serde(default)]
    failover: FailoverSettings,
    #[serde(default)]
    expect: Expect,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    faults: Vec<FaultTable>,
}

/// One `[[faults]]` table: `at`, `kind`, and whichever of the other fields its kind takes.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultTable {
    at: SimDuration,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    machine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    process: Option<String>,
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    for_: Option<SimDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    between: Option<Vec<Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latency: Option<SimDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    extra: Option<SimDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    heal_after: Option<SimDuration>,
}

/// The fields (besides `at` and `kind`) each kind takes, in the order messages list them.
fn fields_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "crash" => &["machine"],
        "kill" | "stop" | "restart" => &["machine", "process"],
        "pause" => &["machine", "process", "for"],
        "partition" => &["groups", "heal_after"],
        "partition-oneway" => &["from", "to", "heal_after"],
        "latency" => &["between", "latency", "heal_after"],
        "loss" => &["between", "rate", "heal_after"],
        "launch-fails" => &["count"],
        "slow-boot" => &["extra", "count"],
        _ => &[],
    }
}

impl FaultTable {
    /// The optional fields present in the table, in declaration order (deterministic, so
    /// the first offending field reported is always the same one).
    fn present(&self) -> Vec<&'static str> {
        let flags = [
            ("machine", self.machine.is_some()),
            ("process", self.process.is_some()),
            ("for", self.for_.is_some()),
            ("groups", self.groups.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
            ("between", self.between.is_some()),
            ("latency", self.latency.is_some()),
            ("rate", self.rate.is_some()),
            ("extra", self.extra.is_some()),
            ("count", self.count.is_some()),
            ("heal_after", self.heal_after.is_some()),
        ];
        flags
            .iter()
            .filter(|(_, present)| *present)
            .map(|(name, _)| *name)
            .collect()
    }

    /// Converts the table of `faults[index]` into a typed fault, checking that the kind is
    /// known and that exactly its fields are given.
    fn into_fault(self, index: usize) -> Result<Fault, Problem> {
        let here = FieldPath::root().key("faults").index(index);
        let kind = self.kind.as_str();
        if !FAULT_KINDS.contains(&kind) {
            return Err(Problem::new(
                here.key("kind"),
                format!(
                    "unknown fault kind '{kind}'; valid kinds: {}",
                    FAULT_KINDS.join(", ")
                ),
            ));
        }
        let allowed = fields_of(kind);
        if let Some(stray) = self.present().into_iter().find(|f| !allowed.contains(f)) {
            return Err(Problem::new(
                here.key(stray),
                format!(
                    "field `{stray}` does not apply to a {kind} fault; its fields are: at, kind, {}",
                    allowed.join(", ")
                ),
            ));
        }
        let missing = |field: &str| {
            Problem::new(
                here.clone(),
                format!(
                    "a {kind} fault needs `{field}`; its fields are: at, kind, {}",
                    allowed.join(", ")
                ),
            )
        };
        let two_groups = |groups: Vec<Vec<String>>| -> Result<[Vec<String>; 2], Problem> {
            let n = groups.len();
            <[Vec<String>; 2]>::try_from(groups).map_err(|_| {
                Problem::new(
                    here.key("between"),
                    format!(
                        "`between` takes exactly two groups of machines, such as \
                         [[\"app\"], [\"haproxy1\"]]; this one has {n}"
                    ),
                )
            })
        };
        let action = match kind {
            "crash" => FaultAction::Crash {
                machine: self.machine.ok_or_else(|| missing("machine"))?,
            },
            "kill" | "stop" | "restart" => {
                let machine = self.machine.ok_or_else(|| missing("machine"))?;
                let process = self.process.ok_or_else(|| missing("process"))?;
                match kind {
                    "kill" => FaultAction::Kill { machine, process },
                    "stop" => FaultAction::Stop { machine, process },
                    _ => FaultAction::Restart { machine, process },
                }
            }
            "pause" => FaultAction::Pause {
                machine: self.machine.ok_or_else(|| missing("machine"))?,
                process: self.process.ok_or_else(|| missing("process"))?,
                duration: self.for_,
            },
            "partition" => FaultAction::Partition {
                groups: self.groups.ok_or_else(|| missing("groups"))?,
                heal_after: self.heal_after,
            },
            "partition-oneway" => FaultAction::PartitionOneway {
                from: self.from.ok_or_else(|| missing("from"))?,
                to: self.to.ok_or_else(|| missing("to"))?,
                heal_after: self.heal_after,
            },
            "latency" => FaultAction::Latency {
                between: two_groups(self.between.ok_or_else(|| missing("between"))?)?,
                latency: self.latency.ok_or_else(|| missing("latency"))?,
                heal_after: self.heal_after,
            },
            "loss" => FaultAction::Loss {
                between: two_groups(self.between.ok_or_else(|| missing("between"))?)?,
                rate: self.rate.ok_or_else(|| missing("rate"))?,
                heal_after: self.heal_after,
            },
            "launch-fails" => FaultAction::LaunchFails {
                count: self.count.unwrap_or(1),
            },
            // The only kind left, as FAULT_KINDS was checked above.
            _ => FaultAction::SlowBoot {
                extra: self.extra.ok_or_else(|| missing("extra"))?,
                count: self.count.unwrap_or(1),
            },
        };
        Ok(Fault {
            at: self.at,
            action,
        })
    }

    /// The table that [`FaultTable::into_fault`] turns back into `fault`.
    fn from_fault(fault: &Fault) -> FaultTable {
        let mut table = FaultTable {
            at: fault.at,
            kind: fault.action.kind().to_string(),
            ..FaultTable::default()
        };
        match &fault.action {
            FaultAction::Crash { machine } => table.machine = Some(machine.clone()),
            FaultAction::Kill { machine, process }
            | FaultAction::Stop { machine, process }
            | FaultAction::Restart { machine, process } => {
                table.machine = Some(machine.clone());
                table.process = Some(process.clone());
            }
            FaultAction::Pause {
                machine,
                process,
                duration,
            } => {
                table.machine = Some(machine.clone());
                table.process = Some(process.clone());
                table.for_ = *duration;
            }
            FaultAction::Partition { groups, heal_after } => {
                table.groups = Some(groups.clone());
                table.heal_after = *heal_after;
            }
            FaultAction::PartitionOneway {
                from,
                to,
                heal_after,
            } => {
                table.from = Some(from.clone());
                table.to = Some(to.clone());
                table.heal_after = *heal_after;
            }
            FaultAction::Latency {
                between,
                latency,
                heal_after,
            } => {
                table.between = Some(between.to_vec());
                table.latency = Some(*latency);
                table.heal_after = *heal_after;
            }
            FaultAction::Loss {
                between,
                rate,
                heal_after,
            } => {
                table.between = Some(between.to_vec());
                table.rate = Some(*rate);
                table.heal_after = *heal_after;
            }
            FaultAction::LaunchFails { count } => table.count = Some(*count),
            FaultAction::SlowBoot { extra, count } => {
                table.extra = Some(*extra);
                table.count = Some(*count);
            }
        }
        table
    }
}

/// `status` and `reason` as written: a known status, and a reason exactly when it is a known
/// weakness. An empty reason is left to [`crate::validate`], which checks scenarios built in
/// code too.
fn status_of(status: Option<String>, reason: Option<String>) -> Result<Status, Problem> {
    let root = FieldPath::root();
    let valid = Status::NAMES.join(", ");
    let Some(status) = status else {
        return Err(Problem::new(
            root.key("status"),
            format!(
                "missing field `status`; valid statuses: {valid} (a known-weakness also needs \
                 `reason`)"
            ),
        ));
    };
    match (status.as_str(), reason) {
        ("must-pass", None) => Ok(Status::MustPass),
        ("must-pass", Some(_)) => Err(Problem::new(
            root.key("reason"),
            "`reason` applies only to status = \"known-weakness\"; a must-pass scenario says \
             what it checks in `description`",
        )),
        ("known-weakness", Some(reason)) => Ok(Status::KnownWeakness { reason }),
        ("known-weakness", None) => Err(Problem::new(
            root.key("status"),
            "a known-weakness scenario needs `reason`, saying what the weakness is",
        )),
        (other, _) => Err(Problem::new(
            root.key("status"),
            format!("unknown status '{other}'; valid statuses: {valid}"),
        )),
    }
}

impl ScenarioFile {
    /// The typed scenario, or the first of its status and fault tables that does not fit.
    pub(crate) fn into_scenario(self) -> Result<Scenario, Problem> {
        let status = status_of(self.status, self.reason)?;
        let faults = self
            .faults
            .into_iter()
            .enumerate()
            .map(|(index, table)| table.into_fault(index))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Scenario {
            description: self.description,
            status,
            duration: self.duration,
            seed: self.seed,
            topology: self.topology,
            workload: self.workload,
            failover: self.failover,
            expect: self.expect,
            faults,
        })
    }

    /// The file form of `scenario`.
    pub(crate) fn from_scenario(scenario: &Scenario) -> ScenarioFile {
        ScenarioFile {
            description: scenario.description.clone(),
            status: Some(scenario.status.name().to_string()),
            reason: scenario.status.reason().map(str::to_string),
            duration: scenario.duration,
            seed: scenario.seed,
            topology: scenario.topology.clone(),
            workload: scenario.workload.clone(),
            failover: scenario.failover.clone(),
            expect: scenario.expect.clone(),
            faults: scenario.faults.iter().map(FaultTable::from_fault).collect(),
        }
    }
}
