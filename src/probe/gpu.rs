//! NVIDIA hardware and kernel-driver facts: PCI, modules, /proc/driver/nvidia, device nodes.

use crate::facts::{GpuFacts, PciDevice};
use crate::host::Host;
use std::collections::BTreeMap;

/// Names of loaded modules from /proc/modules (first word of each line).
pub fn parse_modules(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Character-device majors whose name starts with `nvidia`, from /proc/devices.
pub fn parse_nvidia_majors(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("Block devices") {
            break;
        }
        let mut words = line.split_whitespace();
        if let (Some(num), Some(name)) = (words.next(), words.next()) {
            if let (Ok(major), true) = (num.parse::<u32>(), name.starts_with("nvidia")) {
                out.push((major, name.to_string()));
            }
        }
    }
    out
}

/// The kernel module version from /proc/driver/nvidia/version:
/// `NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.90.07  Fri May 31 …`
/// (open modules say `NVIDIA UNIX Open Kernel Module for x86_64  560.35.03  Release Build …`).
pub fn parse_driver_version_file(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with("NVRM version:"))?;
    let rest = line.split_once("Kernel Module")?.1;
    rest.split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()) && w.contains('.'))
        .map(str::to_string)
}

/// `libnvidia-ml.so.550.54.14` → `550.54.14`; the bare `.so.1` link says nothing.
pub fn lib_version_from_name(name: &str) -> Option<String> {
    let v = name.strip_prefix("libnvidia-ml.so.")?;
    (v.contains('.') && v.chars().all(|c| c.is_ascii_digit() || c == '.')).then(|| v.to_string())
}

/// Linux driver packages: they must never be installed inside WSL2, and on a native host
/// they say a GPU is meant to be there even when the module is not loaded.
pub fn driver_packages(packages: &BTreeMap<String, String>) -> Vec<String> {
    packages
        .keys()
        .filter(|name| {
            let n = name.as_str();
            (n.starts_with("nvidia-driver")
                || n.starts_with("libnvidia-compute-")
                || n.starts_with("nvidia-kernel-")
                || n.starts_with("nvidia-dkms-")
                || n.starts_with("kmod-nvidia")
                || n == "cuda-drivers"
                || n.starts_with("xserver-xorg-video-nvidia"))
                && !n.starts_with("libnvidia-container")
        })
        .cloned()
        .collect()
}

const LIB_DIRS: [&str; 6] = [
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/lib/x86_64-linux-gnu",
    "/lib64",
];

pub fn gather(host: &Host, packages: &BTreeMap<String, String>) -> GpuFacts {
    let fs = &host.fs;
    let mut g = GpuFacts::default();
    for addr in fs.list("/sys/bus/pci/devices") {
        let read = |f: &str| {
            fs.read(&format!("/sys/bus/pci/devices/{addr}/{f}"))
                .map(|s| s.trim().to_lowercase())
                .unwrap_or_default()
        };
        let class = read("class");
        // Only display controllers: NVIDIA also makes bridges and audio functions.
        if class.starts_with("0x03") {
            g.pci.push(PciDevice {
                vendor: read("vendor"),
                device: read("device"),
                class,
                address: addr,
            });
        }
    }
    let modules = fs
        .read("/proc/modules")
        .map(|t| parse_modules(&t))
        .unwrap_or_default();
    g.module_nvidia = modules.iter().any(|m| m == "nvidia");
    g.module_nouveau = modules.iter().any(|m| m == "nouveau");
    g.kernel_module_version = fs
        .read("/proc/driver/nvidia/version")
        .and_then(|t| parse_driver_version_file(&t));
    // Library folders hold thousands of names; only the NVML ones are recorded.
    let mut libs: Vec<String> = LIB_DIRS
        .iter()
        .flat_map(|d| {
            fs.list_quiet(d)
                .into_iter()
                .filter(|n| n.starts_with("libnvidia-ml.so."))
                .map(move |n| format!("{d}/{n}"))
        })
        .filter(|p| fs.exists(p))
        .filter_map(|p| lib_version_from_name(p.rsplit('/').next().unwrap_or("")))
        .collect();
    libs.sort();
    libs.dedup();
    g.user_lib_versions = libs;
    let mut nodes: Vec<String> = fs
        .list_quiet("/dev")
        .into_iter()
        .filter(|n| n.starts_with("nvidia") && fs.exists(&format!("/dev/{n}")))
        .collect();
    nodes.sort();
    g.device_nodes = nodes;
    g.majors = fs
        .read("/proc/devices")
        .map(|t| parse_nvidia_majors(&t))
        .unwrap_or_default();
    g.char_links = fs.list("/dev/char");
    g.driver_packages = driver_packages(packages);
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_version_files_proprietary_and_open() {
        let prop = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.90.07  Fri May 31 09:35:42 UTC 2024\nGCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04) \n";
        assert_eq!(
            parse_driver_version_file(prop).as_deref(),
            Some("550.90.07")
        );
        let open = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  560.35.03  Release Build  (dvs-builder@U16-I3-B03-4-3)  Fri Aug 16 21:42:42 UTC 2024\nGCC version:  gcc version 14.2.1 20240805 (GCC) \n";
        assert_eq!(
            parse_driver_version_file(open).as_deref(),
            Some("560.35.03")
        );
        let aarch = "NVRM version: NVIDIA UNIX aarch64 Kernel Module  535.104.05  Sat Aug 19 01:13:37 UTC 2023\n";
        assert_eq!(
            parse_driver_version_file(aarch).as_deref(),
            Some("535.104.05")
        );
        assert_eq!(parse_driver_version_file("garbage"), None);
    }

    #[test]
    fn proc_devices_majors() {
        let text = "Character devices:\n  1 mem\n  4 /dev/vc/0\n195 nvidia-frontend\n226 drm\n508 nvidia-uvm\n509 nvidia-caps\n\nBlock devices:\n  7 loop\n259 nvidia-fake\n";
        assert_eq!(
            parse_nvidia_majors(text),
            vec![
                (195, "nvidia-frontend".to_string()),
                (508, "nvidia-uvm".to_string()),
                (509, "nvidia-caps".to_string())
            ]
        );
    }

    #[test]
    fn proc_modules() {
        let text = "nvidia_uvm 1437696 0 - Live 0x0000000000000000 (POE)\nnvidia 56823808 1 nvidia_uvm, Live 0x0000000000000000 (POE)\nsnd 126976 0 - Live 0x0000000000000000\n";
        assert_eq!(parse_modules(text), vec!["nvidia_uvm", "nvidia", "snd"]);
    }

    #[test]
    fn library_names() {
        assert_eq!(
            lib_version_from_name("libnvidia-ml.so.550.54.14").as_deref(),
            Some("550.54.14")
        );
        assert_eq!(lib_version_from_name("libnvidia-ml.so.1"), None);
        assert_eq!(lib_version_from_name("libnvidia-mlx.so.1.2"), None);
    }

    #[test]
    fn driver_packages_exclude_the_toolkit() {
        let pkgs: BTreeMap<String, String> = [
            ("nvidia-driver-550", "550.90.07-0ubuntu1"),
            ("libnvidia-compute-550", "550.90.07-0ubuntu1"),
            ("libnvidia-container1", "1.17.8-1"),
            ("nvidia-container-toolkit", "1.17.8-1"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(
            driver_packages(&pkgs),
            vec!["libnvidia-compute-550", "nvidia-driver-550"]
        );
    }
}
