//! A value tasks can wait on: the lab's deterministic stand-in for `tokio::sync::watch`.
//!
//! tokio's watch channel spreads its waiters over eight notifiers chosen with tokio's
//! thread RNG, which is not seeded by turmoil (without `tokio_unstable`), so the order in
//! which waiting tasks wake differed between processes. Here every waiter waits on one
//! `Notify`, woken in a fixed order.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use tokio::sync::Notify;

struct Inner<T> {
    value: RefCell<T>,
    version: Cell<u64>,
    notify: Notify,
}

/// The sending side, and a handle to the current value.
pub struct Signal<T> {
    inner: Rc<Inner<T>>,
}

impl<T> Clone for Signal<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Clone> Signal<T> {
    pub fn new(value: T) -> Self {
        Self {
            inner: Rc::new(Inner {
                value: RefCell::new(value),
                version: Cell::new(0),
                notify: Notify::new(),
            }),
        }
    }

    pub fn get(&self) -> T {
        self.inner.value.borrow().clone()
    }

    /// Sets the value and wakes every waiter.
    pub fn set(&self, value: T) {
        *self.inner.value.borrow_mut() = value;
        self.inner.version.set(self.inner.version.get() + 1);
        self.inner.notify.notify_waiters();
    }

    /// A watcher that has seen the current value.
    pub fn subscribe(&self) -> Watcher<T> {
        Watcher {
            signal: self.clone(),
            seen: self.inner.version.get(),
        }
    }

    /// Waits until `pred` holds for the value.
    pub async fn wait_for(&self, pred: impl Fn(&T) -> bool) {
        loop {
            if pred(&self.inner.value.borrow()) {
                return;
            }
            // Single-threaded: nothing can set the value between the check and the
            // registration, which happens on the first poll below.
            self.inner.notify.notified().await;
        }
    }
}

/// Waits for changes after the last one it saw.
pub struct Watcher<T> {
    signal: Signal<T>,
    seen: u64,
}

impl<T: Clone> Watcher<T> {
    /// Returns once the value has been set since the last call (or since subscribing).
    pub async fn changed(&mut self) {
        loop {
            let version = self.signal.inner.version.get();
            if version != self.seen {
                self.seen = version;
                return;
            }
            self.signal.inner.notify.notified().await;
        }
    }
}
