//! GPU presence and driver checks. They chain: without a GPU the driver checks skip.

use super::{Finding, Status};
use crate::facts::{Facts, WslKind};
use crate::requirements::Requirements;
use crate::version::{Version, cuda_from_int};

const DRIVER_IDS: [&str; 6] = [
    "driver.not-loaded",
    "driver.nouveau",
    "driver.library-mismatch",
    "driver.nvml-unavailable",
    "driver.too-old",
    "driver.cuda-unsupported",
];

pub fn run(f: &Facts, req: &Requirements, out: &mut Vec<Finding>) {
    let skip_all = |out: &mut Vec<Finding>, gpu: Finding, why: &str| {
        out.push(gpu);
        out.extend(DRIVER_IDS.iter().map(|id| Finding::skip(id, why)));
    };
    if f.wsl.kind == WslKind::Wsl1 {
        return skip_all(
            out,
            Finding::skip("gpu.none", "WSL1 has no GPU access; see wsl.version-1"),
            "WSL1 has no GPU access",
        );
    }
    if let Some(tegra) = &f.jetson {
        // Jetson's integrated GPU has no NVML and no /dev/nvidia*; L4T is the driver.
        return skip_all(
            out,
            Finding::ok(
                "gpu.none",
                format!("Jetson integrated GPU ({})", l4t_release(tegra)),
            ),
            "Jetson: the GPU driver is part of L4T",
        );
    }
    if f.is_wsl2() {
        return wsl2(f, req, out);
    }
    native(f, req, out);
}

fn nvml_ok(f: &Facts) -> Option<&crate::facts::NvmlFacts> {
    f.nvml.as_ref().and_then(|n| n.ok())
}

fn gpu_names(f: &Facts) -> String {
    match nvml_ok(f) {
        Some(n) if !n.devices.is_empty() => {
            // Eight identical boards read better as "8× NVIDIA H100".
            let mut groups: Vec<(String, usize)> = Vec::new();
            for d in &n.devices {
                match groups.iter_mut().find(|(name, _)| *name == d.name) {
                    Some(g) => g.1 += 1,
                    None => groups.push((d.name.clone(), 1)),
                }
            }
            let parts: Vec<String> = groups
                .into_iter()
                .map(|(name, n)| {
                    if n == 1 {
                        name
                    } else {
                        format!("{n}× {name}")
                    }
                })
                .collect();
            parts.join(", ")
        }
        _ => {
            let n = f.gpu.pci.iter().filter(|p| p.vendor == "0x10de").count();
            format!("{n} NVIDIA PCI device{}", if n == 1 { "" } else { "s" })
        }
    }
}

fn wsl2(f: &Facts, req: &Requirements, out: &mut Vec<Finding>) {
    if !(f.wsl.dxg && f.wsl.dxcore) {
        out.push(Finding::skip(
            "gpu.none",
            "WSL2 exposes no GPU; see wsl.no-gpu-paravirtualization",
        ));
        out.extend(
            DRIVER_IDS
                .iter()
                .map(|id| Finding::skip(id, "WSL2 exposes no GPU")),
        );
        return;
    }
    let nvidia_windows_driver = f.wsl.libcuda || f.wsl.libnvml || nvml_ok(f).is_some();
    out.push(if !nvidia_windows_driver {
        Finding::fire("gpu.none", "WSL2 sees a GPU, but no NVIDIA Windows driver provides CUDA to it")
            .detail("/usr/lib/wsl/lib has no libcuda.so.1 or libnvidia-ml.so.1.")
            .fix(
                "Install the current NVIDIA driver for Windows (it includes WSL support), then restart WSL. Do not install a Linux driver inside WSL.",
                ["wsl --shutdown"],
            )
    } else {
        Finding::ok("gpu.none", format!("GPU via WSL2: {}", gpu_names(f)))
    });
    if !nvidia_windows_driver {
        out.extend(
            DRIVER_IDS
                .iter()
                .map(|id| Finding::skip(id, "no NVIDIA Windows driver")),
        );
        return;
    }
    out.push(Finding::skip(
        "driver.not-loaded",
        "WSL2 uses the Windows driver; there is no Linux kernel module",
    ));
    out.push(Finding::skip(
        "driver.nouveau",
        "WSL2 uses the Windows driver",
    ));
    out.push(mismatch(f));
    out.push(nvml(f, true));
    out.extend(versions(f, req));
}

