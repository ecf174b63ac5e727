//! Reading an input file without trusting it: a FIFO would block the reader forever,
//! `/dev/zero` never ends, a directory is not text, and a huge file would be read whole
//! into memory. [`read_limited`] refuses anything but a regular file and never reads more
//! than its limit, whatever the file's metadata claims (files under `/proc` say they are
//! empty). The CLI reads its other inputs (sweep.json) the same way.

use std::fs::{File, FileType, Metadata};
use std::io::Read;
use std::path::Path;

/// The largest scenario file [`crate::load`] reads: 4 MiB, room for some 40,000 faults
/// written one table each, far beyond any hand-written or drawn scenario.
pub const SCENARIO_LIMIT: u64 = 4 << 20;

/// What kind of file system object `t` is, for messages: "a directory", "a FIFO", ...
pub fn describe(t: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// `limit` bytes for people: "4 MiB", "256 MiB", "1000 bytes".
pub fn size(limit: u64) -> String {
    if limit >= 1 << 20 && limit.is_multiple_of(1 << 20) {
        format!("{} MiB", limit >> 20)
    } else if limit >= 1 << 10 && limit.is_multiple_of(1 << 10) {
        format!("{} KiB", limit >> 10)
    } else {
        format!("{limit} bytes")
    }
}

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// It could not be opened or read.
    Io(std::io::Error),
    /// It is a directory, a FIFO, a device or a socket: the description.
    NotRegular(&'static str),
    /// It is larger than the limit (its size, when the metadata told it).
    TooLarge { size: Option<u64>, limit: u64 },
}

impl ReadError {
    /// The reason as a sentence about `what` ("the scenario file", "the sweep.json").
    pub fn about(&self, what: &str) -> String {
        match self {
            ReadError::Io(e) => format!("cannot read {what}: {e}"),
            ReadError::NotRegular(kind) => format!("{what} is {kind}, not a regular file"),
            ReadError::TooLarge {
                size: Some(n),
                limit,
            } => format!("{what} is {n} bytes, over the limit of {}", size(*limit)),
            ReadError::TooLarge { size: None, limit } => {
                format!("{what} is over the limit of {}", size(*limit))
            }
        }
    }
}

fn regular(meta: &Metadata) -> Result<(), ReadError> {
    if meta.is_file() {
        Ok(())
    } else {
        Err(ReadError::NotRegular(describe(meta.file_type())))
    }
}

/// The bytes of the regular file at `path`, at most `limit` of them.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    // Checked before opening: opening a FIFO for reading waits for a writer.
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    regular(&meta)?;
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: Some(meta.len()),
            limit,
        });
    }
    let file = open(path).map_err(ReadError::Io)?;
    // Again on the open file: the path may have been swapped since it was checked.
    regular(&file.metadata().map_err(ReadError::Io)?)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { size: None, limit });
    }
    Ok(bytes)
}

/// Opens without blocking, so a FIFO swapped in after the check cannot hang the open.
#[cfg(unix)]
fn open(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// `bytes` as text, or the 1-based line and column (in characters) of the first byte that
/// is not UTF-8, with that byte.
pub fn utf8(bytes: Vec<u8>) -> Result<String, (usize, usize, u8)> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        // Everything before `valid` is UTF-8, so it can be counted in characters.
        let before = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
        let (line, column) = crate::location::line_column(before, before.len());
        (line, column, bytes[valid])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(path: &Path, limit: u64) -> String {
        read_limited(path, limit).unwrap_err().about("the file")
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small.toml");
        std::fs::write(&small, "abc").unwrap();
        assert_eq!(read_limited(&small, 3).unwrap(), b"abc");
        assert_eq!(
            reason(&small, 2),
            "the file is 3 bytes, over the limit of 2 bytes"
        );
        assert_eq!(
            reason(dir.path(), 10),
            "the file is a directory, not a regular file"
        );
        assert_eq!(
            reason(Path::new("/dev/zero"), 10),
            "the file is a character device, not a regular file"
        );
        let e = reason(&dir.path().join("absent"), 10);
        assert!(e.starts_with("cannot read the file: "), "{e}");
    }

    #[test]
    fn a_file_larger_than_its_metadata_says_is_still_cut_at_the_limit() {
        // /proc files report a size of 0.
        assert_eq!(
            reason(Path::new("/proc/self/maps"), 16),
            "the file is over the limit of 16 bytes"
        );
    }

    #[test]
    fn the_first_byte_that_is_not_utf8_is_located() {
        assert_eq!(utf8(b"ok".to_vec()).unwrap(), "ok");
        assert_eq!(
            utf8(b"a\nb\xc3\xa9c\xff".to_vec()).unwrap_err(),
            (2, 4, 0xff)
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(SCENARIO_LIMIT), "4 MiB");
        assert_eq!(size(2048), "2 KiB");
        assert_eq!(size(1000), "1000 bytes");
    }
}
