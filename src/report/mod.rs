//! Reports print findings; they neither probe nor judge.

pub mod fleet;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod preflight;

use crate::checks::{Finding, Status};
use crate::facts::{Facts, WslKind};
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Counts {
    pub error: usize,
    pub warn: usize,
    pub info: usize,
    pub ok: usize,
    pub skip: usize,
}

pub fn counts(findings: &[Finding]) -> Counts {
    let mut c = Counts::default();
    for f in findings {
        match f.status {
            Status::Error => c.error += 1,
            Status::Warn => c.warn += 1,
            Status::Info => c.info += 1,
            Status::Ok => c.ok += 1,
            Status::Skip => c.skip += 1,
        }
    }
    c
}

/// A short description of the host for report headers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HostSummary {
    pub distro: Option<String>,
    pub kernel: Option<String>,
    /// 0 on a native host, 1 or 2 under WSL.
    pub wsl: u8,
    pub engine: Option<String>,
    pub driver: Option<String>,
    pub gpus: Vec<String>,
}

pub fn host_summary(f: &Facts) -> HostSummary {
    let nvml = f.nvml.as_ref().and_then(|n| n.ok());
    HostSummary {
        distro: f.os.pretty_name.clone().or_else(|| f.os.id.clone()),
        kernel: f.os.kernel_release.clone(),
        wsl: match f.wsl.kind {
            WslKind::None => 0,
            WslKind::Wsl1 => 1,
            WslKind::Wsl2 => 2,
        },
        engine: f.engine().map(|e| {
            let v = e
                .version
                .get("Version")
                .and_then(|v| v.as_str())
                .unwrap_or("?");
            let os = e
                .info
                .get("OperatingSystem")
                .and_then(|v| v.as_str())
                .unwrap_or("");
            if os.contains("Docker Desktop") {
                format!("Docker Desktop (engine {v})")
            } else {
                format!("Docker {v}")
            }
        }),
        driver: nvml
            .map(|n| n.driver_version.clone())
            .or_else(|| f.gpu.kernel_module_version.clone()),
        gpus: nvml
            .map(|n| n.devices.iter().map(|d| d.name.clone()).collect())
            .unwrap_or_default(),
    }
}

/// Exit code rule shared by doctor and preflight: 1 on an error, or on a warning when strict.
pub fn exit_code(findings: &[Finding], strict: bool) -> i32 {
    let c = counts(findings);
    if c.error > 0 || (strict && c.warn > 0) {
        1
    } else {
        0
    }
}