fn native(f: &Facts, req: &Requirements, out: &mut Vec<Finding>) {
    let pci_nvidia = f.gpu.pci.iter().any(|p| p.vendor == "0x10de");
    // NVML hanging is itself a sign of a (wedged) driver, not of a missing GPU.
    let nvml_hung = f.nvml.as_ref().and_then(|n| n.err_kind()) == Some("timeout");
    let loaded = f.gpu.module_nvidia
        || f.gpu.kernel_module_version.is_some()
        || nvml_ok(f).is_some()
        || nvml_hung;
    let intended = !f.gpu.driver_packages.is_empty() || !f.gpu.user_lib_versions.is_empty();
    // With PCI facts we know; without them, installed driver packages say a GPU is expected.
    let present = pci_nvidia
        || loaded
        || !f.gpu.device_nodes.is_empty()
        || (f.gpu.pci.is_empty() && intended);
    if !present {
        let others: Vec<String> = f
            .gpu
            .pci
            .iter()
            .map(|p| format!("{} ({})", p.address, vendor_name(&p.vendor)))
            .collect();
        let mut finding = Finding::fire("gpu.none", "no NVIDIA GPU found on this host")
            .detail("No PCI display device from NVIDIA (vendor 0x10de), no nvidia kernel module, and NVML is not available.");
        if !others.is_empty() {
            finding = finding.detail(format!("Display devices present: {}.", others.join(", ")));
        }
        finding = finding.fix(
            "GPU containers need an NVIDIA GPU. On a VM or cloud instance, attach one (PCI passthrough or a GPU instance type); on WSL, install the NVIDIA Windows driver.",
            ["lspci -nn | grep -i nvidia"],
        );
        out.push(finding);
        out.extend(
            DRIVER_IDS
                .iter()
                .map(|id| Finding::skip(id, "no NVIDIA GPU; see gpu.none")),
        );
        return;
    }
    out.push(Finding::ok(
        "gpu.none",
        format!("NVIDIA GPU: {}", gpu_names(f)),
    ));

    // nouveau and a missing nvidia module say the same thing; report the sharper one.
    if f.gpu.module_nouveau && !loaded {
        out.push(Finding::skip(
            "driver.not-loaded",
            "nouveau holds the GPU; see driver.nouveau",
        ));
        out.push(
            Finding::fire("driver.nouveau", "the open-source nouveau driver holds the GPU; CUDA and the toolkit need NVIDIA's driver")
                .fix(
                    "Install NVIDIA's driver (it blacklists nouveau) and reboot.",
                    ["sudo ubuntu-drivers install    # Ubuntu", "sudo reboot"],
                ),
        );
        out.extend(
            DRIVER_IDS[2..]
                .iter()
                .map(|id| Finding::skip(id, "NVIDIA's driver is not loaded")),
        );
        return;
    }
    out.push(
        Finding::ok("driver.nouveau", "nouveau is not loaded").with_status(
            if f.gpu.module_nouveau {
                Status::Warn
            } else {
                Status::Ok
            },
        ),
    );
    let mismatch = mismatch(f);
    if !loaded && mismatch.status != Status::Error {
        let mut finding = Finding::fire(
            "driver.not-loaded",
            "an NVIDIA GPU is present, but the NVIDIA kernel driver is not loaded",
        )
        .detail("No nvidia module in /proc/modules and no /proc/driver/nvidia/version.");
        if !f.gpu.driver_packages.is_empty() {
            finding = finding.detail(format!(
                "Driver packages installed: {}. The module may have failed to build for this kernel, or Secure Boot may block it.",
                f.gpu.driver_packages.join(", ")
            ));
        }
        out.push(finding.fix(
            "Load the module; if that fails, reinstall the driver for the running kernel (or enroll its Secure Boot key) and reboot.",
            ["sudo modprobe nvidia", "sudo dmesg | grep -i nvidia"],
        ));
        out.push(mismatch);
        out.extend(
            DRIVER_IDS[3..]
                .iter()
                .map(|id| Finding::skip(id, "the NVIDIA kernel driver is not loaded")),
        );
        return;
    }
    out.push(Finding::ok(
        "driver.not-loaded",
        match &f.gpu.kernel_module_version {
            Some(v) => format!("kernel module {v} loaded"),
            None => "NVIDIA kernel driver loaded".to_string(),
        },
    ));
    let mismatched = mismatch.status == Status::Error;
    out.push(mismatch);
    if mismatched {
        out.push(Finding::skip(
            "driver.nvml-unavailable",
            "NVML fails because of the version mismatch; see driver.library-mismatch",
        ));
    } else {
        out.push(nvml(f, false));
    }
    out.extend(versions(f, req));
}

fn vendor_name(v: &str) -> &str {
    match v {
        "0x8086" => "Intel",
        "0x1002" => "AMD",
        "0x1af4" => "virtio",
        "0x1234" => "QEMU",
        "0x15ad" => "VMware",
        "0x1414" => "Microsoft",
        other => other,
    }
}

