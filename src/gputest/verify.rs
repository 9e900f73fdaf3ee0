//! Verdicts: parse what each API's tool printed, and map the engine errors users actually
//! see to doctor's check ids. Pure functions of text (and Facts), unit-tested on captures.

use super::{Api, Verdict};
use crate::facts::Facts;

/// What one run proved.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub device: Option<String>,
    pub cause: Option<String>,
    pub check_id: Option<String>,
    pub fix: Option<String>,
}

impl Judgement {
    pub fn pass(device: impl Into<String>) -> Self {
        Judgement {
            verdict: Verdict::Pass,
            device: Some(device.into()),
            cause: None,
            check_id: None,
            fix: None,
        }
    }
    pub fn fail(cause: impl Into<String>) -> Self {
        Judgement {
            verdict: Verdict::Fail,
            device: None,
            cause: Some(cause.into()),
            check_id: None,
            fix: None,
        }
    }
    pub fn skip(cause: impl Into<String>) -> Self {
        Judgement {
            verdict: Verdict::Skip,
            ..Judgement::fail(cause)
        }
    }
    fn device(mut self, d: Option<String>) -> Self {
        self.device = d;
        self
    }
    fn check(mut self, id: &str) -> Self {
        self.check_id = Some(id.to_string());
        self
    }
    fn fix(mut self, f: impl Into<String>) -> Self {
        self.fix = Some(f.into());
        self
    }
}

/// Judges a container that ran to its end: its exit code and combined output.
pub fn judge(api: Api, tool: &str, exit_code: i64, output: &str, facts: &Facts) -> Judgement {
    if let Some(j) = known_failure(output, facts) {
        return j;
    }
    if exit_code == 127 || output.contains(&format!("{tool}: not found")) {
        return missing_tool(tool);
    }
    let j = match api {
        Api::Cuda => nvidia_smi(output),
        Api::Vulkan => vulkaninfo(output),
        Api::Opengl => eglinfo(output),
        Api::Opencl => clinfo(output),
        Api::Video => video_probe(output),
    };
    if j.verdict == Verdict::Pass && exit_code != 0 {
        let mut f = Judgement::fail(format!(
            "{tool} named {} but exited with status {exit_code}",
            j.device.clone().unwrap_or_default()
        ));
        f.device = j.device;
        return f;
    }
    if j.verdict == Verdict::Fail && j.cause.is_none() {
        return Judgement::fail(format!("{tool} exited with status {exit_code}"));
    }
    j
}

pub fn missing_tool(tool: &str) -> Judgement {
    if tool == "nvidia-smi" {
        return Judgement::fail(
            "nvidia-smi is not in the container: the toolkit injected no driver utilities",
        )
        .fix("the GPU request did not reach the NVIDIA Container Toolkit; run `nvctk doctor`");
    }
    Judgement::fail(format!("the image has no {tool}"))
        .fix("build the test image from docs/test-api.md and pass it with --image")
}

const SOFTWARE: [&str; 5] = ["llvmpipe", "lavapipe", "softpipe", "swrast", "pocl"];

fn software_name(s: &str) -> Option<&'static str> {
    let l = s.to_ascii_lowercase();
    SOFTWARE.iter().copied().find(|n| l.contains(n))
}

fn is_nvidia(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.contains("nvidia") || l.contains("tesla") || l.contains("quadro") || l.contains("geforce")
}

