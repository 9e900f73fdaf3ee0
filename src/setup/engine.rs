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
