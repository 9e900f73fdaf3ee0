//! Making the engine read the new file: SIGHUP when that is enough, a restart through the
//! init system when asked or needed, then the Engine API's own answer as the proof.

use super::locate::EngineKind;
use crate::host::Host;
use crate::host::command::{CmdError, run_with_deadline};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Environment variable naming a shell command that restarts the engine, for tests and
/// for init systems nvctk does not know (same as `--restart-command`).
pub const RESTART_ENV: &str = "NVCTK_RESTART_COMMAND";

/// The dockerd process serving the endpoint: found through /proc (matched on `-H`), else
/// its pidfile.
pub fn dockerd_pid(host: &Host, kind: EngineKind) -> Option<i32> {
    let endpoint = host.engine.endpoint().url;
    if let Some((pid, _)) = crate::probe::docker::running_dockerd_process(host, &endpoint) {
        return Some(pid);
    }
    let pidfile = match kind {
        EngineKind::Rootless => format!("{}/docker.pid", host.env.get("XDG_RUNTIME_DIR")?),
        _ if endpoint == "unix:///var/run/docker.sock" => "/var/run/docker.pid".to_string(),
        _ => return None,
    };
    let pid: i32 = host.fs.read_quiet(&pidfile)?.trim().parse().ok()?;
    // Only a live dockerd, never a stale pidfile's recycled pid.
    let comm = host.fs.read_quiet(&format!("/proc/{pid}/comm"))?;
    (comm.trim() == "dockerd").then_some(pid)
}

