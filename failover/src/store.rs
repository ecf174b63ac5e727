//! Where the controller's state lives between restarts.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use crate::effects::Store;

/// In memory, shared: the lab keeps it on the monit machine, so it survives a restart of
/// the controller process but not the machine.
#[derive(Clone, Default)]
pub struct MemoryStore(Rc<RefCell<Option<String>>>);

impl Store for MemoryStore {
    fn load(&self) -> Option<String> {
        self.0.borrow().clone()
    }

    fn save(&self, state: &str) {
        *self.0.borrow_mut() = Some(state.to_string());
    }
}

/// A file, written atomically (write a temporary file, then rename it over the old one),
/// so a crash mid-write never leaves half a state behind.
pub struct FileStore {
    pub path: PathBuf,
}

impl Store for FileStore {
    fn load(&self) -> Option<String> {
        std::fs::read_to_string(&self.path).ok()
    }

    fn save(&self, state: &str) {
        let tmp = self.path.with_extension("tmp");
        let written = std::fs::write(&tmp, state).and_then(|_| std::fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            tracing::error!(target: "failover", path = %self.path.display(), error = %e, "cannot save the controller's state");
        }
    }
}
