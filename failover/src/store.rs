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

/// A file, written atomically and durably: a temporary file beside it is written and
/// fsynced, renamed over the old one, and the directory fsynced, so a crash or a power
/// cut at any point leaves either the old state or the new one, never half of one.
pub struct FileStore {
    pub path: PathBuf,
}

impl FileStore {
    /// Writes `state` as described above; the error says which part failed.
    pub fn write(&self, state: &str) -> std::io::Result<()> {
        use std::io::Write;
        let mut tmp_name = self.path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(".tmp");
        let tmp = self.path.with_file_name(tmp_name);
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(state.as_bytes())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &self.path)?;
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => std::path::Path::new("."),
        };
        std::fs::File::open(dir)?.sync_all()
    }
}

impl Store for FileStore {
    fn load(&self) -> Option<String> {
        std::fs::read_to_string(&self.path).ok()
    }

    fn save(&self, state: &str) {
        if let Err(e) = self.write(state) {
            tracing::error!(target: "failover", path = %self.path.display(), error = %e, "cannot save the controller's state");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_store_replaces_its_state_whole_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("failover-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = FileStore {
            path: dir.join("state.json"),
        };
        assert_eq!(store.load(), None);
        store.save("{\"a\":1}");
        store.save("{\"b\":2}");
        assert_eq!(store.load().as_deref(), Some("{\"b\":2}"));
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
