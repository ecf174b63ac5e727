//! A simulated machine: one turmoil host running named processes under a small supervisor.
//!
//! A process's tasks live in one `JoinSet`; killing the process drops it, which aborts every
//! task and drops their sockets, so peers see the connection closed as the kernel would close
//! it. Stopping it (SIGTERM, what `systemctl stop` sends) ends it the same way unless it
//! catches the signal ([`ProcessCtx::catch_sigterm`]): then it shuts down in its own time
//! (redis saves its snapshot) and the stop takes effect when its main task returns. A
//! machine *crash* is different and is done by the lab (hold the host's links, then crash it
//! in turmoil): peers of a dead machine hear nothing.
//!
//! The machine's [`Disk`] is created with its host and handed to every process it starts,
//! so what a process wrote is there for the next one; a replacement machine is a new host
//! with a new, empty disk.
//!
//! The supervisor is driven through a [`MachineControl`], shared between the code that builds
//! the lab (outside the simulation, between steps) and the host's software (inside).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::disk::Disk;
use crate::signal::Signal;
use crate::trace::{record, Event};
use tokio::task::JoinSet;

/// What a process is handed when it starts.
#[derive(Clone)]
pub struct ProcessCtx {
    /// The machine's name (its turmoil host name).
    pub machine: String,
    /// The process's name on its machine, e.g. "redis-9001" or "haproxy".
    pub name: String,
    /// A seed for the process's own randomness, fixed by the lab seed, the machine, the
    /// process and how many times it has started.
    pub seed: u64,
    /// `true` while the process is frozen (SIGSTOP): it must not answer anything.
    pub paused: Signal<bool>,
    /// `true` once SIGTERM was sent to a process that catches it.
    terminate: Signal<bool>,
    /// Whether the process catches SIGTERM (set by the process itself).
    catches_sigterm: Rc<Cell<bool>>,
    /// The machine's disk.
    pub disk: Disk,
}

impl ProcessCtx {
    /// The context of a process run on its own, outside any supervisor (tests): never
    /// paused or stopped, with a disk of its own.
    pub fn standalone(machine: &str, name: &str, seed: u64) -> Self {
        Self {
            machine: machine.to_string(),
            name: name.to_string(),
            seed,
            paused: Signal::new(false),
            terminate: Signal::new(false),
            catches_sigterm: Rc::default(),
            disk: Disk::default(),
        }
    }

    /// Waits until the process is not paused. Every loop that answers peers awaits this
    /// before it acts, so a paused process accepts connections (the kernel does) but says
    /// nothing.
    pub async fn running(&self) {
        self.paused.wait_for(|paused| !*paused).await;
    }

    /// Installs a SIGTERM handler: from now on a stop no longer ends the process at once,
    /// it waits for the process's main task to return (see [`ProcessCtx::sigterm`]).
    pub fn catch_sigterm(&self) {
        self.catches_sigterm.set(true);
    }

    /// Resolves when SIGTERM has arrived and the process runs (a frozen process handles it
    /// once thawed, as a pending signal is).
    pub async fn sigterm(&self) {
        self.terminate.wait_for(|t| *t).await;
        self.running().await;
    }
}

type ProcessFuture = Pin<Box<dyn Future<Output = ()>>>;
/// Starts a process: called again on every restart.
pub type ProcessFactory = Rc<dyn Fn(ProcessCtx) -> ProcessFuture>;

/// Boxes an async process body into a [`ProcessFactory`].
pub fn factory<F, Fut>(f: F) -> ProcessFactory
where
    F: Fn(ProcessCtx) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    Rc::new(move |ctx| Box::pin(f(ctx)) as ProcessFuture)
}

/// `f`, whose first start waits `delay` (the process is started that late) and whose
/// restarts start at once.
pub fn first_start_after(delay: Duration, f: ProcessFactory) -> ProcessFactory {
    let started = Rc::new(Cell::new(false));
    Rc::new(move |ctx| {
        let first = !started.replace(true);
        let run = f.clone();
        Box::pin(async move {
            if first {
                tokio::time::sleep(delay).await;
            }
            run(ctx).await
        }) as ProcessFuture
    })
}

