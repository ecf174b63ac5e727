//! Where commands write: checked before any work starts, so an hour of seeds is not lost
//! to an `--out` that names a file, a FIFO or a read-only place.

use std::io::ErrorKind;
use std::path::Path;

use scenario::input::describe;

/// Whether `dir` can take the command's files: an existing directory we can write to, or
/// a path whose nearest existing ancestor is one (so it can be created). Nothing is
/// created. `flag` names the option in the message.
pub fn check_out_dir(flag: &str, dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    let mut at = dir;
    // An error other than "not found" on the path itself (permission denied, a loop of
    // symlinks) is only worth reporting if no ancestor explains it.
    let mut first_error = None;
    loop {
        match std::fs::metadata(at) {
            Ok(meta) if meta.is_dir() => break,
            Ok(meta) => {
                let what = describe(meta.file_type());
                return Err(if at == dir {
                    format!("{flag} {shown}: it is {what}, not a directory")
                } else {
                    format!(
                        "{flag} {shown}: {} is {what}, not a directory",
                        at.display()
                    )
                });
            }
            Err(e) => {
                if e.kind() != ErrorKind::NotFound && first_error.is_none() {
                    first_error = Some(e);
                }
                at = match at.parent() {
                    Some(p) if p.as_os_str().is_empty() => Path::new("."),
                    Some(p) => p,
                    None => return Err(format!("{flag} {shown}: no part of it exists")),
                };
            }
        }
    }
    if let Some(e) = first_error {
        return Err(format!("{flag} {shown}: {e}"));
    }
    // Writing is the only honest test of writability (permissions, read-only mounts,
    // quotas); the probe file is removed when dropped.
    tempfile::Builder::new()
        .prefix(".failover-sim-write-check")
        .tempfile_in(at)
        .map(drop)
        .map_err(|e| format!("{flag} {shown}: cannot write in {}: {e}", at.display()))
}

#[cfg(test)]
mod tests {
    use super::check_out_dir;
    use std::path::Path;

    #[test]
    fn directories_and_creatable_paths_pass_anything_else_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(check_out_dir("--out", tmp.path()), Ok(()));
        assert_eq!(check_out_dir("--out", &tmp.path().join("a/b/c")), Ok(()));
        assert!(!tmp.path().join("a").exists(), "nothing is created");
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let e = check_out_dir("--out", &file).unwrap_err();
        assert!(e.ends_with("it is a regular file, not a directory"), "{e}");
        let e = check_out_dir("--out", &file.join("sub")).unwrap_err();
        assert!(
            e.ends_with(&format!(
                "{} is a regular file, not a directory",
                file.display()
            )),
            "{e}"
        );
        let e = check_out_dir("--out", Path::new("/dev/null")).unwrap_err();
        assert_eq!(
            e,
            "--out /dev/null: it is a character device, not a directory"
        );
        assert!(check_out_dir("--out", Path::new("relative/dir")).is_ok());
        let e = check_out_dir("--out", Path::new("/proc/self/new")).unwrap_err();
        assert!(e.contains("cannot write in /proc/self"), "{e}");
    }
}