/// `nvidia-smi` (the table) or `nvidia-smi -L`.
pub fn nvidia_smi(out: &str) -> Judgement {
    // `GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-…)`
    for line in out.lines() {
        if let Some(rest) = line.trim().strip_prefix("GPU ") {
            if let Some((_, name)) = rest.split_once(": ") {
                let name = name.split(" (UUID").next().unwrap_or(name).trim();
                if !name.is_empty() {
                    return Judgement::pass(name);
                }
            }
        }
    }
    // Table row: `|   0  NVIDIA GeForce RTX 4090        Off |   00000000:01:00.0 …`
    if out.contains("NVIDIA-SMI") {
        for line in out.lines() {
            let Some(cell) = line.strip_prefix('|').and_then(|l| l.split('|').next()) else {
                continue;
            };
            let mut words = cell.split_whitespace();
            let Some(idx) = words.next() else { continue };
            if !idx.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let mut words: Vec<&str> = words.collect();
            // The last word is the persistence mode (On/Off/N/A).
            if words.len() > 1 {
                words.pop();
            }
            let name = words.join(" ");
            if !name.is_empty() {
                return Judgement::pass(name);
            }
        }
        return Judgement::fail("nvidia-smi ran but listed no GPU");
    }
    if out.contains("No devices were found") {
        return Judgement::fail("nvidia-smi found no GPU in the container")
            .fix("check that the container asked for the GPU (NVIDIA_VISIBLE_DEVICES, --gpus)");
    }
    Judgement::fail("nvidia-smi printed no GPU")
}

/// `vulkaninfo --summary`: one block per physical device.
pub fn vulkaninfo(out: &str) -> Judgement {
    #[derive(Default)]
    struct Dev {
        name: Option<String>,
        vendor: Option<String>,
        driver_id: Option<String>,
        kind: Option<String>,
    }
    let mut devs: Vec<Dev> = Vec::new();
    for line in out.lines() {
        let t = line.trim();
        if t.starts_with("GPU") && t.ends_with(':') {
            devs.push(Dev::default());
            continue;
        }
        let Some((k, v)) = t.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim().to_string());
        if let Some(d) = devs.last_mut() {
            match k {
                "deviceName" => d.name = Some(v),
                "vendorID" => d.vendor = Some(v),
                "driverID" => d.driver_id = Some(v),
                "deviceType" => d.kind = Some(v),
                _ => {}
            }
        }
    }
    if let Some(d) = devs.iter().find(|d| {
        d.vendor.as_deref() == Some("0x10de")
            || d.driver_id.as_deref() == Some("DRIVER_ID_NVIDIA_PROPRIETARY")
            || d.name.as_deref().is_some_and(is_nvidia)
    }) {
        return Judgement::pass(d.name.clone().unwrap_or_else(|| "NVIDIA GPU".into()));
    }
    if let Some(d) = devs.first() {
        let name = d.name.clone().unwrap_or_else(|| "an unnamed device".into());
        let soft = software_name(&name).is_some()
            || d.kind.as_deref() == Some("PHYSICAL_DEVICE_TYPE_CPU")
            || d.driver_id
                .as_deref()
                .is_some_and(|i| i.contains("LLVMPIPE"));
        let cause = if soft {
            format!(
                "only a software renderer answered ({name}): the NVIDIA Vulkan driver was not injected"
            )
        } else {
            format!("no NVIDIA Vulkan device; the only device is {name}")
        };
        return Judgement::fail(cause)
            .device(Some(name))
            .fix("grant the graphics capability (NVIDIA_DRIVER_CAPABILITIES=graphics,utility) with NVIDIA Container Toolkit 1.12 or newer, which injects the NVIDIA Vulkan ICD");
    }
    if out.contains("ERROR_INCOMPATIBLE_DRIVER") || out.contains("Found no drivers") {
        return Judgement::fail("no Vulkan driver in the container (ERROR_INCOMPATIBLE_DRIVER)")
            .fix("grant the graphics capability and make sure the image has libvulkan1; the toolkit injects the NVIDIA ICD JSON");
    }
    Judgement::fail("vulkaninfo listed no device")
}