/// A command to a machine's supervisor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessCommand {
    /// Kill the process (SIGKILL): its connections close.
    Kill(String),
    /// Terminate the process (SIGTERM, the `stop` fault): a process that catches it shuts
    /// down in its own time, any other ends as with SIGKILL. Not [`ProcessCommand::Pause`],
    /// which is SIGSTOP.
    Terminate(String),
    /// Start the process if it is not running.
    Start(String),
    /// Freeze the process (SIGSTOP).
    Pause(String),
    /// Thaw the process (SIGCONT).
    Resume(String),
}

/// What the supervisor reports back, with the simulated time it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessEvent {
    pub at: std::time::Duration,
    pub machine: String,
    pub command: ProcessCommand,
    /// False when the command had no effect (killing a process that was not running).
    pub took_effect: bool,
}

/// The shared handle through which the lab commands a machine's processes.
#[derive(Clone, Default)]
pub struct MachineControl {
    inner: Rc<ControlInner>,
}

#[derive(Default)]
struct ControlInner {
    queue: RefCell<VecDeque<ProcessCommand>>,
    notify: Notify,
    events: RefCell<Vec<ProcessEvent>>,
    /// Woken when a process's main task returns.
    exited: Notify,
    /// The machine's disk, created with its host.
    disk: Disk,
}

impl MachineControl {
    pub fn send(&self, command: ProcessCommand) {
        self.inner.queue.borrow_mut().push_back(command);
        self.inner.notify.notify_one();
    }

    /// Takes the events the supervisor reported since the last call.
    pub fn drain_events(&self) -> Vec<ProcessEvent> {
        std::mem::take(&mut *self.inner.events.borrow_mut())
    }

    /// The machine's disk.
    pub fn disk(&self) -> &Disk {
        &self.inner.disk
    }
}

/// The definition of a machine: its processes, started in order at boot.
#[derive(Clone)]
pub struct MachineSpec {
    pub name: String,
    pub seed: u64,
    pub processes: Vec<(String, ProcessFactory)>,
}

struct Slot {
    factory: ProcessFactory,
    tasks: Option<JoinSet<()>>,
    paused: Signal<bool>,
    /// The running incarnation's SIGTERM flag and handler.
    terminate: Signal<bool>,
    catches_sigterm: Rc<Cell<bool>>,
    /// A stop sent to a process that catches SIGTERM, confirmed when it exits.
    stopping: bool,
    incarnation: u64,
}

/// Creates the turmoil host of a machine, whose software is its supervisor (started afresh
/// by turmoil on every restart of the host), and returns the handle that commands it.
/// Call between steps.
pub fn start_machine(sim: &mut turmoil::Sim<'_>, spec: MachineSpec) -> MachineControl {
    let name = spec.name.clone();
    let control = MachineControl::default();
    let c = control.clone();
    sim.host(name.as_str(), move || {
        let (spec, control) = (spec.clone(), c.clone());
        async move {
            run_machine(spec, control).await;
            Ok(())
        }
    });
    control
}

/// The machine's software: starts every process, then obeys its control until crashed.
pub async fn run_machine(spec: MachineSpec, control: MachineControl) {
    let mut slots: BTreeMap<String, Slot> = BTreeMap::new();
    for (name, factory) in &spec.processes {
        slots.insert(
            name.clone(),
            Slot {
                factory: factory.clone(),
                tasks: None,
                paused: Signal::new(false),
                terminate: Signal::new(false),
                catches_sigterm: Rc::default(),
                stopping: false,
                incarnation: 0,
            },
        );
        let slot = slots.get_mut(name).expect("just inserted");
        start(&spec, &control, name, slot);
    }
    loop {
        for (name, slot) in slots.iter_mut() {
            if reap(slot) {
                report(
                    &spec,
                    &control,
                    ProcessCommand::Terminate(name.clone()),
                    true,
                );
            }
        }
        let next = control.inner.queue.borrow_mut().pop_front();
        let Some(command) = next else {
            tokio::select! {
                biased;
                _ = control.inner.notify.notified() => {}
                _ = control.inner.exited.notified() => {}
            }
            continue;
        };
        let took_effect = match &command {
            ProcessCommand::Kill(name) => match slots.get_mut(name) {
                Some(slot) => {
                    let stopping = slot.stopping;
                    let killed = kill(slot).await;
                    if stopping {
                        report(
                            &spec,
                            &control,
                            ProcessCommand::Terminate(name.clone()),
                            true,
                        );
                    }
                    killed
                }
                None => false,
            },
            ProcessCommand::Terminate(name) => match slots.get_mut(name) {
                Some(slot) if slot.tasks.is_some() && slot.catches_sigterm.get() => {
                    if !slot.stopping {
                        slot.stopping = true;
                        slot.terminate.set(true);
                        // Confirmed when the process's main task returns.
                        continue;
                    }
                    false
                }
                // The default action of SIGTERM ends the process, frozen or not.
                Some(slot) => kill(slot).await,
                None => false,
            },
            ProcessCommand::Start(name) => match slots.get_mut(name) {
                Some(slot) if slot.tasks.is_none() => {
                    start(&spec, &control, name, slot);
                    true
                }
                _ => false,
            },
            ProcessCommand::Pause(name) => set_paused(&mut slots, name, true),
            ProcessCommand::Resume(name) => set_paused(&mut slots, name, false),
        };
        report(&spec, &control, command, took_effect);
    }
}

