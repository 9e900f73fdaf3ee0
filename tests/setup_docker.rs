//! `nvctk setup docker` against a real private dockerd (see tests/common): the runtime is
//! registered in the file that engine reads, the engine reports it, containers run with
//! it, and every failure leaves the user's file as it was.

mod common;

use common::{Dockerd, dockerd_available, nvctk};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// A daemon.json with the user's own settings and layout, which must survive untouched.
const ORIGINAL: &str = "{\n  \"log-level\": \"info\",\n  \"labels\": [\"team=ml\"]\n}\n";

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn setup(d: &Dockerd, args: &[&str]) -> Output {
    nvctk()
        .env("DOCKER_HOST", d.host())
        .env_remove("NVCTK_RESTART_COMMAND")
        .args(["setup", "docker"])
        .args(args)
        .output()
        .expect("run nvctk")
}

/// A runtime shim that leaves a trace each time the engine calls it, then runs runc.
fn tracing_shim(dir: &Path) -> (PathBuf, PathBuf) {
    let shim = dir.join("nvidia-shim");
    let trace = dir.join("shim.trace");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\necho \"$@\" >> {}\nexec runc \"$@\"\n",
            trace.display()
        ),
    )
    .expect("shim");
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (shim, trace)
}

fn files_beside(config: &Path, tag: &str) -> Vec<PathBuf> {
    let dir = config.parent().expect("dir");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(tag))
        .collect();
    v.sort();
    v
}

