//! The check catalog: stable ids (never renamed), their area and severity when they fire.

use super::Status;

pub struct Check {
    pub id: &'static str,
    pub area: &'static str,
    pub severity: Status,
    /// A short name, used as a test-case name in JUnit and as a heading.
    pub title: &'static str,
}

const fn c(id: &'static str, area: &'static str, severity: Status, title: &'static str) -> Check {
    Check {
        id,
        area,
        severity,
        title,
    }
}

use Status::{Error, Info, Warn};

pub const CATALOG: &[Check] = &[
    c(
        "os.unsupported-distro",
        "os",
        Warn,
        "Distribution supported by the toolkit",
    ),
    c("os.kernel-too-old", "os", Error, "Kernel newer than 3.10"),
    c(
        "host.docker-disk-low",
        "host",
        Warn,
        "Free disk where the engine keeps images",
    ),
    c(
        "wsl.version-1",
        "wsl",
        Error,
        "Distro runs under WSL2, not WSL1",
    ),
    c(
        "wsl.kernel-too-old",
        "wsl",
        Error,
        "WSL2 kernel new enough for GPU",
    ),
    c(
        "wsl.no-gpu-paravirtualization",
        "wsl",
        Error,
        "WSL2 GPU paravirtualization (/dev/dxg, libdxcore)",
    ),
    c(
        "wsl.linux-driver-installed",
        "wsl",
        Error,
        "No Linux NVIDIA driver inside WSL2",
    ),
    c("gpu.none", "gpu", Error, "NVIDIA GPU visible"),
    c(
        "driver.not-loaded",
        "driver",
        Error,
        "NVIDIA kernel driver loaded",
    ),
    c(
        "driver.nouveau",
        "driver",
        Error,
        "nouveau does not hold the GPU",
    ),
    c(
        "driver.library-mismatch",
        "driver",
        Error,
        "Kernel module matches user-space libraries",
    ),
    c("driver.nvml-unavailable", "driver", Error, "NVML answers"),
    c(
        "driver.too-old",
        "driver",
        Error,
        "Driver 418.81.07 or newer",
    ),
    c(
        "driver.cuda-unsupported",
        "driver",
        Error,
        "Driver supports the CUDA version asked for",
    ),
    c("docker.not-installed", "docker", Error, "Docker installed"),
    c(
        "docker.unreachable",
        "docker",
        Error,
        "Docker engine reachable",
    ),
    c(
        "docker.too-old",
        "docker",
        Error,
        "Docker engine 18.09 or newer",
    ),
    c(
        "docker.gpus-flag-unsupported",
        "docker",
        Warn,
        "Engine supports --gpus (19.03+)",
    ),
    c(
        "docker.client-too-old",
        "docker",
        Error,
        "Docker CLI supports --gpus (19.03+)",
    ),
    c(
        "docker.daemon-json-invalid",
        "docker",
        Error,
        "daemon.json parses",
    ),
    c(
        "docker.daemon-json-not-applied",
        "docker",
        Error,
        "Running engine uses daemon.json",
    ),
    c(
        "docker.runtime-missing",
        "docker",
        Warn,
        "nvidia runtime registered",
    ),
    c(
        "docker.runtime-binary-missing",
        "docker",
        Error,
        "Runtime binaries exist",
    ),
    c(
        "docker.default-runtime-nvidia",
        "docker",
        Warn,
        "Default runtime is not nvidia",
    ),
    c(
        "docker.flag-conflicts-daemon-json",
        "docker",
        Error,
        "No directive both as dockerd flag and in daemon.json",
    ),
    c("docker.desktop", "docker", Info, "Docker Desktop engine"),
    c(
        "docker.desktop-daemon-json-ignored",
        "docker",
        Warn,
        "No GPU settings Docker Desktop ignores",
    ),
    c(
        "docker.desktop-linux-context",
        "docker",
        Error,
        "Context is not Docker Desktop for Linux",
    ),
    c(
        "docker.snap",
        "docker",
        Warn,
        "Docker is not the snap package",
    ),
    c(
        "docker.rootless-needs-no-cgroups",
        "docker",
        Error,
        "Rootless engine has no-cgroups set",
    ),
    c(
        "docker.cgroup-systemd-dev-char",
        "docker",
        Warn,
        "/dev/char links for NVIDIA devices",
    ),
    c(
        "toolkit.not-installed",
        "toolkit",
        Error,
        "NVIDIA Container Toolkit installed",
    ),
    c(
        "toolkit.vulnerable",
        "toolkit",
        Warn,
        "Toolkit has the security fixes",
    ),
    c(
        "toolkit.config-invalid",
        "toolkit",
        Error,
        "config.toml parses",
    ),
    c(
        "toolkit.no-cgroups-on-rootful",
        "toolkit",
        Error,
        "no-cgroups off on a rootful engine",
    ),
    c("cdi.spec-invalid", "cdi", Error, "CDI specs parse"),
    c(
        "cdi.spec-stale",
        "cdi",
        Error,
        "CDI specs match the installed driver",
    ),
    c("cdi.spec-duplicate", "cdi", Warn, "One nvidia CDI spec"),
];

pub fn get(id: &str) -> Option<&'static Check> {
    CATALOG.iter().find(|c| c.id == id)
}

/// The long explanation of each check, from docs/checks/ID.md, for `nvctk explain`.
pub fn doc(id: &str) -> Option<&'static str> {
    DOCS.iter().find(|(i, _)| *i == id).map(|(_, d)| *d)
}

include!(concat!(env!("OUT_DIR"), "/check_docs.rs"));