/// Asks dockerd to re-read its configuration.
pub fn reload(pid: i32) -> Result<(), String> {
    // SAFETY: kill(2) with a pid read from /proc and a plain signal number.
    if unsafe { libc::kill(pid, libc::SIGHUP) } != 0 {
        return Err(format!(
            "could not send SIGHUP to dockerd (pid {pid}): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// The command that restarts this engine.
pub fn restart_argv(
    host: &Host,
    kind: EngineKind,
    custom: Option<&str>,
) -> Result<Vec<String>, String> {
    if let Some(cmd) = custom.filter(|c| !c.trim().is_empty()) {
        return Ok(vec!["sh".into(), "-c".into(), cmd.to_string()]);
    }
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Ok(match kind {
        EngineKind::Rootless => v(&["systemctl", "--user", "restart", "docker"]),
        EngineKind::Snap => v(&["snap", "restart", "docker"]),
        EngineKind::Desktop => {
            return Err("Docker Desktop is restarted from its own menu (Restart)".into());
        }
        EngineKind::Rootful => {
            if host.fs.exists("/run/systemd/system") {
                v(&["systemctl", "restart", "docker"])
            } else if host.fs.which("service").is_some() {
                v(&["service", "docker", "restart"])
            } else if host.fs.which("rc-service").is_some() {
                v(&["rc-service", "docker", "restart"])
            } else {
                return Err(format!(
                    "no init system nvctk knows (systemd, service, rc-service) manages dockerd here; restart it yourself, or name the command with --restart-command or {RESTART_ENV}"
                ));
            }
        }
    })
}

pub fn run_restart(argv: &[String], deadline: Duration) -> Result<(), String> {
    let args: Vec<&str> = argv.iter().map(String::as_str).collect();
    let shown = argv.join(" ");
    match run_with_deadline(&args, deadline) {
        Ok(out) if out.status == Some(0) => Ok(()),
        Ok(out) => {
            let said = [out.stderr.trim(), out.stdout.trim()]
                .into_iter()
                .find(|t| !t.is_empty())
                .unwrap_or("it printed nothing");
            Err(format!(
                "`{shown}` failed (exit {}): {said}",
                out.status.map_or("signal".to_string(), |s| s.to_string()),
            ))
        }
        Err(CmdError::NotFound) => Err(format!("`{shown}`: program not found")),
        Err(CmdError::Timeout(d)) => Err(format!("`{shown}` did not finish in {} s", d.as_secs())),
        Err(CmdError::Failed(m)) => Err(format!("`{shown}`: {m}")),
    }
}

/// Polls `GET /info` until `check` accepts it or the deadline passes. The error is the
/// last thing seen: the engine's silence, or `check`'s complaint.
pub fn wait_for(
    host: &Host,
    deadline: Duration,
    check: impl Fn(&Value) -> Result<(), String>,
) -> Result<Value, String> {
    let start = Instant::now();
    let mut last;
    loop {
        match host.engine.get_json("/info") {
            Ok(info) => match check(&info) {
                Ok(()) => return Ok(info),
                Err(e) => last = e,
            },
            Err(e) => last = format!("the engine does not answer: {}", e.message),
        }
        if start.elapsed() >= deadline {
            return Err(last);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A short description of what the engine now reports, for the report.
pub fn describe(info: &Value) -> String {
    let mut names: Vec<&str> = info
        .get("Runtimes")
        .and_then(|r| r.as_object())
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    names.sort();
    format!(
        "runtimes {}; default {}",
        names.join(", "),
        info.get("DefaultRuntime")
            .and_then(|d| d.as_str())
            .unwrap_or("runc")
    )
}

/// What `dockerd --validate` (Docker 23 and newer) says of a configuration.
#[derive(Debug, PartialEq)]
pub enum Validation {
    Valid,
    Invalid(String),
    /// This dockerd has no --validate (or none is installed): nothing to learn.
    Unavailable,
}

/// Asks the installed dockerd whether it would accept `text` as its configuration, before
/// the file is written: the Engine API cannot tell a rejected reload from an old success.
pub fn validate_with_dockerd(dockerd: &str, text: &[u8], deadline: Duration) -> Validation {
    let Ok(mut tmp) = tempfile::Builder::new()
        .prefix("nvctk-daemon-")
        .suffix(".json")
        .tempfile()
    else {
        return Validation::Unavailable;
    };
    if std::io::Write::write_all(&mut tmp, text).is_err() {
        return Validation::Unavailable;
    }
    let path = tmp.path().to_string_lossy().into_owned();
    match run_with_deadline(&[dockerd, "--validate", "--config-file", &path], deadline) {
        Ok(out) if out.status == Some(0) => Validation::Valid,
        Ok(out) => {
            let said = format!("{}{}", out.stderr, out.stdout);
            // Older dockerd: `unknown flag: --validate`.
            if said.contains("unknown flag") {
                Validation::Unavailable
            } else {
                let line = said
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or("dockerd refused the configuration")
                    .replace(&path, "the new daemon.json");
                Validation::Invalid(line)
            }
        }
        Err(_) => Validation::Unavailable,
    }
}

#[cfg(test)]
mod validate_tests {
    use super::*;

    #[test]
    fn dockerd_validate_answers_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("dockerd");
        // Stands in for a dockerd 23+: refuses a file that mentions "bogus".
        std::fs::write(
            &fake,
            "#!/bin/sh\nif grep -q bogus \"$3\"; then echo \"unable to configure the Docker daemon with file $3: the following directives don't match any configuration option: bogus\" >&2; exit 1; fi\necho configuration OK\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let f = fake.to_string_lossy().to_string();
        let d = Duration::from_secs(5);
        assert_eq!(validate_with_dockerd(&f, b"{}", d), Validation::Valid);
        match validate_with_dockerd(&f, b"{\"bogus\": 1}", d) {
            Validation::Invalid(m) => {
                assert!(
                    m.contains("don't match any configuration option: bogus"),
                    "{m}"
                );
                assert!(m.contains("the new daemon.json"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        // The real dockerd 20.10 here has no --validate.
        if std::path::Path::new("/usr/sbin/dockerd").exists() {
            let v = validate_with_dockerd("/usr/sbin/dockerd", b"{}", d);
            assert!(
                matches!(v, Validation::Valid | Validation::Unavailable),
                "{v:?}"
            );
        }
        assert_eq!(
            validate_with_dockerd("/nonexistent/dockerd", b"{}", d),
            Validation::Unavailable
        );
    }
}