fn mismatch(f: &Facts) -> Finding {
    let id = "driver.library-mismatch";
    let nvml_says = f.nvml.as_ref().and_then(|n| n.err_kind()) == Some("lib-rm-version-mismatch");
    let module = f.gpu.kernel_module_version.as_deref();
    let libs = &f.gpu.user_lib_versions;
    let files_differ = match module {
        Some(m) => !libs.is_empty() && !libs.iter().any(|l| l == m),
        None => false,
    };
    if nvml_says || files_differ {
        let mut finding = Finding::fire(
            id,
            match (module, libs.first()) {
                (Some(m), Some(l)) if m != l => {
                    format!("driver/library version mismatch: kernel module {m}, user-space libraries {l}")
                }
                _ => "driver/library version mismatch: the loaded kernel module is not the installed driver".into(),
            },
        )
        .detail("The driver was upgraded but the old kernel module is still loaded; NVML and nvidia-container-cli refuse to work.");
        if let Some(msg) = f.nvml.as_ref().and_then(|n| n.err_message()) {
            finding = finding.detail(format!("NVML: {msg}"));
        }
        return finding.fix(
            "Reboot, or unload and reload the NVIDIA modules when no process uses the GPU.",
            [
                "sudo reboot",
                "sudo rmmod nvidia_uvm nvidia_drm nvidia_modeset nvidia && sudo modprobe nvidia",
            ],
        );
    }
    match (module, libs.first()) {
        (Some(m), Some(_)) => Finding::ok(id, format!("kernel module and libraries are both {m}")),
        _ if nvml_ok(f).is_some() => {
            Finding::ok(id, "NVML initialised, so module and libraries match")
        }
        _ => Finding::skip(id, "no module or library versions to compare"),
    }
}

fn nvml(f: &Facts, wsl: bool) -> Finding {
    let id = "driver.nvml-unavailable";
    match f.nvml.as_ref() {
        None => Finding::skip(id, "NVML was not probed"),
        Some(n) => match n.ok() {
            Some(v) => {
                let finding = Finding::ok(
                    id,
                    format!(
                        "NVML answers: driver {}, {} GPU{}",
                        v.driver_version,
                        v.devices.len(),
                        if v.devices.len() == 1 { "" } else { "s" }
                    ),
                );
                match &v.library {
                    Some(lib) => finding.detail(format!("Library: {lib}")),
                    None => finding,
                }
            }
            None => {
                let kind = n.err_kind().unwrap_or("unknown");
                let msg = n.err_message().unwrap_or("");
                let (summary, text, cmds): (String, &str, Vec<&str>) = match (kind, wsl) {
                    ("library-not-found", true) => (
                        "libnvidia-ml.so.1 is missing from /usr/lib/wsl/lib".into(),
                        "Reinstall or update the NVIDIA Windows driver, then restart WSL; never install a Linux driver inside WSL.",
                        vec!["wsl --update", "wsl --shutdown"],
                    ),
                    ("library-not-found", false) => (
                        "the driver is loaded, but its NVML library (libnvidia-ml.so.1) cannot be loaded".into(),
                        "Install the driver's user-space libraries for the loaded driver version (on Ubuntu: the matching libnvidia-compute package).",
                        vec!["ldconfig -p | grep libnvidia-ml"],
                    ),
                    ("no-permission", _) => (
                        "NVML refused access to the GPU (no permission)".into(),
                        "Check the permissions of /dev/nvidia* (they should be 0666), or run as a user with access to them.",
                        vec!["ls -l /dev/nvidia*"],
                    ),
                    ("timeout", _) => (
                        "NVML did not answer before the deadline; the driver may be hung".into(),
                        "Check the kernel log for Xid errors; a hung GPU usually needs a reboot.",
                        vec!["sudo dmesg | grep -i -e xid -e nvrm"],
                    ),
                    _ => (
                        format!("NVML cannot initialise ({kind})"),
                        "Check that nvidia-smi works on the host; if it fails the same way, reinstall the driver.",
                        vec!["nvidia-smi"],
                    ),
                };
                let mut finding = Finding::fire(id, summary);
                if !msg.is_empty() {
                    finding = finding.detail(format!("NVML: {msg}"));
                }
                finding.fix(text, cmds)
            }
        },
    }
}

