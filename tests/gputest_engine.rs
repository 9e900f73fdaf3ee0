//! `nvctk test` against a real private dockerd: runtime `nvidia` is a shim over runc, and
//! the images are busybox trees whose tools print captured real outputs.

mod common;
use common::*;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CUDA_TAG: &str = "12.4.1-base-ubuntu22.04";

fn sample(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/gputest")
            .join(name),
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A shim `nvidia` runtime: like the toolkit's, it refuses a container whose
/// NVIDIA_REQUIRE_CUDA asks for more than CUDA 12.4; otherwise it hands over to runc.
fn write_strict_shim(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("nvidia-shim");
    std::fs::write(
        &p,
        r#"#!/bin/sh
b=""; log=""; prev=""
for a in "$@"; do
  [ "$prev" = "--bundle" ] && b="$a"
  [ "$prev" = "--log" ] && log="$a"
  prev="$a"
done
if [ -n "$b" ] && grep -q 'NVIDIA_REQUIRE_CUDA=cuda[^"]*12\.8' "$b/config.json" 2>/dev/null; then
  msg='nvidia-container-cli: requirement error: unsatisfied condition: cuda>=12.8, please update your driver to a newer version, or use an earlier cuda container: unknown'
  [ -n "$log" ] && printf '{"level":"error","msg":"%s","time":"2025-01-01T00:00:00Z"}\n' "$msg" >> "$log"
  echo "$msg" >&2
  exit 1
fi
exec runc "$@"
"#,
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn engine_with_shim() -> Dockerd {
    let shim_dir = tempfile::Builder::new()
        .prefix("nvs")
        .tempdir_in("/tmp")
        .unwrap()
        .keep();
    let shim = write_strict_shim(&shim_dir);
    Dockerd::start(&json!({"runtimes": {"nvidia": {"path": shim}}}).to_string())
}

/// Imports a busybox tree plus `files` (path, content, executable) as `image`.
fn tool_image(d: &Dockerd, image: &str, files: &[(&str, String, bool)], changes: &[&str]) {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
        .expect("busybox-static");
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("bin")).unwrap();
    std::fs::create_dir_all(r.join("tmp")).unwrap();
    std::fs::copy(busybox, r.join("bin/busybox")).unwrap();
    for app in ["sh", "cat", "ls", "head", "echo", "sleep", "true", "grep"] {
        std::os::unix::fs::symlink("busybox", r.join("bin").join(app)).unwrap();
    }
    for (path, content, exec) in files {
        let f = r.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, content).unwrap();
        if *exec {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let tar = Command::new("tar")
        .arg("-C")
        .arg(r)
        .args(["-c", "."])
        .output()
        .unwrap();
    let mut args = vec!["-H".to_string(), d.host(), "import".into()];
    for c in changes {
        args.push("--change".into());
        args.push(c.to_string());
    }
    args.push("-".into());
    args.push(image.into());
    let mut child = Command::new("docker")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
    assert!(child.wait().unwrap().success(), "docker import {image}");
}

/// A tool that prints a captured output (and exits with `code`).
fn printer(sample_name: &str, code: i32) -> String {
    format!(
        "#!/bin/sh\ncat <<'EOF_SAMPLE'\n{}EOF_SAMPLE\nexit {code}\n",
        sample(sample_name)
    )
}

fn nvidia_smi_script() -> String {
    format!(
        "#!/bin/sh\nif [ \"$1\" = \"-L\" ]; then\n  echo 'GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-3c7a9f12-8e51-0b4d-2a6c-91f0d3e7b845)'\n  exit 0\nfi\ncat <<'EOF_SAMPLE'\n{}EOF_SAMPLE\n",
        sample("nvidia-smi.txt")
    )
}

/// The catalog's images, faked: nvidia/cuda carries nvidia-smi and the codec libraries the
/// toolkit would inject; the graphics and OpenCL images print NVIDIA outputs.
fn catalog_images(d: &Dockerd) {
    let libs = |v: &mut Vec<(&str, String, bool)>| {
        v.push((
            "/usr/lib/x86_64-linux-gnu/libnvidia-encode.so.1",
            String::new(),
            false,
        ));
        v.push((
            "/usr/lib/x86_64-linux-gnu/libnvcuvid.so.1",
            String::new(),
            false,
        ));
    };
    let mut cuda = vec![("/usr/bin/nvidia-smi", nvidia_smi_script(), true)];
    libs(&mut cuda);
    tool_image(
        d,
        &format!("nvidia/cuda:{CUDA_TAG}"),
        &cuda,
        &["ENV PATH=/usr/bin:/bin"],
    );
    let env = ["ENV PATH=/usr/bin:/bin"];
    tool_image(
        d,
        "nvidia/opengl:1.2-glvnd-runtime-ubuntu22.04",
        &[("/usr/bin/eglinfo", printer("eglinfo-nvidia.txt", 0), true)],
        &env,
    );
    tool_image(
        d,
        "nvidia/vulkan:1.3-470",
        &[(
            "/usr/bin/vulkaninfo",
            printer("vulkaninfo-nvidia.txt", 0),
            true,
        )],
        &env,
    );
    tool_image(
        d,
        "nvidia/opencl:devel-ubuntu20.04",
        &[("/usr/bin/clinfo", printer("clinfo-nvidia.txt", 0), true)],
        &env,
    );
}

fn test_cmd(d: &Dockerd, args: &[&str]) -> Command {
    let mut c = nvctk();
    c.env("DOCKER_HOST", d.host())
        .env("NVCTK_NVML_LIB", "/nonexistent/libnvidia-ml.so.1")
        .arg("test")
        .args(args);
    c
}

fn leftovers(d: &Dockerd) -> Vec<String> {
    let out = d.docker(&["ps", "-aq", "--filter", "label=nvctk.test"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn result<'a>(v: &'a Value, api: &str) -> &'a Value {
    v["results"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["api"] == api))
        .unwrap_or_else(|| panic!("no result for {api} in {v}"))
}

#[test]
fn every_api_passes_concurrently_with_the_catalog_images_and_nothing_is_left() {
    if !dockerd_available() {
        return;
    }
    let d = engine_with_shim();
    catalog_images(&d);
    let (code, v, out) = run_json(&mut test_cmd(
        &d,
        &[
            "--api", "all", "--mode", "runtime", "--pull", "never", "--format", "json",
        ],
    ));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code, 0, "{v:#}\n{stderr}");
    assert_eq!(v["status"], "pass");
    for api in ["cuda", "opengl", "vulkan", "opencl", "video"] {
        let r = result(&v, api);
        assert_eq!(r["verdict"], "pass", "{api}: {r}");
        assert_eq!(r["device"], "NVIDIA GeForce RTX 4090", "{api}");
        assert_eq!(r["mode"], "runtime");
    }
    assert_eq!(
        result(&v, "cuda")["image"],
        format!("nvidia/cuda:{CUDA_TAG}")
    );
    assert_eq!(result(&v, "vulkan")["image"], "nvidia/vulkan:1.3-470");
    assert!(
        leftovers(&d).is_empty(),
        "containers left: {:?}",
        leftovers(&d)
    );

    // The human table, and JUnit with one testcase per API.
    let out = test_cmd(
        &d,
        &[
            "--api",
            "cuda,vulkan",
            "--mode",
            "runtime",
            "--pull",
            "never",
        ],
    )
    .output()
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("API"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("[✓] vulkan")
            && l.contains("nvidia/vulkan:1.3-470")
            && l.contains("runtime")
            && l.contains("NVIDIA GeForce RTX 4090")),
        "{text}"
    );
    let out = test_cmd(
        &d,
        &[
            "--api", "all", "--mode", "runtime", "--pull", "never", "--format", "junit",
        ],
    )
    .output()
    .unwrap();
    let xml = String::from_utf8_lossy(&out.stdout);
    assert_eq!(xml.matches("<testcase ").count(), 5, "{xml}");
    assert!(xml.contains("failures=\"0\""));
    assert!(leftovers(&d).is_empty());
}

#[test]
fn software_renderers_fail_with_the_cause() {
    if !dockerd_available() {
        return;
    }
    let d = engine_with_shim();
    tool_image(
        &d,
        "fake/vulkan-llvmpipe",
        &[(
            "/usr/bin/vulkaninfo",
            printer("vulkaninfo-llvmpipe.txt", 0),
            true,
        )],
        &["ENV PATH=/usr/bin:/bin"],
    );
    tool_image(
        &d,
        "fake/egl-llvmpipe",
        &[("/usr/bin/eglinfo", printer("eglinfo-llvmpipe.txt", 0), true)],
        &["ENV PATH=/usr/bin:/bin"],
    );
    let (code, v, _) = run_json(&mut test_cmd(
        &d,
        &[
            "--api",
            "vulkan",
            "--mode",
            "runtime",
            "--image",
            "fake/vulkan-llvmpipe",
            "--format",
            "json",
        ],
    ));
    assert_eq!(code, 1, "{v:#}");
    let r = result(&v, "vulkan");
    assert_eq!(r["verdict"], "fail");
    assert_eq!(r["device"], "llvmpipe (LLVM 15.0.7, 256 bits)");
    assert!(
        r["cause"]
            .as_str()
            .unwrap()
            .starts_with("only a software renderer answered (llvmpipe"),
        "{r}"
    );
    assert!(r["fix"].as_str().unwrap().contains("graphics"));
    let (code, v, _) = run_json(&mut test_cmd(
        &d,
        &[
            "--api",
            "opengl",
            "--mode",
            "runtime",
            "--image",
            "fake/egl-llvmpipe",
            "--format",
            "json",
        ],
    ));
    assert_eq!(code, 1);
    assert!(
        result(&v, "opengl")["cause"]
            .as_str()
            .unwrap()
            .contains("software renderer answered (llvmpipe")
    );
    assert!(leftovers(&d).is_empty());
}

#[test]
fn engine_errors_map_to_doctor_check_ids() {
    if !dockerd_available() {
        return;
    }
    let d = engine_with_shim();
    d.import_busybox("bb");
    let smi = [("/usr/bin/nvidia-smi", nvidia_smi_script(), true)];
    tool_image(
        &d,
        "fake/cuda-12.8",
        &smi,
        &[
            "ENV PATH=/usr/bin:/bin",
            "ENV NVIDIA_REQUIRE_CUDA=cuda>=12.8",
        ],
    );
    tool_image(
        &d,
        "fake/nvml-unknown",
        &[(
            "/usr/bin/nvidia-smi",
            printer("nvidia-smi-nvml-unknown-error.txt", 255),
            true,
        )],
        &["ENV PATH=/usr/bin:/bin"],
    );
    let id = |args: &[&str]| -> (i32, Value) {
        let mut a = vec!["--api", "cuda", "--format", "json"];
        a.extend_from_slice(args);
        let (code, v, _) = run_json(&mut test_cmd(&d, &a));
        (code, result(&v, "cuda").clone())
    };
    // No toolkit on this host: the real engine refuses `--gpus` on start.
    let (code, r) = id(&["--mode", "gpus", "--image", "bb"]);
    assert_eq!(code, 1);
    assert_eq!(r["check_id"], "toolkit.not-installed", "{r}");
    assert_eq!(
        r["cause"],
        "could not select device driver \"\" with capabilities: [[gpu]]"
    );
    let (_, r) = id(&["--mode", "runtime", "--image", "fake/cuda-12.8"]);
    assert_eq!(r["check_id"], "driver.cuda-unsupported", "{r}");
    let (_, r) = id(&["--mode", "runtime", "--image", "fake/nvml-unknown"]);
    assert_eq!(r["check_id"], "docker.cgroup-systemd-dev-char", "{r}");
    assert!(leftovers(&d).is_empty(), "{:?}", leftovers(&d));

    // An engine without the runtime, then one whose daemon.json has it but was not reloaded.
    let bare = Dockerd::start("{}");
    bare.import_busybox("bb");
    let (code, v, _) = run_json(&mut test_cmd(
        &bare,
        &[
            "--api", "cuda", "--mode", "runtime", "--image", "bb", "--format", "json",
        ],
    ));
    assert_eq!(code, 1);
    let r = result(&v, "cuda");
    assert_eq!(r["check_id"], "docker.runtime-missing", "{r}");
    assert!(
        r["cause"]
            .as_str()
            .unwrap()
            .contains("runtime specified nvidia")
            || r["cause"]
                .as_str()
                .unwrap()
                .contains("invalid runtime name: nvidia")
    );
    std::fs::write(
        &bare.config,
        json!({"runtimes": {"nvidia": {"path": "/usr/bin/runc"}}}).to_string(),
    )
    .unwrap();
    let (_, v, _) = run_json(&mut test_cmd(
        &bare,
        &[
            "--api", "cuda", "--mode", "runtime", "--image", "bb", "--format", "json",
        ],
    ));
    assert_eq!(
        result(&v, "cuda")["check_id"],
        "docker.daemon-json-not-applied",
        "{v:#}"
    );
    assert!(leftovers(&bare).is_empty());
}

fn wait_for_container(d: &Dockerd) -> String {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Some(id) = leftovers(d).into_iter().next() {
            let st = d.docker(&["inspect", "-f", "{{.State.Status}}", &id]);
            if String::from_utf8_lossy(&st.stdout).trim() == "running" {
                return id;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no test container appeared");
}

#[test]
fn request_and_capabilities_reach_the_container_and_a_timeout_cleans_up() {
    if !dockerd_available() {
        return;
    }
    let d = engine_with_shim();
    tool_image(
        &d,
        "fake/hang",
        &[("/usr/bin/vulkaninfo", "#!/bin/sh\nsleep 60\n".into(), true)],
        &["ENV PATH=/usr/bin:/bin"],
    );
    let child = test_cmd(
        &d,
        &[
            "--api",
            "vulkan",
            "--mode",
            "runtime",
            "--image",
            "fake/hang",
            "--timeout",
            "4",
            "--format",
            "json",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let id = wait_for_container(&d);
    let out = d.docker(&["inspect", &id]);
    let ins: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &ins[0];
    let env: Vec<&str> = c["Config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    assert!(
        env.contains(&"NVIDIA_DRIVER_CAPABILITIES=graphics,utility"),
        "{env:?}"
    );
    assert!(env.contains(&"NVIDIA_VISIBLE_DEVICES=all"), "{env:?}");
    assert_eq!(c["HostConfig"]["Runtime"], "nvidia");
    assert_eq!(c["HostConfig"]["NetworkMode"], "none");
    assert_eq!(c["HostConfig"]["ReadonlyRootfs"], true);
    assert_eq!(c["HostConfig"]["CapDrop"], json!(["ALL"]));
    assert_eq!(c["HostConfig"]["SecurityOpt"], json!(["no-new-privileges"]));
    assert_eq!(c["Config"]["Labels"]["nvctk.api"], "vulkan");
    assert_eq!(c["Config"]["Cmd"], json!(["vulkaninfo", "--summary"]));
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let r = result(&v, "vulkan");
    assert_eq!(r["verdict"], "fail");
    assert!(
        r["cause"]
            .as_str()
            .unwrap()
            .contains("did not finish within 4s"),
        "{r}"
    );
    assert!(leftovers(&d).is_empty(), "{:?}", leftovers(&d));
}

#[test]
fn ctrl_c_removes_the_running_container() {
    if !dockerd_available() {
        return;
    }
    let d = engine_with_shim();
    tool_image(
        &d,
        "fake/hang",
        &[("/usr/bin/clinfo", "#!/bin/sh\nsleep 60\n".into(), true)],
        &["ENV PATH=/usr/bin:/bin"],
    );
    let child = test_cmd(
        &d,
        &[
            "--api",
            "opencl",
            "--mode",
            "runtime",
            "--image",
            "fake/hang",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    wait_for_container(&d);
    let started = Instant::now();
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
    assert!(leftovers(&d).is_empty(), "{:?}", leftovers(&d));
}

/// Debian's docker-registry on a free loopback port, with its own storage.
struct Registry {
    _dir: tempfile::TempDir,
    child: std::process::Child,
    addr: String,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry() -> Option<Registry> {
    let bin = which("docker-registry")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yml");
    std::fs::write(
        &cfg,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(bin)
        .arg("serve")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if std::net::TcpStream::connect(&addr).is_ok() {
            return Some(Registry {
                _dir: dir,
                child,
                addr,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("docker-registry did not listen on {addr}");
}

#[test]
fn tags_resolve_for_the_driver_and_the_pull_shows_progress() {
    if !dockerd_available() {
        return;
    }
    let Some(reg) = start_registry() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "docker-registry is needed under CI"
        );
        eprintln!("skipping: needs docker-registry");
        return;
    };
    let d = engine_with_shim();
    let smi = [("/usr/bin/nvidia-smi", nvidia_smi_script(), true)];
    tool_image(&d, "seed", &smi, &["ENV PATH=/usr/bin:/bin"]);
    for tag in [
        "12.8.1-base-ubuntu24.04",
        "12.4.1-base-ubuntu22.04",
        "12.4.1-base-ubuntu20.04",
        "12.4.1-runtime-ubuntu22.04",
        "12.4.1-cudnn-runtime-ubuntu22.04",
        "12.3.2-base-ubuntu22.04",
    ] {
        let r = format!("{}/nvidia/cuda:{tag}", reg.addr);
        assert!(d.docker(&["tag", "seed", &r]).status.success());
        let p = d.docker(&["push", &r]);
        assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stderr));
        assert!(d.docker(&["rmi", &r]).status.success());
    }
    // Nothing of it stays local: the pull must fetch the layer.
    assert!(d.docker(&["rmi", "seed"]).status.success());
    let tmp = tempfile::tempdir().unwrap();
    for (cuda, want) in [
        (12040, "12.4.1-base-ubuntu22.04"),
        (12090, "12.8.1-base-ubuntu24.04"),
    ] {
        let lib = fake_nvml(
            &tmp.path().join(cuda.to_string()),
            &json!({"driver_version": "550.144.03", "cuda_driver_version": cuda,
                    "devices": [{"index": 0, "name": "NVIDIA GeForce RTX 4090", "uuid": "GPU-1",
                                 "memory_total_bytes": 25757220864u64, "compute_capability": "8.9"}]}),
        );
        let mut cmd = test_cmd(
            &d,
            &[
                "--api",
                "cuda",
                "--mode",
                "runtime",
                "--registry",
                &reg.addr,
                "--format",
                "json",
            ],
        );
        cmd.env("NVCTK_NVML_LIB", &lib);
        let (code, v, out) = run_json(&mut cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code, 0, "{v:#}\n{stderr}");
        let r = result(&v, "cuda");
        assert_eq!(r["image"], format!("{}/nvidia/cuda:{want}", reg.addr));
        assert_eq!(r["verdict"], "pass");
        assert!(
            stderr.contains(&format!("pulling {}/nvidia/cuda:{want}", reg.addr)),
            "{stderr}"
        );
        // The first pull downloads the layer, one progress line per state; the second
        // (same layer, other tag) has nothing left to download.
        if cuda == 12040 {
            assert!(stderr.contains(": Pull complete"), "{stderr}");
            assert!(stderr.contains(": Downloading") || stderr.contains(": Download complete"));
        }
        assert!(stderr.contains(&format!("pulled {}/nvidia/cuda:{want}", reg.addr)));
    }
    assert!(leftovers(&d).is_empty());
}

/// preflight's own --timeout may end the job while an API test container runs: the
/// container is stopped and removed all the same.
#[test]
fn a_preflight_timeout_during_an_api_test_leaves_no_container() {
    if !dockerd_available() {
        return;
    }
    let d = engine_with_shim();
    tool_image(
        &d,
        "nvidia/cuda:12.4.1-base-ubuntu22.04",
        &[("/usr/bin/nvidia-smi", "#!/bin/sh\nsleep 60\n".into(), true)],
        &[],
    );
    let start = std::time::Instant::now();
    let out = nvctk()
        .env("DOCKER_HOST", d.host())
        .env("NVCTK_NVML_LIB", "/nonexistent/libnvidia-ml.so.1")
        .args([
            "preflight",
            "--api",
            "cuda",
            "--allow",
            "gpu.none,os.unsupported-distro",
            "--timeout",
            "3",
            "--no-config",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("it was still running the API test containers"),
        "{err}"
    );
    assert!(err.contains("the test containers were removed"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    assert!(leftovers(&d).is_empty(), "left behind: {:?}", leftovers(&d));
}

#[test]
fn preflight_runs_the_image_pull_policy_registry_and_mode_it_is_given() {
    if !dockerd_available() {
        return;
    }
    let d = engine_with_shim();
    // A freshly built image of the pipeline's own, instead of the catalog's stale seed.
    tool_image(
        &d,
        "mirror.local/vulkan:fresh",
        &[(
            "/usr/bin/vulkaninfo",
            printer("vulkaninfo-nvidia.txt", 0),
            true,
        )],
        &["ENV PATH=/usr/bin:/bin"],
    );
    let work = tempfile::tempdir().unwrap();
    let pf = |args: &[&str]| {
        run_json(
            nvctk()
                .current_dir(work.path())
                .env("DOCKER_HOST", d.host())
                .env("NVCTK_NVML_LIB", "/nonexistent/libnvidia-ml.so.1")
                .args(["preflight", "--format", "json", "--api", "vulkan"])
                .args(args),
        )
    };
    let (_, v, out) = pf(&[
        "--no-config",
        "--image",
        "mirror.local/vulkan:fresh",
        "--pull",
        "never",
        "--mode",
        "runtime",
    ]);
    let api = &v["api"][0];
    assert_eq!(api["image"], "mirror.local/vulkan:fresh", "{v:#}");
    assert_eq!(api["mode"], "runtime", "{api}");
    assert_eq!(
        api["verdict"],
        "pass",
        "{api}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(api["device"], "NVIDIA GeForce RTX 4090");
    assert!(
        !v["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "api.vulkan"),
        "{v:#}"
    );

    // The same from .nvctk.toml.
    std::fs::write(
        work.path().join(".nvctk.toml"),
        "[preflight]\nimage = \"mirror.local/vulkan:fresh\"\npull = \"never\"\nmode = \"runtime\"\n",
    )
    .unwrap();
    let (_, v, _) = pf(&[]);
    assert_eq!(v["api"][0]["image"], "mirror.local/vulkan:fresh", "{v:#}");
    assert_eq!(v["api"][0]["mode"], "runtime");
    assert_eq!(v["api"][0]["verdict"], "pass", "{}", v["api"][0]);

    // A mirror: the catalog's image is taken through it (never pulled here: it fails as absent).
    let (code, v, _) = pf(&[
        "--no-config",
        "--registry",
        "http://mirror.local:5000/",
        "--pull",
        "never",
        "--mode",
        "gpus",
    ]);
    assert_eq!(code, 1);
    let api = &v["api"][0];
    assert_eq!(
        api["image"], "mirror.local:5000/nvidia/vulkan:1.3-470",
        "{api}"
    );
    assert_eq!(api["mode"], "gpus");
    assert_eq!(api["verdict"], "fail");
    assert!(leftovers(&d).is_empty(), "left behind: {:?}", leftovers(&d));
}

#[test]
fn quiet_test_prints_only_what_did_not_pass_and_the_summary() {
    if !dockerd_available() {
        return;
    }
    let d = engine_with_shim();
    let out = test_cmd(
        &d,
        &[
            "-q", "--api", "vulkan", "--mode", "runtime", "--pull", "never",
        ],
    )
    .output()
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.starts_with("vulkan failed: "), "{text}");
    assert!(!text.contains("IMAGE") && !text.contains("[✗]"), "{text}");
    assert!(
        text.ends_with("\n\n0 passed, 1 failed, 0 skipped\n"),
        "{text}"
    );
}