fn runtimes(info: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = info["Runtimes"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// The "init system" of a private dockerd: a script that stops it (pidfile) and starts it
/// again with the same command line plus the flags in `extra`, as a unit file edited
/// since the engine started would. nvctk runs it through NVCTK_RESTART_COMMAND.
struct Restarter {
    script: PathBuf,
    extra: PathBuf,
    pidfile: PathBuf,
    first_pid: i32,
}

impl Restarter {
    fn new(d: &Dockerd) -> Restarter {
        let dir = d.dir.path();
        let argv: Vec<String> = std::fs::read_to_string(format!("/proc/{}/cmdline", d.pid()))
            .expect("cmdline")
            .split('\0')
            .filter(|a| !a.is_empty())
            .map(|a| format!("'{a}'"))
            .collect();
        let pidfile = dir.join("pid");
        let extra = dir.join("extra-flags");
        let script = dir.join("restart.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n\
                 pid=$(cat {pf} 2>/dev/null)\n\
                 if [ -n \"$pid\" ]; then\n\
                 \x20 kill -TERM \"$pid\" 2>/dev/null\n\
                 \x20 i=0\n\
                 \x20 while [ -e /proc/$pid ] && ! grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n\
                 fi\n\
                 setsid {argv} $(cat {extra} 2>/dev/null) >> {log} 2>&1 < /dev/null &\n",
                pf = pidfile.display(),
                argv = argv.join(" "),
                extra = extra.display(),
                log = dir.join("log").display(),
            ),
        )
        .expect("restart script");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Restarter {
            script,
            extra,
            pidfile,
            first_pid: d.pid(),
        }
    }

    fn current_pid(&self) -> Option<i32> {
        std::fs::read_to_string(&self.pidfile)
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Restarter {
    /// Stops a dockerd the script started (the harness only knows the first one).
    fn drop(&mut self) {
        let Some(pid) = self.current_pid().filter(|p| *p != self.first_pid) else {
            return;
        };
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let start = Instant::now();
        while Path::new(&format!("/proc/{pid}")).exists()
            && start.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn registers_the_runtime_by_reload_runs_a_container_and_a_second_run_is_a_no_op() {
    if !dockerd_available() {
        return;
    }
    let d = Dockerd::start(ORIGINAL);
    let (shim, trace) = tracing_shim(d.dir.path());
    let shim_s = shim.to_string_lossy().into_owned();

    // --dry-run shows the diff and writes nothing.
    let out = setup(&d, &["--runtime-path", &shim_s, "--dry-run"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let config = d.config.display().to_string();
    assert!(
        stdout.contains(&format!("--- {config}\n+++ {config}\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("+      \"path\": \"{shim_s}\"")),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(&d.config).unwrap(), ORIGINAL);
    assert!(files_beside(&d.config, "nvctk-backup").is_empty());

    // The real run finds the file from dockerd's --config-file, writes it, reloads.
    let out = setup(&d, &["--runtime-path", &shim_s]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("(--config-file in running dockerd)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("SIGHUP to pid {}", d.pid())),
        "{stdout}"
    );
    let written = std::fs::read_to_string(&d.config).unwrap();
    assert_eq!(
        written,
        format!(
            "{{\n  \"log-level\": \"info\",\n  \"labels\": [\"team=ml\"],\n  \"runtimes\": {{\n    \"nvidia\": {{\n      \"args\": [],\n      \"path\": \"{shim_s}\"\n    }}\n  }}\n}}\n"
        )
    );
    let backups = files_beside(&d.config, "nvctk-backup");
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), ORIGINAL);
    assert!(files_beside(&d.config, "nvctk-tmp").is_empty());

    // Same engine process (no restart), which now reports the runtime; default unchanged.
    let info = d.info();
    // (dockerd 20.10 drops its io.containerd.* aliases from the list on reload.)
    let names = runtimes(&info);
    assert!(
        names.contains(&"nvidia".to_string()) && names.contains(&"runc".to_string()),
        "{names:?}"
    );
    assert_eq!(info["Runtimes"]["nvidia"]["path"], shim_s.as_str());
    assert_eq!(info["DefaultRuntime"], "runc");
    assert!(d.docker(&["version"]).status.success());
    // doctor's Docker checks, shown after setup, pass.
    assert!(
        stdout.contains("doctor: Docker, toolkit and CDI checks"),
        "{stdout}"
    );
    assert!(stdout.contains("no Docker or toolkit problems"), "{stdout}");

    // A container runs through the runtime.
    d.import_busybox("nvctk-bb");
    let run = d.docker(&[
        "run",
        "--rm",
        "--runtime",
        "nvidia",
        "nvctk-bb",
        "echo",
        "hello-gpu",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), "hello-gpu");
    assert!(
        std::fs::read_to_string(&trace)
            .unwrap_or_default()
            .contains("create")
    );

    // A second run changes nothing, and says so.
    let out = setup(&d, &["--runtime-path", &shim_s]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("nothing to change"), "{stdout}");
    assert!(stdout.contains("the engine already reports it"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&d.config).unwrap(), written);
    assert_eq!(files_beside(&d.config, "nvctk-backup").len(), 1);
}

#[test]
fn set_as_default_asks_first_then_the_engine_reports_nvidia_and_undo_restores() {
    if !dockerd_available() {
        return;
    }
    let d = Dockerd::start(ORIGINAL);
    let r = Restarter::new(&d);
    let shim = common::write_runtime_shim(d.dir.path());
    let shim_s = shim.to_string_lossy().into_owned();

    // Not confirmed (stdin is no terminal, no --yes): refused, file untouched.
    let out = setup(&d, &["--runtime-path", &shim_s, "--set-as-default"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("warning: default-runtime nvidia"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: not confirmed; nothing was changed"),
        "{stderr}"
    );
    assert!(stderr.contains("--set-as-default --yes"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&d.config).unwrap(), ORIGINAL);

    let out = setup(
        &d,
        &[
            "--runtime-path",
            &shim_s,
            "--set-as-default",
            "--yes",
            "--format",
            "json",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["result"], "done");
    assert_eq!(report["changed"], true);
    assert!(
        report["diff"]
            .as_str()
            .unwrap()
            .contains("+  \"default-runtime\": \"nvidia\",")
    );
    assert_eq!(d.info()["DefaultRuntime"], "nvidia");
    // Reloaded, not restarted.
    assert_eq!(r.current_pid(), Some(d.pid()));

    // --undo puts the newest backup back; taking default-runtime out needs a restart
    // (dockerd keeps an unset key's old value on reload), which nvctk does.
    let out = nvctk()
        .env("DOCKER_HOST", d.host())
        .env("NVCTK_RESTART_COMMAND", &r.script)
        .args(["setup", "docker", "--undo", "--timeout", "60"])
        .output()
        .expect("run");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("restarting the engine"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&d.config).unwrap(), ORIGINAL);
    assert!(files_beside(&d.config, "nvctk-backup").is_empty());
    assert_eq!(files_beside(&d.config, "nvctk-undone").len(), 1);
    let info = d.info();
    assert_eq!(info["DefaultRuntime"], "runc");
    assert!(!runtimes(&info).contains(&"nvidia".to_string()));
    assert_ne!(r.current_pid(), Some(d.pid()));
}

#[test]
fn invalid_daemon_json_is_refused_with_line_and_column_and_left_byte_identical() {
    if !dockerd_available() {
        return;
    }
    let d = Dockerd::start(ORIGINAL);
    // The user breaks the file while the engine runs (it keeps its loaded config).
    let broken = b"{\n  \"log-level\": \"info\"\n  \"debug\": true\n}\n";
    std::fs::write(&d.config, broken).unwrap();
    let shim = common::write_runtime_shim(d.dir.path());
    let out = setup(&d, &["--runtime-path", &shim.to_string_lossy()]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("error: {}:3:3:", d.config.display())),
        "{stderr}"
    );
    assert!(stderr.contains("hint: fix line 3"), "{stderr}");
    assert_eq!(std::fs::read(&d.config).unwrap(), broken);
    assert!(
        files_beside(&d.config, "nvctk-")
            .iter()
            .all(|p| p.to_string_lossy().ends_with(".nvctk.lock"))
    );
    assert!(!runtimes(&d.info()).contains(&"nvidia".to_string()));
}

#[test]
fn a_change_the_engine_cannot_start_with_is_rolled_back_and_the_engine_is_healthy() {
    if !dockerd_available() {
        return;
    }
    let d = Dockerd::start(ORIGINAL);
    let r = Restarter::new(&d);
    let shim = common::write_runtime_shim(d.dir.path());
    let shim_s = shim.to_string_lossy().into_owned();
    // Since the engine started, its "unit" gained --default-runtime (a stale drop-in):
    // the next start sees default-runtime both as a flag and in daemon.json, and dockerd
    // refuses to start. nvctk cannot see this coming from the running process.
    std::fs::write(&r.extra, "--default-runtime runc\n").unwrap();

    let started = Instant::now();
    let out = nvctk()
        .env("DOCKER_HOST", d.host())
        .env("NVCTK_RESTART_COMMAND", &r.script)
        .args([
            "setup",
            "docker",
            "--runtime-path",
            &shim_s,
            "--set-as-default",
            "--yes",
            "--restart",
            "--timeout",
            "15",
        ])
        .output()
        .expect("run");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("✗ the engine did not take the change: the engine does not answer"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "✓ rolled back: restored {} from",
            d.config.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("✓ the engine is healthy again"), "{stdout}");
    assert!(started.elapsed() < Duration::from_secs(60));
    // dockerd really refused the changed file.
    assert!(
        d.log()
            .contains("specified both as a flag and in the configuration file: default-runtime"),
        "{}",
        d.log()
    );
    // The file is the user's again, byte for byte, with no backup or temp left over.
    assert_eq!(std::fs::read_to_string(&d.config).unwrap(), ORIGINAL);
    assert!(files_beside(&d.config, "nvctk-backup").is_empty());
    assert!(files_beside(&d.config, "nvctk-tmp").is_empty());
    // A new dockerd serves the socket and answers.
    assert_ne!(r.current_pid(), Some(d.pid()));
    let info = d.info();
    assert_eq!(info["DefaultRuntime"], "runc");

    // Now the flag is on the running process: nvctk refuses up front and names it.
    let out = setup(
        &d,
        &["--runtime-path", &shim_s, "--set-as-default", "--yes"],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "error: `default-runtime` is already set as a dockerd flag in running dockerd"
        ),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&d.config).unwrap(), ORIGINAL);
}

#[test]
fn two_concurrent_setups_leave_one_valid_file() {
    if !dockerd_available() {
        return;
    }
    let d = Dockerd::start(ORIGINAL);
    let shim = common::write_runtime_shim(d.dir.path());
    let shim_s = shim.to_string_lossy().into_owned();
    let spawn = || {
        nvctk()
            .env("DOCKER_HOST", d.host())
            .args(["setup", "docker", "--runtime-path", &shim_s])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for o in [&a, &b] {
        let (stdout, stderr) = text(o);
        assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&d.config).unwrap()).expect("valid JSON");
    assert_eq!(doc["runtimes"]["nvidia"]["path"], shim_s.as_str());
    assert_eq!(doc["log-level"], "info");
    assert_eq!(doc.as_object().unwrap().len(), 3);
    // Exactly one of them wrote (one backup, of the original); nothing half-written.
    let backups = files_beside(&d.config, "nvctk-backup");
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), ORIGINAL);
    assert!(files_beside(&d.config, "nvctk-tmp").is_empty());
    assert!(runtimes(&d.info()).contains(&"nvidia".to_string()));
}

#[test]
fn a_non_root_user_gets_the_sudo_line_and_the_file_is_untouched() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: needs root to run nvctk as another user");
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("nvctk-nr")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = dir.path().join("daemon.json");
    std::fs::write(&config, ORIGINAL).unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = nvctk()
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no-engine.sock", dir.path().display()),
        )
        .env("HOME", dir.path())
        .args(["setup", "docker", "--runtime-path", "/bin/sh", "--config"])
        .arg(&config)
        .uid(65534)
        .gid(65534)
        .output()
        .expect("run");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("error: writing {} needs root\nhint: sudo nvctk setup docker --runtime-path /bin/sh --config {}", config.display(), config.display())),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), ORIGINAL);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_missing_toolkit_gets_the_install_commands_and_nothing_changes() {
    if !dockerd_available() {
        return;
    }
    let d = Dockerd::start(ORIGINAL);
    let out = setup(&d, &["--runtime-path", "nvctk-no-such-runtime"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("error: nvctk-no-such-runtime is not installed"),
        "{stderr}"
    );
    // The distro's own package manager, from NVIDIA's repository.
    assert!(
        stderr.contains("install -y nvidia-container-toolkit"),
        "{stderr}"
    );
    assert!(
        stderr.contains("https://nvidia.github.io/libnvidia-container"),
        "{stderr}"
    );
    assert!(stderr.contains("--install-toolkit"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&d.config).unwrap(), ORIGINAL);
}

/// A stopped engine behind a non-default endpoint may read any file: setup must not guess
/// (it used to fall back to /etc/docker/daemon.json, the system engine's file).
#[test]
fn a_stopped_engine_elsewhere_is_not_configured_blind() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("dead.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    let etc_before = std::fs::read("/etc/docker/daemon.json").ok();
    let out = nvctk()
        .args(["setup", "docker", "--yes"])
        .env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is not running, so nvctk cannot tell which daemon.json it reads"),
        "{err}"
    );
    assert!(err.contains("--config PATH"), "{err}");
    assert_eq!(
        std::fs::read("/etc/docker/daemon.json").ok(),
        etc_before,
        "the system file was touched"
    );
}

