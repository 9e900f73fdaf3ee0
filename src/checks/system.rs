//! Distro, kernel, disk and WSL checks.

use super::Finding;
use crate::facts::{Facts, WslKind};
use crate::requirements::Requirements;
use crate::version::Version;

const GIB: u64 = 1024 * 1024 * 1024;

pub fn run(f: &Facts, req: &Requirements, out: &mut Vec<Finding>) {
    out.push(distro(f, req));
    out.push(kernel(f, req));
    out.push(disk(f, req));
    out.extend(wsl(f, req));
}

fn distro(f: &Facts, req: &Requirements) -> Finding {
    let id = "os.unsupported-distro";
    let Some(os_id) = f.os.id.as_deref() else {
        return Finding::skip(id, "no /etc/os-release; cannot tell the distribution");
    };
    let name =
        f.os.pretty_name
            .clone()
            .unwrap_or_else(|| os_id.to_string());
    if req
        .distro_supported(os_id, &f.os.id_like, f.os.version_id.as_deref())
        .is_some()
    {
        return Finding::ok(
            id,
            format!("{name} is supported by the NVIDIA Container Toolkit"),
        );
    }
    let listed: Vec<String> = req
        .distros
        .supported
        .iter()
        .map(|r| {
            let v: Vec<&str> = r.versions.iter().map(|v| v.version.as_str()).collect();
            format!("{} {}", r.name, v.join("/"))
        })
        .collect();
    let mut finding = Finding::fire(
        id,
        format!("{name} is not in the toolkit's tested distributions"),
    )
    .detail(format!("Tested: {}.", listed.join(", ")));
    if !f.os.id_like.is_empty() {
        finding = finding.detail(format!(
            "It derives from {}; the toolkit's packages for that family usually work, but NVIDIA does not test them here.",
            f.os.id_like.join(", ")
        ));
    }
    finding.fix(
        "Containers may still work; if something fails, try a tested release before reporting a toolkit bug.",
        Vec::<String>::new(),
    )
}

fn kernel(f: &Facts, req: &Requirements) -> Finding {
    let id = "os.kernel-too-old";
    let Some(release) = f.os.kernel_release.as_deref() else {
        return Finding::skip(id, "kernel version unknown (no /proc/sys/kernel/osrelease)");
    };
    let min = &req.docker.kernel_min.value;
    // NVIDIA asks for a kernel newer than 3.10. Only the series counts: 3.10.0-1160.el7 is
    // still 3.10, the distro's build suffix does not make it newer.
    let series = |v: &Version| (v.major(), v.minor());
    match (Version::parse(release), Version::parse(min)) {
        (Some(v), Some(m)) if series(&v) <= series(&m) => Finding::fire(
            id,
            format!("kernel {release} is too old; the toolkit needs a kernel newer than {min}"),
        )
        .detail("Current toolkit releases no longer support distributions on 3.10 kernels (RHEL/CentOS 7).")
        .fix("Upgrade to a supported distribution release with a newer kernel.", Vec::<String>::new()),
        (Some(_), _) => Finding::ok(id, format!("kernel {release}")),
        (None, _) => Finding::skip(id, format!("cannot read kernel version `{release}`")),
    }
}

fn disk(f: &Facts, req: &Requirements) -> Finding {
    let id = "host.docker-disk-low";
    let root_dir = f.info_str("DockerRootDir").unwrap_or("/var/lib/docker");
    // The mount holding the engine's data: the longest mount point that prefixes it.
    let Some(disk) = f
        .resources
        .disks
        .iter()
        .filter(|d| {
            let mp = d.mount_point.trim_end_matches('/');
            root_dir == mp || root_dir.starts_with(&format!("{mp}/")) || mp.is_empty()
        })
        .max_by_key(|d| d.mount_point.len())
    else {
        return Finding::skip(id, format!("no disk figures for {root_dir}"));
    };
    let min_gib: u64 = req.docker.host_disk_low.value.parse().unwrap_or(20);
    let free = disk.available_bytes as f64 / GIB as f64;
    if disk.available_bytes < min_gib * GIB {
        Finding::fire(
            id,
            format!("only {free:.1} GiB free on {} where the engine keeps images ({root_dir})", disk.mount_point),
        )
        .detail("CUDA devel and Unreal Engine images are tens of GB; pulls fail half-way when space runs out.")
        .fix(
            format!("Free at least {min_gib} GiB there, or move the engine's data-root to a bigger disk."),
            ["docker system df", "docker image prune"],
        )
    } else {
        Finding::ok(id, format!("{free:.0} GiB free for images ({root_dir})"))
    }
}

