//! Shared test helpers: the built binary, a private dockerd, a tiny local image, the fake NVML.
#![allow(dead_code)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn nvctk() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nvctk"));
    c.env("NO_COLOR", "1")
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT");
    c
}

pub fn run_json(cmd: &mut Command) -> (i32, serde_json::Value, Output) {
    let out = cmd.output().expect("run nvctk");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v, out)
}

pub fn check<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id} in report"))
}

pub fn status<'a>(report: &'a serde_json::Value, id: &str) -> &'a str {
    check(report, id)["status"].as_str().unwrap_or("")
}

pub fn fired(report: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = report["checks"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c["status"] == "error" || c["status"] == "warn")
                .filter_map(|c| c["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

/// True when tests needing a real engine can run. Under CI they must: a missing
/// dockerd there is a failure, not a skip.
pub fn dockerd_available() -> bool {
    let ok =
        which("dockerd").is_some() && which("docker").is_some() && unsafe { libc::geteuid() } == 0;
    if !ok && std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but dockerd/docker are missing or not root: install docker.io (see .ci/run)"
        );
    }
    if !ok {
        eprintln!("skipping: needs dockerd, docker and root");
    }
    ok
}

/// A private Docker engine: its own data, exec root, socket and config file.
pub struct Dockerd {
    pub dir: tempfile::TempDir,
    pub sock: PathBuf,
    pub config: PathBuf,
    child: Child,
}

impl Dockerd {
    pub fn start(daemon_json: &str) -> Dockerd {
        // Socket paths must stay under 108 bytes: keep the folder short.
        let dir = tempfile::Builder::new()
            .prefix("nvd")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let d = dir.path();
        let config = d.join("daemon.json");
        std::fs::write(&config, daemon_json).expect("write daemon.json");
        let sock = d.join("s");
        let log = std::fs::File::create(d.join("log")).expect("log");
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("x"))
            .arg("--pidfile")
            .arg(d.join("pid"))
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .arg("--config-file")
            .arg(&config)
            .args(["--iptables=false", "--ip6tables=false", "--bridge=none"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start dockerd");
        let mut me = Dockerd {
            dir,
            sock,
            config,
            child,
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if me.sock.exists() && me.docker(&["version"]).status.success() {
                return me;
            }
            if let Ok(Some(st)) = me.child.try_wait() {
                panic!("dockerd exited ({st}):\n{}", me.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("dockerd did not come up in 60 s:\n{}", me.log());
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.sock.display())
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .arg("-H")
            .arg(self.host())
            .args(args)
            .env_remove("DOCKER_CONTEXT")
            .output()
            .expect("run docker")
    }

    pub fn info(&self) -> serde_json::Value {
        let out = self.docker(&["info", "--format", "{{json .}}"]);
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    }

    pub fn reload(&self) {
        unsafe {
            libc::kill(self.pid(), libc::SIGHUP);
        }
    }

    /// Waits until `pred(info)` holds, as a reload is asynchronous.
    pub fn wait_info(&self, pred: impl Fn(&serde_json::Value) -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if pred(&self.info()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// Imports a busybox-static root as IMAGE (no registry involved).
    pub fn import_busybox(&self, image: &str) {
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .iter()
            .map(Path::new)
            .find(|p| p.exists())
            .expect("busybox-static is needed (apt-get install busybox-static)");
        let root = self.dir.path().join("rootfs");
        std::fs::create_dir_all(root.join("bin")).expect("rootfs");
        std::fs::copy(busybox, root.join("bin/busybox")).expect("copy busybox");
        for app in ["sh", "echo", "cat", "true", "env", "sleep", "ls"] {
            let _ = std::os::unix::fs::symlink("busybox", root.join("bin").join(app));
        }
        let tar = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .args(["-c", "."])
            .output()
            .expect("tar");
        let mut child = Command::new("docker")
            .arg("-H")
            .arg(self.host())
            .args(["import", "-", image])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("docker import");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&tar.stdout)
            .expect("write tar");
        assert!(
            child.wait().expect("import").success(),
            "docker import failed"
        );
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.pid(), libc::SIGTERM);
        }
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An `nvidia` runtime for tests: a shim that records it ran and hands over to runc.
pub fn write_runtime_shim(dir: &Path) -> PathBuf {
    let p = dir.join("nvidia-shim");
    std::fs::write(&p, "#!/bin/sh\nexec runc \"$@\"\n").expect("shim");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

/// Builds the fake libnvidia-ml once per test binary and copies it, as libnvidia-ml.so.1,
/// into `dir` with `config` beside it as fake-nvml.json.
pub fn fake_nvml(dir: &Path, config: &serde_json::Value) -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let so = BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = root.join("target/fake-nvml");
        let st = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--quiet", "--manifest-path"])
            .arg(root.join("fixtures/fake-nvml/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .status()
            .expect("build fake-nvml");
        assert!(st.success(), "building fixtures/fake-nvml failed");
        target.join("release/libnvidia_ml_fake.so")
    });
    std::fs::create_dir_all(dir).expect("dir");
    let lib = dir.join("libnvidia-ml.so.1");
    std::fs::copy(so, &lib).expect("copy fake nvml");
    std::fs::write(dir.join("fake-nvml.json"), config.to_string()).expect("fake-nvml.json");
    lib
}