/// `--undo` after the file was edited by hand: restoring the backup would drop those edits,
/// so only what nvctk added is taken out.
#[test]
fn undo_keeps_hand_edits_made_since_the_change() {
    if !dockerd_available() {
        return;
    }
    let d = Dockerd::start(ORIGINAL);
    let r = Restarter::new(&d);
    let shim = common::write_runtime_shim(d.dir.path());
    let shim_s = shim.to_string_lossy().into_owned();
    let out = setup(&d, &["--runtime-path", &shim_s]);
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    // The admin adds a setting by hand.
    let edited =
        std::fs::read_to_string(&d.config)
            .unwrap()
            .replacen('{', "{\n  \"debug\": true,", 1);
    std::fs::write(&d.config, &edited).unwrap();

    let out = nvctk()
        .env("DOCKER_HOST", d.host())
        .env("NVCTK_RESTART_COMMAND", &r.script)
        .args(["setup", "docker", "--undo", "--yes", "--timeout", "60"])
        .output()
        .expect("run");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("was edited since nvctk's change"),
        "{stderr}"
    );
    let now: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&d.config).unwrap()).unwrap();
    assert_eq!(now["debug"], true, "the hand edit stays");
    assert!(
        now.get("runtimes").is_none(),
        "nvctk's runtime is gone: {now}"
    );
    assert!(!runtimes(&d.info()).contains(&"nvidia".to_string()));
}
