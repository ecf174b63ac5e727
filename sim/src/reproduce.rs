//! The command lines printed for a person to paste: "reproduce" lines of runs, sweeps and
//! explorations. Every argument is quoted for a POSIX shell (bash, zsh, dash), so a
//! scenario path with spaces, quotes, `$` or bytes that are not UTF-8 still runs the
//! same file when pasted.

use std::ffi::OsStr;

/// `failover-sim run SCENARIO [--seed N]`, quoted.
pub fn run_command(scenario: &OsStr, seed: Option<u64>) -> String {
    let mut line = format!("failover-sim run {}", quote(scenario));
    if let Some(seed) = seed {
        line.push_str(&format!(" --seed {seed}"));
    }
    line
}

/// `arg` as one word of a shell command line: as it is when every byte is plainly safe,
/// in single quotes when it is printable text, and in bash's `$'...'` form (every other
/// byte as `\xHH`) when it holds control characters or bytes that are not UTF-8, which
/// single quotes could not carry through a terminal.
pub fn quote(arg: &OsStr) -> String {
    let bytes = arg.as_encoded_bytes();
    let plain = |b: &u8| b.is_ascii_alphanumeric() || b"_./:=@%+,-".contains(b);
    if !bytes.is_empty() && bytes.iter().all(plain) {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.chars().any(char::is_control) => {
            format!("'{}'", text.replace('\'', r"'\''"))
        }
        _ => {
            let mut out = String::from("$'");
            for &b in bytes {
                match b {
                    b'\\' => out.push_str(r"\\"),
                    b'\'' => out.push_str(r"\'"),
                    // An interactive bash may expand `!` even here; as `\x21` it cannot.
                    b'!' => out.push_str(r"\x21"),
                    0x20..=0x7e => out.push(char::from(b)),
                    _ => out.push_str(&format!("\\x{b:02x}")),
                }
            }
            out.push('\'');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn bash_echo(word: &str) -> Vec<u8> {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("printf %s {word}"))
            .output()
            .expect("bash runs");
        assert!(out.status.success(), "{word}");
        out.stdout
    }

    #[test]
    fn every_argument_survives_a_round_trip_through_bash() {
        let cases: Vec<Vec<u8>> = vec![
            b"scenarios/a.toml".to_vec(),
            b"my scenario.toml".to_vec(),
            b"it's \"quoted\".toml".to_vec(),
            b"$HOME/`id`/$(id).toml".to_vec(),
            b"tab\tnew\nline\x1b[2J.toml".to_vec(),
            b"back\\slash'\\x41.toml".to_vec(),
            b"not-utf8-\xff\xfe.toml".to_vec(),
            b"".to_vec(),
            "é.toml".as_bytes().to_vec(),
            b"!history*?[a].toml".to_vec(),
            b"!bang\x01.toml".to_vec(),
        ];
        for case in cases {
            let arg = unix_os_str(&case);
            let quoted = quote(arg);
            assert!(
                !quoted.contains('\n') && !quoted.contains('\x1b'),
                "{quoted}"
            );
            assert_eq!(bash_echo(&quoted), case, "{quoted}");
        }
    }

    #[test]
    fn plain_paths_stay_as_they_are() {
        assert_eq!(
            run_command(OsStr::new("scenarios/master-machine-crash.toml"), Some(7)),
            "failover-sim run scenarios/master-machine-crash.toml --seed 7"
        );
        assert_eq!(
            run_command(OsStr::new("a b.toml"), None),
            "failover-sim run 'a b.toml'"
        );
    }

    fn unix_os_str(bytes: &[u8]) -> &OsStr {
        use std::os::unix::ffi::OsStrExt;
        OsStr::from_bytes(bytes)
    }
}
