//! Distro, kernel and WSL facts.

use crate::facts::{OsFacts, WslFacts, WslKind};
use crate::host::Host;

/// Parses os-release(5): KEY=value lines, values optionally quoted.
pub fn parse_os_release(text: &str) -> OsFacts {
    let mut os = OsFacts::default();
    for line in text.lines() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value)
            .to_string();
        match key.trim() {
            "ID" => os.id = Some(value.to_lowercase()),
            "ID_LIKE" => os.id_like = value.split_whitespace().map(str::to_lowercase).collect(),
            "VERSION_ID" => os.version_id = Some(value),
            "PRETTY_NAME" => os.pretty_name = Some(value),
            _ => {}
        }
    }
    os
}

/// WSL1 kernels say `Microsoft` (capital M, e.g. 4.4.0-19041-Microsoft); WSL2 kernels say
/// `microsoft` (4.19.128-microsoft-standard, 5.15.153.1-microsoft-standard-WSL2).
pub fn wsl_kind(osrelease: &str, proc_version: &str) -> WslKind {
    let both = format!("{osrelease} {proc_version}");
    if osrelease.contains("WSL2") || osrelease.contains("microsoft") {
        WslKind::Wsl2
    } else if both.contains("Microsoft") {
        WslKind::Wsl1
    } else if both.contains("microsoft") {
        WslKind::Wsl2
    } else {
        WslKind::None
    }
}

pub fn gather(host: &Host) -> (OsFacts, WslFacts) {
    let fs = &host.fs;
    let mut os = fs
        .read("/etc/os-release")
        .or_else(|| fs.read("/usr/lib/os-release"))
        .map(|t| parse_os_release(&t))
        .unwrap_or_default();
    os.kernel_release = fs
        .read("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    os.proc_version = fs
        .read("/proc/version")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    // When osrelease is missing, /proc/version's third word is the kernel release.
    if os.kernel_release.is_none() {
        os.kernel_release = os
            .proc_version
            .as_deref()
            .and_then(|v| v.split_whitespace().nth(2))
            .map(str::to_string);
    }
    let mut kind = wsl_kind(
        os.kernel_release.as_deref().unwrap_or(""),
        os.proc_version.as_deref().unwrap_or(""),
    );
    let dxg = fs.exists("/dev/dxg");
    // A custom WSL2 kernel may drop the suffix; /dev/dxg only exists under WSL2.
    if kind == WslKind::None && dxg {
        kind = WslKind::Wsl2;
    }
    let wsl = WslFacts {
        kind,
        dxg,
        dxcore: fs.exists("/usr/lib/wsl/lib/libdxcore.so"),
        libcuda: fs.exists("/usr/lib/wsl/lib/libcuda.so.1")
            || fs.exists("/usr/lib/wsl/lib/libcuda.so"),
        libnvml: fs.exists("/usr/lib/wsl/lib/libnvidia-ml.so.1"),
        interop: fs.exists("/proc/sys/fs/binfmt_misc/WSLInterop"),
        distro_name: host.env.get("WSL_DISTRO_NAME").cloned(),
    };
    (os, wsl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_ubuntu() {
        let os = parse_os_release(
            "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\n",
        );
        assert_eq!(os.id.as_deref(), Some("ubuntu"));
        assert_eq!(os.version_id.as_deref(), Some("22.04"));
        assert_eq!(os.id_like, vec!["debian"]);
        assert_eq!(os.pretty_name.as_deref(), Some("Ubuntu 22.04.4 LTS"));
    }

    #[test]
    fn os_release_rhel_family_and_arch() {
        let os = parse_os_release(
            "NAME=\"Rocky Linux\"\nVERSION=\"9.4 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n",
        );
        assert_eq!(os.id.as_deref(), Some("rocky"));
        assert_eq!(os.id_like, vec!["rhel", "centos", "fedora"]);
        let arch = parse_os_release("NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n");
        assert_eq!(arch.id.as_deref(), Some("arch"));
        assert_eq!(arch.version_id, None);
    }

    #[test]
    fn wsl_kinds_from_real_kernel_strings() {
        assert_eq!(
            wsl_kind(
                "4.4.0-19041-Microsoft",
                "Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0 (GCC) ) #1237-Microsoft Sat Sep 11 14:32:00 PST 2021"
            ),
            WslKind::Wsl1
        );
        assert_eq!(
            wsl_kind(
                "5.15.153.1-microsoft-standard-WSL2",
                "Linux version 5.15.153.1-microsoft-standard-WSL2 (root@941d701f84f1) (gcc (GCC) 12.2.0, GNU ld (GNU Binutils) 2.40) #1 SMP Fri Mar 29 23:14:13 UTC 2024"
            ),
            WslKind::Wsl2
        );
        assert_eq!(wsl_kind("4.19.128-microsoft-standard", ""), WslKind::Wsl2);
        assert_eq!(
            wsl_kind(
                "6.5.0-35-generic",
                "Linux version 6.5.0-35-generic (buildd@lcy02-amd64-079) (x86_64-linux-gnu-gcc-12 (Ubuntu 12.3.0-1ubuntu1~22.04) 12.3.0) #35~22.04.1-Ubuntu SMP"
            ),
            WslKind::None
        );
    }
}