fn versions(f: &Facts, req: &Requirements) -> Vec<Finding> {
    let driver = nvml_ok(f)
        .map(|n| n.driver_version.clone())
        .or_else(|| f.gpu.kernel_module_version.clone());
    let Some(driver) = driver else {
        return vec![
            Finding::skip("driver.too-old", "driver version unknown"),
            Finding::skip("driver.cuda-unsupported", "driver version unknown"),
        ];
    };
    let min = &req.cuda.container_toolkit_min_driver.value;
    let too_old = match Version::parse(&driver) {
        Some(v) if v.lt(min) => Finding::fire(
            "driver.too-old",
            format!("driver {driver} is older than {min}, the toolkit's minimum"),
        )
        .fix(
            "Install a current NVIDIA driver branch, then reboot.",
            ["sudo ubuntu-drivers install    # Ubuntu", "sudo reboot"],
        ),
        Some(_) => Finding::ok("driver.too-old", format!("driver {driver}")),
        None => Finding::skip(
            "driver.too-old",
            format!("cannot read driver version `{driver}`"),
        ),
    };

    // The newest CUDA this driver runs: NVML knows it exactly; the table estimates it.
    let (max_cuda, how) = match nvml_ok(f).and_then(|n| n.cuda_driver_version) {
        Some(v) => (Some(cuda_from_int(v)), "reported by the driver"),
        None => (
            req.max_cuda_for_driver(&driver).map(|r| r.cuda.clone()),
            "from NVIDIA's release-notes table",
        ),
    };
    let id = "driver.cuda-unsupported";
    let cuda = match (&f.wanted_cuda, &f.docker.image_require_cuda) {
        (Some(w), _) => {
            let Some(max) = &max_cuda else {
                return vec![
                    too_old,
                    Finding::skip(
                        id,
                        format!("cannot tell which CUDA driver {driver} supports"),
                    ),
                ];
            };
            // CUDA compatibility is per major.minor: 12.4.1 runs where 12.4 runs.
            let series = |v: &str| Version::parse(v).map(|v| (v.major(), v.minor()));
            if series(&w.version) > series(max) {
                let need = req.min_driver_for_cuda(&w.version);
                let mut finding = Finding::fire(
                    id,
                    format!("CUDA {} ({}) needs a newer driver: {driver} supports CUDA {max} at most", w.version, w.from),
                )
                .detail(format!("Containers that require cuda>={} fail with: requirement error: unsatisfied condition: cuda>={}", w.version, w.version));
                if let Some(row) = need {
                    finding = finding.detail(format!(
                        "CUDA {} needs driver {} or newer ({}).",
                        w.version, row.min_driver_linux, row.release
                    ));
                }
                finding.fix(
                    match need {
                        Some(row) => format!(
                            "Upgrade the driver to {} or newer, or use an image built for CUDA {max} or older.",
                            row.min_driver_linux
                        ),
                        None => format!("Upgrade the driver, or use an image built for CUDA {max} or older."),
                    },
                    Vec::<String>::new(),
                )
            } else {
                Finding::ok(
                    id,
                    format!(
                        "driver {driver} supports CUDA {} ({}); its limit is CUDA {max}",
                        w.version, w.from
                    ),
                )
            }
        }
        (None, Some(p)) => match p.ok() {
            Some(None) => Finding::info(
                id,
                "the image sets no NVIDIA_REQUIRE_CUDA; nothing to compare",
            ),
            _ => Finding::skip(
                id,
                format!(
                    "cannot read the image's NVIDIA_REQUIRE_CUDA: {}",
                    p.err_message().unwrap_or("unknown error")
                ),
            )
            .detail("The image must be present locally; pull it first."),
        },
        (None, None) => match &max_cuda {
            Some(max) => Finding::info(
                id,
                format!("driver {driver} supports CUDA {max} and older ({how})"),
            ),
            None => Finding::skip(
                id,
                format!("cannot tell which CUDA driver {driver} supports"),
            ),
        },
    };
    vec![too_old, cuda]
}

/// `# R36 (release), REVISION: 4.3, GCID: …` → `L4T R36.4.3`.
fn l4t_release(line: &str) -> String {
    let major = line
        .split_whitespace()
        .find(|w| w.starts_with('R') && w[1..].chars().all(|c| c.is_ascii_digit()));
    let revision = line
        .split_once("REVISION:")
        .and_then(|(_, r)| r.split(',').next())
        .map(str::trim);
    match (major, revision) {
        (Some(m), Some(r)) => format!("L4T {m}.{r}"),
        (Some(m), None) => format!("L4T {m}"),
        _ => line.trim_start_matches('#').trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn l4t_release_lines() {
        assert_eq!(
            super::l4t_release(
                "# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025"
            ),
            "L4T R36.4.3"
        );
        assert_eq!(super::l4t_release("garbage"), "garbage");
    }
}
