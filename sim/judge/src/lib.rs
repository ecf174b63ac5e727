//! What a run means, whatever world ran it: the history of every client operation, the
//! trace of events, the checkers that judge them and the reports that show the verdict.
//! Nothing here knows turmoil, real processes or any I/O but writing report files, so the
//! lab and the real-process world are judged by the same code.
//!
//! Layout:
//! - [`history`]: every operation's invoke and completion (ok, fail, unknown), Jepsen style.
//! - [`trace`]: every fault and state change of a run, with its time.
//! - [`fault_record`]: when each scheduled fault took effect and healed.
//! - [`read_back`]: what each port held at the end of the run.
//! - [`checker`]: lost writes, stale reads, unavailability windows, split brain, recovery
//!   times, and the scenario's expectations.
//! - [`report`]: report.json, report.md, timeline.svg, report.html.
//! - [`format`]: fixed-decimal times, shared by checker messages and reports.

pub mod checker;
pub mod fault_record;
pub mod format;
pub mod history;
pub mod read_back;
pub mod report;
pub mod trace;
