//! The commands seam: argv → status/stdout/stderr, always with a deadline.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CmdOutput {
    pub argv: Vec<String>,
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CmdError {
    /// The program does not exist (or, in a snapshot, was not recorded).
    NotFound,
    Timeout(Duration),
    Failed(String),
}

pub trait Commands: Send + Sync {
    /// Runs `argv`; `name` is the stable key a snapshot stores it under (commands/NAME.json).
    fn run(&self, name: &str, argv: &[&str]) -> Result<CmdOutput, CmdError>;
}

/// Runs real programs, each killed at its deadline.
pub struct LiveCommands {
    pub deadline: Duration,
    /// Set when inspecting a host mounted elsewhere (`--root`): its programs can't run here.
    pub disabled: bool,
}

impl Commands for LiveCommands {
    fn run(&self, _name: &str, argv: &[&str]) -> Result<CmdOutput, CmdError> {
        if self.disabled {
            return Err(CmdError::NotFound);
        }
        run_with_deadline(argv, self.deadline)
    }
}

pub fn run_with_deadline(argv: &[&str], deadline: Duration) -> Result<CmdOutput, CmdError> {
    let (program, args) = argv.split_first().ok_or(CmdError::NotFound)?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A stable language keeps the texts we parse stable.
        .env("LC_ALL", "C")
        // Its own process group, so a timeout kills what it started too (`sh -c` scripts).
        .process_group(0)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CmdError::NotFound,
            _ => CmdError::Failed(e.to_string()),
        })?;
    // Pipes are drained on their own threads so a chatty child can't block on a full pipe.
    let out = child.stdout.take().map(drain);
    let err = child.stderr.take().map(drain);
    // Waiting happens on its own thread so the answer arrives the moment the child exits;
    // on timeout the child is killed by pid and the waiter thread reaps it.
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(deadline) {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => return Err(CmdError::Failed(e.to_string())),
        Err(_) => {
            // SAFETY: kill(2) on the process group of a child we spawned and have not reaped.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
            return Err(CmdError::Timeout(deadline));
        }
    };
    let collect = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Ok(CmdOutput {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        status: status.code(),
        stdout: collect(out),
        stderr: collect(err),
    })
}

fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// Answers from a snapshot's commands/NAME.json files.
pub struct RecordedCommands {
    pub dir: PathBuf,
}

impl Commands for RecordedCommands {
    fn run(&self, name: &str, _argv: &[&str]) -> Result<CmdOutput, CmdError> {
        let path = self.dir.join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).map_err(|_| CmdError::NotFound)?;
        serde_json::from_str(&text)
            .map_err(|e| CmdError::Failed(format!("{}: {e}", path.display())))
    }
}

/// Wraps another source and keeps every answer, for `snapshot save`.
pub struct RecordingCommands<C> {
    pub inner: C,
    pub seen: Mutex<BTreeMap<String, CmdOutput>>,
}

impl<C: Commands> Commands for RecordingCommands<C> {
    fn run(&self, name: &str, argv: &[&str]) -> Result<CmdOutput, CmdError> {
        let res = self.inner.run(name, argv);
        if let (Ok(out), Ok(mut seen)) = (&res, self.seen.lock()) {
            seen.insert(name.to_string(), out.clone());
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn runs_and_captures_output() {
        let out = run_with_deadline(
            &["sh", "-c", "echo hi; echo err >&2; exit 3"],
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(out.stdout, "hi\n");
        assert_eq!(out.stderr, "err\n");
        assert_eq!(out.status, Some(3));
    }

    #[test]
    fn a_hung_program_costs_its_deadline_only() {
        let start = Instant::now();
        let res = run_with_deadline(&["sleep", "30"], Duration::from_millis(200));
        assert!(matches!(res, Err(CmdError::Timeout(_))));
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_timeout_also_ends_what_the_program_started() {
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("survivor");
        let script = format!("(sleep 1; touch {}) & sleep 30", mark.display());
        let res = run_with_deadline(&["sh", "-c", &script], Duration::from_millis(200));
        assert!(matches!(res, Err(CmdError::Timeout(_))));
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!mark.exists(), "a grandchild outlived the deadline");
    }

    #[test]
    fn a_missing_program_is_not_found() {
        let res = run_with_deadline(&["nvctk-no-such-program"], Duration::from_secs(1));
        assert_eq!(res, Err(CmdError::NotFound));
    }
}