fn wsl(f: &Facts, req: &Requirements) -> Vec<Finding> {
    let ids = [
        "wsl.version-1",
        "wsl.kernel-too-old",
        "wsl.no-gpu-paravirtualization",
        "wsl.linux-driver-installed",
    ];
    match f.wsl.kind {
        WslKind::None => ids
            .iter()
            .map(|id| Finding::skip(id, "not running under WSL"))
            .collect(),
        WslKind::Wsl1 => {
            let distro = f
                .wsl
                .distro_name
                .clone()
                .unwrap_or_else(|| "<distro>".into());
            let mut v = vec![
                Finding::fire("wsl.version-1", "this distro runs under WSL1, which has no GPU access")
                    .detail("WSL1 translates Linux calls and has no GPU paravirtualization; only WSL2 can reach the Windows driver.")
                    .fix(
                        "Convert the distro to WSL2 from a Windows terminal, then open it again.",
                        [format!("wsl --set-version {distro} 2")],
                    ),
            ];
            v.extend(
                ids[1..]
                    .iter()
                    .map(|id| Finding::skip(id, "the distro runs under WSL1; fix that first")),
            );
            v
        }
        WslKind::Wsl2 => {
            let mut v = vec![Finding::ok("wsl.version-1", "running under WSL2")];
            v.push(wsl_kernel(f, req));
            v.push(if f.wsl.dxg && f.wsl.dxcore {
                Finding::ok(
                    "wsl.no-gpu-paravirtualization",
                    "GPU paravirtualization present (/dev/dxg, /usr/lib/wsl/lib/libdxcore.so)",
                )
            } else {
                let missing: Vec<&str> = [
                    (!f.wsl.dxg).then_some("/dev/dxg"),
                    (!f.wsl.dxcore).then_some("/usr/lib/wsl/lib/libdxcore.so"),
                ]
                .into_iter()
                .flatten()
                .collect();
                Finding::fire(
                    "wsl.no-gpu-paravirtualization",
                    format!("WSL2 exposes no GPU: {} missing", missing.join(" and ")),
                )
                .detail("Windows must provide GPU paravirtualization: Windows 11, or Windows 10 21H2 (build 19044) or newer, with a current NVIDIA Windows driver.")
                .fix(
                    "Update Windows and the NVIDIA Windows driver, then update WSL and restart it (from a Windows terminal).",
                    ["wsl --update", "wsl --shutdown"],
                )
            });
            let libs_inside = !f.gpu.user_lib_versions.is_empty();
            v.push(if f.gpu.driver_packages.is_empty() && !libs_inside && f.gpu.kernel_module_version.is_none() {
                Finding::ok("wsl.linux-driver-installed", "no Linux NVIDIA driver inside WSL2 (good: the Windows driver serves it)")
            } else {
                let mut what: Vec<String> = f.gpu.driver_packages.clone();
                what.extend(f.gpu.user_lib_versions.iter().map(|v| format!("libnvidia-ml.so.{v}")));
                let mut fix_cmds: Vec<String> = Vec::new();
                if !f.gpu.driver_packages.is_empty() {
                    fix_cmds.push(format!("sudo apt-get remove --purge {}", f.gpu.driver_packages.join(" ")));
                }
                Finding::fire(
                    "wsl.linux-driver-installed",
                    "a Linux NVIDIA driver is installed inside WSL2 and shadows the Windows driver's libraries",
                )
                .detail(format!("Found: {}.", what.join(", ")))
                .fix(
                    "Remove the Linux driver from the distro; under WSL2 only the Windows driver is used (its libraries are in /usr/lib/wsl/lib).",
                    fix_cmds,
                )
            });
            v
        }
    }
}

fn wsl_kernel(f: &Facts, req: &Requirements) -> Finding {
    let id = "wsl.kernel-too-old";
    let Some(release) = f.os.kernel_release.as_deref() else {
        return Finding::skip(id, "kernel version unknown");
    };
    let Some(v) = Version::parse(release) else {
        return Finding::skip(id, format!("cannot read kernel version `{release}`"));
    };
    let min = &req.docker.wsl_kernel_min.value;
    let rec = &req.docker.wsl_kernel_recommended.value;
    if v.lt(min) {
        Finding::fire(
            id,
            format!("WSL2 kernel {release} is older than {min}, the first with GPU support"),
        )
        .fix(
            "Update the WSL kernel from a Windows terminal.",
            ["wsl --update", "wsl --shutdown"],
        )
    } else if v.lt(rec) {
        Finding::fire(
            id,
            format!("WSL2 kernel {release} is older than the recommended {rec}"),
        )
        .with_status(super::Status::Warn)
        .fix(
            "Update the WSL kernel from a Windows terminal.",
            ["wsl --update", "wsl --shutdown"],
        )
    } else {
        Finding::ok(id, format!("WSL2 kernel {release}"))
    }
}
