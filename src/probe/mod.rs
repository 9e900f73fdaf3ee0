//! Probes turn the host seams into Facts. They parse; they never judge.

pub mod cdi;
pub mod config;
pub mod docker;
pub mod gpu;
pub mod os;
pub mod toolkit;

use crate::facts::{Facts, Resources, WantedCuda};
use crate::host::Host;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `--cuda 12.8`
    pub cuda: Option<String>,
    /// `--image REF`
    pub image: Option<String>,
    pub deadline: Duration,
}

/// Gathers every fact. The slow sources (engine, NVML, commands, disks) run concurrently,
/// each bounded by the deadline, so the whole takes about as long as the slowest one.
pub fn gather(host: &Host, req: &Request) -> Facts {
    let packages = toolkit::packages(host);
    std::thread::scope(|s| {
        let nvml = s.spawn(|| host.nvml.query());
        let docker = s.spawn(|| docker::gather(host, req.image.as_deref(), &packages));
        let toolkit = s.spawn(|| toolkit::gather(host, &packages));
        let resources = resources_with_deadline(host, req.deadline);
        let (os, wsl) = os::gather(host);
        let jetson = host
            .fs
            .read("/etc/nv_tegra_release")
            .and_then(|t| t.lines().next().map(|l| l.trim().to_string()));
        let gpu = gpu::gather(host, &packages);
        let cdi = cdi::gather(host);
        let docker = docker.join().unwrap_or_default();
        let wanted_cuda = req
            .cuda
            .as_ref()
            .map(|v| WantedCuda {
                version: v.clone(),
                from: "--cuda".into(),
            })
            .or_else(|| {
                let image = req.image.as_ref()?;
                let require = docker.image_require_cuda.as_ref()?.ok()?.as_ref()?;
                Some(WantedCuda {
                    version: require_cuda_version(require)?,
                    from: format!("image {image}"),
                })
            });
        Facts {
            os,
            wsl,
            jetson,
            gpu,
            nvml: nvml.join().ok(),
            toolkit: toolkit.join().unwrap_or_default(),
            docker,
            cdi,
            resources,
            wanted_cuda,
        }
    })
}

/// statvfs on a dead network mount blocks; a disk figure is not worth a hang.
fn resources_with_deadline(host: &Host, deadline: Duration) -> Resources {
    if !host.live {
        return host.resources();
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(Host::live_resources());
    });
    rx.recv_timeout(deadline).unwrap_or_default()
}

/// `cuda>=12.8 brand=tesla,driver>=470,driver<471 …` → "12.8".
pub fn require_cuda_version(require: &str) -> Option<String> {
    require
        .split_whitespace()
        .find_map(|w| w.strip_prefix("cuda>="))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_cuda_from_real_image_env() {
        let v = "cuda>=12.4 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 brand=nvidia,driver>=470,driver<471";
        assert_eq!(require_cuda_version(v).as_deref(), Some("12.4"));
        assert_eq!(require_cuda_version("brand=tesla,driver>=470"), None);
    }

    #[test]
    fn a_probe_result_is_a_fact() {
        let p: crate::facts::Probed<u8> = crate::facts::Probed::Err {
            kind: "timeout".into(),
            message: "m".into(),
        };
        assert_eq!(p.err_kind(), Some("timeout"));
    }
}
