//! Facts: everything the probes gathered about a host, as one serde tree.
//! Probes fill it and never judge; checks read it and never touch the machine.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The result of a probe that can fail. A failure is a fact to judge, not a crash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Probed<T> {
    Ok { value: T },
    Err { kind: String, message: String },
}

impl<T> Probed<T> {
    pub fn ok(&self) -> Option<&T> {
        match self {
            Probed::Ok { value } => Some(value),
            Probed::Err { .. } => None,
        }
    }
    pub fn err_kind(&self) -> Option<&str> {
        match self {
            Probed::Ok { .. } => None,
            Probed::Err { kind, .. } => Some(kind),
        }
    }
    pub fn err_message(&self) -> Option<&str> {
        match self {
            Probed::Ok { .. } => None,
            Probed::Err { message, .. } => Some(message),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Facts {
    pub os: OsFacts,
    pub wsl: WslFacts,
    /// First line of /etc/nv_tegra_release on Jetson (L4T) boards.
    pub jetson: Option<String>,
    pub gpu: GpuFacts,
    pub nvml: Option<Probed<NvmlFacts>>,
    pub docker: DockerFacts,
    pub toolkit: ToolkitFacts,
    pub cdi: Vec<CdiSpec>,
    pub resources: Resources,
    /// What the user asked doctor to judge against (`--cuda`, `--image`).
    pub wanted_cuda: Option<WantedCuda>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OsFacts {
    pub id: Option<String>,
    pub id_like: Vec<String>,
    pub version_id: Option<String>,
    pub pretty_name: Option<String>,
    /// /proc/sys/kernel/osrelease, e.g. `6.5.0-35-generic`.
    pub kernel_release: Option<String>,
    /// /proc/version, the whole line.
    pub proc_version: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WslKind {
    #[default]
    None,
    Wsl1,
    Wsl2,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WslFacts {
    pub kind: WslKind,
    pub dxg: bool,
    pub dxcore: bool,
    pub libcuda: bool,
    pub libnvml: bool,
    pub interop: bool,
    pub distro_name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PciDevice {
    pub address: String,
    pub vendor: String,
    pub device: String,
    pub class: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct GpuFacts {
    /// PCI display controllers (class 0x03xxxx), any vendor.
    pub pci: Vec<PciDevice>,
    pub module_nvidia: bool,
    pub module_nouveau: bool,
    /// Kernel module version from /proc/driver/nvidia/version.
    pub kernel_module_version: Option<String>,
    /// Versions in the file names of installed libnvidia-ml.so.X libraries.
    pub user_lib_versions: Vec<String>,
    /// /dev/nvidia* device nodes present.
    pub device_nodes: Vec<String>,
    /// Character-device majors named nvidia* in /proc/devices, e.g. (195, nvidia-frontend).
    pub majors: Vec<(u32, String)>,
    /// Entries of /dev/char (e.g. `195:0`).
    pub char_links: Vec<String>,
    /// Linux driver packages found in the package database (nvidia-driver-550, …).
    pub driver_packages: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NvmlFacts {
    pub driver_version: String,
    /// As NVML reports it: 12040 means CUDA 12.4.
    pub cuda_driver_version: Option<i32>,
    pub devices: Vec<NvmlDevice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NvmlDevice {
    pub index: u32,
    pub name: String,
    pub uuid: String,
    pub memory_total_bytes: u64,
    pub compute_capability: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DockerFacts {
    pub endpoint: Option<String>,
    pub context: Option<String>,
    /// GET /version and GET /info bodies, in the Engine API's own field names.
    pub engine: Option<Probed<Engine>>,
    /// Docker CLI version (`docker --version`), None when there is no CLI.
    pub client_version: Option<String>,
    /// The daemon.json the engine reads, if any exists.
    pub daemon_json: Option<ConfigFile>,
    /// The distro's /etc/docker/daemon.json when the engine reads another one (Desktop, snap, rootless).
    pub system_daemon_json: Option<ConfigFile>,
    /// dockerd flags from systemd units and the running process, with where each came from.
    pub dockerd_flags: Vec<DockerdFlag>,
    pub snap: bool,
    pub podman: bool,
    /// Every runtime the engine or daemon.json names, with where its binary was found.
    pub runtime_binaries: Vec<RuntimeBinary>,
    /// NVIDIA_REQUIRE_CUDA of `--image`, when asked.
    pub image_require_cuda: Option<Probed<Option<String>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuntimeBinary {
    pub name: String,
    /// The path as configured (`nvidia-container-runtime` or absolute).
    pub path: String,
    /// Where it resolved on the host, None when it does not exist.
    pub found: Option<String>,
    /// `engine` or the daemon.json path.
    pub declared_in: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Engine {
    pub version: Value,
    pub info: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigFile {
    pub path: String,
    pub parsed: Probed<Value>,
}

/// A parse error with its place in the file, 1-based.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DockerdFlag {
    /// The flag as written, e.g. `--add-runtime=nvidia=/usr/bin/nvidia-container-runtime`.
    pub flag: String,
    /// The daemon.json key it sets, e.g. `runtimes`.
    pub directive: Option<String>,
    /// Where it came from: a unit file path or `running dockerd`.
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ToolkitFacts {
    /// Toolkit binaries found, absolute host paths.
    pub binaries: Vec<String>,
    /// name → version from dpkg status or rpm.
    pub packages: BTreeMap<String, String>,
    /// Version from `nvidia-ctk --version`.
    pub ctk_version: Option<String>,
    pub config: Option<ConfigFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CdiSpec {
    pub path: String,
    pub parsed: Probed<CdiSummary>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CdiSummary {
    pub cdi_version: Option<String>,
    pub kind: Option<String>,
    pub devices: Vec<String>,
    /// Host paths the spec mounts or exposes that do not exist.
    pub missing_paths: Vec<String>,
    pub checked_paths: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Resources {
    pub memory_total_bytes: Option<u64>,
    pub disks: Vec<Disk>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Disk {
    pub mount_point: String,
    pub available_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WantedCuda {
    /// e.g. "12.8".
    pub version: String,
    /// Where the wish came from: `--cuda` or the image reference.
    pub from: String,
}

/// Whether an Engine API /info body says the engine runs rootless.
pub fn info_is_rootless(info: &Value) -> bool {
    info.get("SecurityOptions")
        .and_then(|v| v.as_array())
        .is_some_and(|opts| {
            opts.iter()
                .filter_map(|o| o.as_str())
                .any(|o| o.split(',').any(|p| p == "name=rootless"))
        })
}

impl Facts {
    pub fn engine(&self) -> Option<&Engine> {
        self.docker.engine.as_ref().and_then(|e| e.ok())
    }
    pub fn info_str(&self, key: &str) -> Option<&str> {
        self.engine()
            .and_then(|e| e.info.get(key))
            .and_then(|v| v.as_str())
    }
    pub fn is_docker_desktop(&self) -> bool {
        self.info_str("OperatingSystem")
            .is_some_and(|s| s.contains("Docker Desktop"))
    }
    pub fn engine_rootless(&self) -> bool {
        self.engine().is_some_and(|e| info_is_rootless(&e.info))
    }
    /// Toolkit binaries or packages were found.
    pub fn toolkit_installed(&self) -> bool {
        !self.toolkit.binaries.is_empty() || !self.toolkit.packages.is_empty()
    }
    /// `[nvidia-container-cli] no-cgroups` from a parsable config.toml (absent = false);
    /// None when there is no parsable config.toml.
    pub fn toolkit_no_cgroups(&self) -> Option<bool> {
        let v = self.toolkit.config.as_ref()?.parsed.ok()?;
        Some(
            v.pointer("/nvidia-container-cli/no-cgroups")
                .and_then(|b| b.as_bool())
                .unwrap_or(false),
        )
    }
    /// The parsed daemon.json the engine reads, when it exists and parses.
    pub fn daemon_json(&self) -> Option<&Value> {
        self.docker.daemon_json.as_ref().and_then(|c| c.parsed.ok())
    }
    pub fn engine_runtimes(&self) -> Vec<String> {
        self.engine()
            .and_then(|e| e.info.get("Runtimes"))
            .and_then(|v| v.as_object())
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
    pub fn is_wsl2(&self) -> bool {
        self.wsl.kind == WslKind::Wsl2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Engine API's real answers (Debian's docker.io 20.10.24 with an nvidia runtime).
    fn captured() -> Facts {
        let info: Value =
            serde_json::from_str(include_str!("../tests/data/engine-20.10.24-info.json")).unwrap();
        let version: Value =
            serde_json::from_str(include_str!("../tests/data/engine-20.10.24-version.json"))
                .unwrap();
        Facts {
            docker: DockerFacts {
                engine: Some(Probed::Ok {
                    value: Engine { version, info },
                }),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn captured_engine_answers_read_right() {
        let f = captured();
        assert_eq!(f.engine_runtimes(), vec!["nvidia", "runc"]);
        assert!(!f.engine_rootless());
        assert!(!f.is_docker_desktop());
        assert_eq!(f.info_str("DefaultRuntime"), Some("runc"));
        assert_eq!(f.info_str("DockerRootDir"), Some("/var/lib/docker"));
        let v = f
            .engine()
            .and_then(|e| e.version.get("Version"))
            .and_then(|v| v.as_str());
        assert_eq!(v, Some("20.10.24+dfsg1"));
    }

    #[test]
    fn rootless_and_desktop_are_recognised() {
        let mut f = captured();
        if let Some(Probed::Ok { value }) = f.docker.engine.as_mut() {
            value.info["SecurityOptions"] = serde_json::json!([
                "name=seccomp,profile=builtin",
                "name=rootless",
                "name=cgroupns"
            ]);
            value.info["OperatingSystem"] = serde_json::json!("Docker Desktop");
        }
        assert!(f.engine_rootless());
        assert!(f.is_docker_desktop());
    }
}