/// Ends a process at once (SIGKILL): aborts its tasks and waits until they dropped their
/// sockets. False if it was not running.
async fn kill(slot: &mut Slot) -> bool {
    let Some(mut tasks) = slot.tasks.take() else {
        return false;
    };
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    slot.paused.set(false);
    slot.stopping = false;
    true
}

/// Notices a process whose main task returned; true if a stop was waiting for that.
fn reap(slot: &mut Slot) -> bool {
    let Some(tasks) = slot.tasks.as_mut() else {
        return false;
    };
    while tasks.try_join_next().is_some() {}
    if !tasks.is_empty() {
        return false;
    }
    slot.tasks = None;
    slot.paused.set(false);
    std::mem::take(&mut slot.stopping)
}

/// Records what a command did, in the trace and for the code outside the simulation.
fn report(
    spec: &MachineSpec,
    control: &MachineControl,
    command: ProcessCommand,
    took_effect: bool,
) {
    let (verb, process) = command.parts();
    record(
        &spec.name,
        Event::ProcessCommand {
            command: verb.to_string(),
            process: process.to_string(),
            took_effect,
        },
    );
    control.inner.events.borrow_mut().push(ProcessEvent {
        at: turmoil::sim_elapsed().unwrap_or_default(),
        machine: spec.name.clone(),
        command,
        took_effect,
    });
}

impl ProcessCommand {
    /// The command's verb, as faults and the trace name it, and the process it names.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            ProcessCommand::Kill(p) => ("kill", p),
            ProcessCommand::Terminate(p) => ("stop", p),
            ProcessCommand::Start(p) => ("start", p),
            ProcessCommand::Pause(p) => ("pause", p),
            ProcessCommand::Resume(p) => ("resume", p),
        }
    }
}

fn set_paused(slots: &mut BTreeMap<String, Slot>, name: &str, paused: bool) -> bool {
    match slots.get_mut(name) {
        Some(slot) if slot.tasks.is_some() && slot.paused.get() != paused => {
            slot.paused.set(paused);
            true
        }
        _ => false,
    }
}

fn start(spec: &MachineSpec, control: &MachineControl, name: &str, slot: &mut Slot) {
    slot.incarnation += 1;
    slot.terminate = Signal::new(false);
    slot.catches_sigterm = Rc::default();
    let ctx = ProcessCtx {
        machine: spec.name.clone(),
        name: name.to_string(),
        seed: derive_seed(
            spec.seed,
            &[&spec.name, name, &slot.incarnation.to_string()],
        ),
        paused: slot.paused.clone(),
        terminate: slot.terminate.clone(),
        catches_sigterm: slot.catches_sigterm.clone(),
        disk: control.inner.disk.clone(),
    };
    let process = (slot.factory)(ctx);
    let control = control.clone();
    let mut tasks = JoinSet::new();
    tasks.spawn_local(async move {
        process.await;
        control.inner.exited.notify_one();
    });
    slot.tasks = Some(tasks);
}

/// Mixes a seed with names into a new seed (FNV-1a then splitmix64), stable on every
/// platform and Rust version.
pub fn derive_seed(seed: u64, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49eb_133c_e111);
    z ^ (z >> 31)
}
