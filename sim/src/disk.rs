//! A simulated machine's disk: files by path that outlive the machine's processes (a
//! restarted redis finds the snapshot the last one saved), not the machine: a replacement
//! machine boots from its image, with an empty disk. Each machine gets its own when its
//! host is created ([`crate::machine::start_machine`]), so nothing is shared between
//! machines and nothing depends on the host's file system.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

#[derive(Clone, Default)]
pub struct Disk {
    files: Rc<RefCell<BTreeMap<String, Rc<Vec<u8>>>>>,
}

impl Disk {
    /// Replaces the file at `path` whole, as a rename over it does (redis writes its
    /// snapshot to a temporary file, then renames it).
    pub fn replace(&self, path: &str, bytes: Vec<u8>) {
        self.files
            .borrow_mut()
            .insert(path.to_string(), Rc::new(bytes));
    }

    pub fn read(&self, path: &str) -> Option<Rc<Vec<u8>>> {
        self.files.borrow().get(path).cloned()
    }
}