/// `eglinfo`: per platform, the EGL vendor and the GL renderers.
pub fn eglinfo(out: &str) -> Judgement {
    let renderers: Vec<&str> = out
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim().ends_with("renderer")).then(|| v.trim())
        })
        .collect();
    if let Some(r) = renderers.iter().find(|r| is_nvidia(r)) {
        let name = r.split('/').next().unwrap_or(r).trim();
        return Judgement::pass(name);
    }
    let nvidia_vendor = out.lines().any(|l| l.trim() == "EGL vendor string: NVIDIA");
    if nvidia_vendor {
        return Judgement::pass("NVIDIA (EGL)");
    }
    if let Some(r) = renderers.first() {
        let cause = if software_name(r).is_some() {
            format!(
                "only a software renderer answered ({r}): NVIDIA's EGL library was not injected"
            )
        } else {
            format!("the OpenGL renderer is {r}, not an NVIDIA GPU")
        };
        return Judgement::fail(cause)
            .device(Some((*r).to_string()))
            .fix("grant the graphics capability (NVIDIA_DRIVER_CAPABILITIES=graphics,utility) and make sure the image has libglvnd (libegl1) and /usr/share/glvnd/egl_vendor.d/10_nvidia.json");
    }
    Judgement::fail("eglinfo found no working EGL platform")
        .fix("grant the graphics capability; the image needs libglvnd (libegl1) and the NVIDIA EGL vendor JSON")
}

/// `clinfo` (full) or `clinfo -l`.
pub fn clinfo(out: &str) -> Judgement {
    let mut platform: Option<String> = None;
    let mut device: Option<String> = None;
    let mut platforms: Vec<String> = Vec::new();
    for line in out.lines() {
        let t = line.trim();
        // clinfo -l: `Platform #0: NVIDIA CUDA` / ` `-- Device #0: NVIDIA GeForce RTX 4090`
        if let Some(rest) = t.strip_prefix("Platform #") {
            if let Some((_, name)) = rest.split_once(": ") {
                platforms.push(name.trim().to_string());
            }
            continue;
        }
        if let Some(idx) = t.find("Device #") {
            if let Some((_, name)) = t[idx..].split_once(": ") {
                if platforms.last().is_some_and(|p| is_nvidia(p)) && device.is_none() {
                    device = Some(name.trim().to_string());
                    platform = platforms.last().cloned();
                }
            }
            continue;
        }
        if let Some(v) = t.strip_prefix("Platform Name") {
            platforms.push(v.trim().to_string());
        } else if let Some(v) = t.strip_prefix("Device Name") {
            let cur = platforms.last().cloned();
            if cur.as_deref().is_some_and(is_nvidia) && device.is_none() {
                device = Some(v.trim().to_string());
                platform = cur;
            }
        }
    }
    if let (Some(_), Some(d)) = (&platform, device) {
        return Judgement::pass(d);
    }
    if let Some(p) = platforms.first() {
        let cause = if software_name(p).is_some() {
            format!("only a CPU OpenCL platform answered ({p})")
        } else {
            format!("no NVIDIA OpenCL platform; found {p}")
        };
        return Judgement::fail(cause)
            .device(Some(p.clone()))
            .fix(OPENCL_FIX);
    }
    Judgement::fail("clinfo found no OpenCL platform (no NVIDIA ICD in /etc/OpenCL/vendors)")
        .fix(OPENCL_FIX)
}

const OPENCL_FIX: &str = "grant the compute capability and provide /etc/OpenCL/vendors/nvidia.icd containing libnvidia-opencl.so.1 (NVIDIA Container Toolkit 1.20 mounts it)";

/// The catalog's video probe: `nvidia-smi -L`, then one `lib: path|missing` line per codec library.
pub fn video_probe(out: &str) -> Judgement {
    let gpu = nvidia_smi(out);
    let libs: Vec<(&str, &str)> = out
        .lines()
        .filter_map(|l| l.split_once(": "))
        .filter(|(k, _)| k.starts_with("lib"))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let missing: Vec<&str> = libs
        .iter()
        .filter(|(_, v)| *v == "missing" || v.is_empty())
        .map(|(k, _)| *k)
        .collect();
    if gpu.verdict != Verdict::Pass {
        return gpu;
    }
    if libs.is_empty() {
        return Judgement::fail("the video probe printed no codec libraries").device(gpu.device);
    }
    if !missing.is_empty() {
        return Judgement::fail(format!(
            "{} not in the container: the video capability was not granted",
            missing.join(" and ")
        ))
        .device(gpu.device)
        .fix("grant the video capability (NVIDIA_DRIVER_CAPABILITIES=video,compute,utility)");
    }
    gpu
}

/// Failures that look the same whatever the tool: driver and NVML errors from inside the
/// container, or the engine's own errors (create/start).
pub fn known_failure(text: &str, facts: &Facts) -> Option<Judgement> {
    let t = text;
    // Engines before Docker 25 have no CDI device driver at all.
    if t.contains("could not select device driver \"cdi\"") {
        let v = facts
            .engine()
            .and_then(|e| e.version.get("Version"))
            .and_then(|v| v.as_str())
            .unwrap_or("this engine");
        return Some(
            Judgement::fail(format!(
                "Docker {v} cannot hand out CDI devices (CDI needs Docker 25 or newer)"
            ))
            .fix(
                "upgrade Docker Engine to 25 or newer, or test with --mode runtime or --mode gpus",
            ),
        );
    }
    // dockerd could not start the runtime itself (its path in daemon.json is wrong).
    if t.contains("fork/exec") && t.contains("no such file or directory") {
        return Some(
            Judgement::fail(first_line_with(t, "fork/exec"))
                .check("docker.runtime-binary-missing")
                .fix("a registered runtime's binary does not exist: install the NVIDIA Container Toolkit or fix the path in daemon.json (see `nvctk doctor`)"),
        );
    }
    if t.contains("could not select device driver") {
        return Some(
            Judgement::fail(first_line_with(t, "could not select device driver"))
                .check("toolkit.not-installed")
                .fix("install the NVIDIA Container Toolkit, then run `nvctk setup docker` (see `nvctk explain toolkit.not-installed`)"),
        );
    }
    if t.contains("unknown or invalid runtime name") || t.contains("Unknown runtime specified") {
        let declared = facts
            .daemon_json()
            .and_then(|v| v.get("runtimes"))
            .and_then(|r| r.get("nvidia"))
            .is_some();
        let (id, fix) = if declared {
            (
                "docker.daemon-json-not-applied",
                "daemon.json declares the nvidia runtime but the running engine has not loaded it: reload or restart Docker (`sudo systemctl restart docker`)",
            )
        } else {
            (
                "docker.runtime-missing",
                "register the runtime: `sudo nvctk setup docker` (or `sudo nvidia-ctk runtime configure --runtime=docker` and restart Docker), or test with --mode gpus",
            )
        };
        let line = if t.contains("unknown or invalid runtime name") {
            first_line_with(t, "unknown or invalid runtime name")
        } else {
            first_line_with(t, "Unknown runtime specified")
        };
        return Some(Judgement::fail(line).check(id).fix(fix));
    }
    if let Some(i) = t.find("unsatisfied condition: cuda>=") {
        let want: String = t[i + "unsatisfied condition: cuda>=".len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let have = facts
            .nvml
            .as_ref()
            .and_then(|n| n.ok())
            .and_then(|n| n.cuda_driver_version)
            .map(|v| {
                format!(
                    " (the driver supports CUDA {}.{})",
                    v / 1000,
                    (v % 1000) / 10
                )
            })
            .unwrap_or_default();
        return Some(
            Judgement::fail(format!("the image needs CUDA {want}, newer than the driver supports{have}"))
                .check("driver.cuda-unsupported")
                .fix("use an image tag whose CUDA the driver supports (drop --image to let nvctk pick one), or upgrade the driver"),
        );
    }
    if t.contains("Failed to initialize NVML: Unknown Error") {
        let rootful_no_cgroups =
            !facts.engine_rootless() && facts.toolkit_no_cgroups() == Some(true);
        let (id, fix) = if rootful_no_cgroups {
            (
                "toolkit.no-cgroups-on-rootful",
                "set `no-cgroups = false` in /etc/nvidia-container-runtime/config.toml (only rootless engines need it)",
            )
        } else {
            (
                "docker.cgroup-systemd-dev-char",
                "create the /dev/char links (`sudo nvidia-ctk system create-dev-char-symlinks --create-all`) or use CDI; the GPUs vanished after a systemd cgroup update",
            )
        };
        return Some(
            Judgement::fail("NVML inside the container failed: Unknown Error (device access lost)")
                .check(id)
                .fix(fix),
        );
    }
    if t.contains("Driver/library version mismatch") {
        return Some(
            Judgement::fail("NVML: driver/library version mismatch")
                .check("driver.library-mismatch")
                .fix("reboot (or reload the nvidia kernel modules) after a driver upgrade"),
        );
    }
    if t.contains("load library failed: libnvidia-ml.so.1") {
        return Some(
            Judgement::fail(first_line_with(t, "load library failed"))
                .check("driver.nvml-unavailable")
                .fix("install the NVIDIA driver's user-space libraries (libnvidia-ml.so.1) on the host"),
        );
    }
    if t.contains("unresolvable CDI devices") {
        return Some(
            Judgement::fail(first_line_with(t, "unresolvable CDI devices"))
                .fix("generate a CDI spec: `sudo nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`, or test with --mode runtime"),
        );
    }
    if t.contains("CDI") && t.contains("not enabled") || t.contains("unknown device driver \"cdi\"")
    {
        return Some(
            Judgement::fail(first_line_with(t, "cdi"))
                .fix("enable CDI in the engine (`nvctk setup docker --cdi`, Docker 25+) or test with --mode runtime"),
        );
    }
    if t.contains("executable file not found") {
        let tool = t
            .split("exec: \"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("the test command");
        return Some(missing_tool(tool));
    }
    None
}

fn first_line_with(text: &str, needle: &str) -> String {
    let lower = needle.to_ascii_lowercase();
    text.lines()
        .find(|l| l.to_ascii_lowercase().contains(&lower))
        .unwrap_or(text)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> String {
        let p = format!("{}/tests/data/gputest/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    fn facts() -> Facts {
        Facts::default()
    }

    #[test]
    fn nvidia_smi_table_names_the_gpu() {
        let j = judge(
            Api::Cuda,
            "nvidia-smi",
            0,
            &data("nvidia-smi.txt"),
            &facts(),
        );
        assert_eq!(j, Judgement::pass("NVIDIA GeForce RTX 4090"));
    }

    #[test]
    fn nvml_unknown_error_maps_to_the_cgroup_check() {
        let j = judge(
            Api::Cuda,
            "nvidia-smi",
            255,
            &data("nvidia-smi-nvml-unknown-error.txt"),
            &facts(),
        );
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.check_id.as_deref(),
            Some("docker.cgroup-systemd-dev-char")
        );
        let mut f = facts();
        f.toolkit.config = Some(crate::facts::ConfigFile {
            path: "/etc/nvidia-container-runtime/config.toml".into(),
            parsed: crate::facts::Probed::Ok {
                value: serde_json::json!({"nvidia-container-cli": {"no-cgroups": true}}),
            },
        });
        let j = judge(
            Api::Cuda,
            "nvidia-smi",
            255,
            &data("nvidia-smi-nvml-unknown-error.txt"),
            &f,
        );
        assert_eq!(j.check_id.as_deref(), Some("toolkit.no-cgroups-on-rootful"));
    }

    #[test]
    fn vulkan_nvidia_passes_and_llvmpipe_fails_with_the_cause() {
        let j = judge(
            Api::Vulkan,
            "vulkaninfo",
            0,
            &data("vulkaninfo-nvidia.txt"),
            &facts(),
        );
        assert_eq!(j, Judgement::pass("NVIDIA GeForce RTX 4090"));
        let j = judge(
            Api::Vulkan,
            "vulkaninfo",
            0,
            &data("vulkaninfo-llvmpipe.txt"),
            &facts(),
        );
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(
            j.device.as_deref(),
            Some("llvmpipe (LLVM 15.0.7, 256 bits)")
        );
        assert!(
            j.cause
                .as_deref()
                .unwrap()
                .starts_with("only a software renderer answered (llvmpipe"),
            "{j:?}"
        );
        assert!(j.fix.as_deref().unwrap().contains("graphics"));
        let j = judge(
            Api::Vulkan,
            "vulkaninfo",
            1,
            &data("vulkaninfo-no-driver.txt"),
            &facts(),
        );
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.cause.unwrap().contains("ERROR_INCOMPATIBLE_DRIVER"));
    }

    #[test]
    fn egl_nvidia_passes_and_mesa_fails() {
        let j = judge(
            Api::Opengl,
            "eglinfo",
            0,
            &data("eglinfo-nvidia.txt"),
            &facts(),
        );
        assert_eq!(j, Judgement::pass("NVIDIA GeForce RTX 4090"));
        let j = judge(
            Api::Opengl,
            "eglinfo",
            0,
            &data("eglinfo-llvmpipe.txt"),
            &facts(),
        );
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.cause
                .unwrap()
                .contains("software renderer answered (llvmpipe")
        );
    }

    #[test]
    fn clinfo_nvidia_passes_and_no_platform_fails() {
        let j = judge(
            Api::Opencl,
            "clinfo",
            0,
            &data("clinfo-nvidia.txt"),
            &facts(),
        );
        assert_eq!(j, Judgement::pass("NVIDIA GeForce RTX 4090"));
        let j = judge(Api::Opencl, "clinfo", 0, &data("clinfo-none.txt"), &facts());
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.cause.unwrap().contains("no OpenCL platform"));
        let list = "Platform #0: NVIDIA CUDA\n `-- Device #0: NVIDIA A100-SXM4-80GB\n";
        assert_eq!(clinfo(list), Judgement::pass("NVIDIA A100-SXM4-80GB"));
        let pocl =
            "Platform #0: Portable Computing Language\n `-- Device #0: pthread-AMD EPYC 7763\n";
        assert!(
            clinfo(pocl).cause.unwrap().contains("pocl") || clinfo(pocl).verdict == Verdict::Fail
        );
    }

    #[test]
    fn video_probe_needs_both_codec_libraries() {
        let j = judge(
            Api::Video,
            "nvidia-smi",
            0,
            &data("video-probe-nvidia.txt"),
            &facts(),
        );
        assert_eq!(j, Judgement::pass("NVIDIA GeForce RTX 4090"));
        let j = judge(
            Api::Video,
            "nvidia-smi",
            0,
            &data("video-probe-no-video-cap.txt"),
            &facts(),
        );
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(j.device.as_deref(), Some("NVIDIA GeForce RTX 4090"));
        assert!(
            j.cause
                .unwrap()
                .contains("video capability was not granted")
        );
    }

    #[test]
    fn engine_errors_map_to_check_ids() {
        let f = facts();
        let id = |t: &str| known_failure(t, &f).and_then(|j| j.check_id);
        assert_eq!(
            id(r#"could not select device driver "" with capabilities: [[gpu]]"#).as_deref(),
            Some("toolkit.not-installed")
        );
        assert_eq!(
            id("Unknown runtime specified nvidia").as_deref(),
            Some("docker.runtime-missing")
        );
        assert_eq!(
            id("unknown or invalid runtime name: nvidia").as_deref(),
            Some("docker.runtime-missing")
        );
        assert_eq!(
            id("nvidia-container-cli: requirement error: unsatisfied condition: cuda>=12.8, please update your driver to a newer version, or use an earlier cuda container: unknown").as_deref(),
            Some("driver.cuda-unsupported")
        );
        let mut g = facts();
        g.docker.daemon_json = Some(crate::facts::ConfigFile {
            path: "/etc/docker/daemon.json".into(),
            parsed: crate::facts::Probed::Ok {
                value: serde_json::json!({"runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}}),
            },
        });
        assert_eq!(
            known_failure("Unknown runtime specified nvidia", &g)
                .and_then(|j| j.check_id)
                .as_deref(),
            Some("docker.daemon-json-not-applied")
        );
        let j = known_failure("unsatisfied condition: cuda>=12.8", &f).unwrap();
        assert!(j.cause.unwrap().contains("needs CUDA 12.8"));
        let j = known_failure(
            "OCI runtime create failed: exec: \"vulkaninfo\": executable file not found in $PATH: unknown",
            &f,
        )
        .unwrap();
        assert_eq!(j.cause.as_deref(), Some("the image has no vulkaninfo"));
    }
}
