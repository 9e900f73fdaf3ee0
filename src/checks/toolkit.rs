//! Toolkit and CDI checks.

use super::{Finding, Status};
use crate::facts::Facts;
use crate::requirements::Requirements;
use crate::version::Version;

pub fn run(f: &Facts, req: &Requirements, out: &mut Vec<Finding>) {
    let no_gpu = out
        .iter()
        .any(|x| x.id == "gpu.none" && x.status == Status::Error);
    let wsl1 = out
        .iter()
        .any(|x| x.id == "wsl.version-1" && x.status == Status::Error);
    out.push(not_installed(f, no_gpu, wsl1));
    out.push(vulnerable(f, req));
    out.push(config_invalid(f));
    out.push(no_cgroups_rootful(f));
    out.extend(cdi(f));
}

/// The toolkit's version, from the package database first (what is installed), else the CLI.
pub fn toolkit_version(f: &Facts) -> Option<String> {
    ["nvidia-container-toolkit", "nvidia-container-toolkit-base"]
        .iter()
        .find_map(|p| f.toolkit.packages.get(*p).cloned())
        .or_else(|| f.toolkit.ctk_version.clone())
        .or_else(|| {
            ["libnvidia-container1", "libnvidia-container-tools"]
                .iter()
                .find_map(|p| f.toolkit.packages.get(*p).cloned())
        })
}

fn not_installed(f: &Facts, no_gpu: bool, wsl1: bool) -> Finding {
    let id = "toolkit.not-installed";
    if f.is_docker_desktop() {
        return Finding::skip(id, "Docker Desktop needs no toolkit inside the distro");
    }
    if f.toolkit_installed() {
        let v = toolkit_version(f)
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        return Finding::ok(id, format!("NVIDIA Container Toolkit{v} installed"));
    }
    if no_gpu || wsl1 {
        return Finding::skip(id, "no GPU to give containers; fix that first");
    }
    if f.docker.snap {
        return Finding::skip(id, "the Docker snap brings its own NVIDIA runtime");
    }
    let mut cmds = crate::install::toolkit_commands(&f.os);
    cmds.push("sudo nvctk setup docker".into());
    Finding::fire(id, "the NVIDIA Container Toolkit is not installed")
        .detail("Without it the engine has no GPU device driver: docker: Error response from daemon: could not select device driver \"\" with capabilities: [[gpu]].")
        .detail("None of nvidia-container-runtime-hook, nvidia-container-cli, nvidia-ctk or nvidia-container-runtime was found.")
        .fix(
            if f.is_wsl2() {
                "Install the toolkit from NVIDIA's repository (inside WSL2 install only the toolkit, never a Linux driver), then register it with Docker."
            } else {
                "Install the toolkit from NVIDIA's repository, then register it with Docker."
            },
            cmds,
        )
}

fn vulnerable(f: &Facts, req: &Requirements) -> Finding {
    let id = "toolkit.vulnerable";
    if !f.toolkit_installed() {
        return Finding::skip(id, "the toolkit is not installed");
    }
    let Some(raw) = toolkit_version(f) else {
        return Finding::skip(id, "toolkit version unknown");
    };
    let Some(v) = Version::parse(&raw) else {
        return Finding::skip(id, format!("cannot read toolkit version `{raw}`"));
    };
    let open: Vec<_> = req
        .security
        .rows
        .iter()
        .filter(|r| v.lt(&r.fixed_in))
        .collect();
    if open.is_empty() {
        return Finding::ok(
            id,
            format!("toolkit {raw} has every fix in NVIDIA's security bulletins"),
        );
    }
    let newest = open
        .iter()
        .map(|r| r.fixed_in.as_str())
        .max_by(|a, b| crate::version::compare(a, b).unwrap_or(std::cmp::Ordering::Equal))
        .unwrap_or("");
    let mut finding = Finding::fire(
        id,
        format!(
            "toolkit {raw} lacks security fixes for {} CVE{}; upgrade to {newest} or newer",
            open.len(),
            if open.len() == 1 { "" } else { "s" }
        ),
    );
    for r in open.iter().take(3) {
        finding = finding.detail(format!(
            "{} ({}, fixed in {}): {}",
            r.cve, r.severity, r.fixed_in, r.summary
        ));
    }
    if open.len() > 3 {
        let rest: Vec<&str> = open[3..].iter().map(|r| r.cve.as_str()).collect();
        finding = finding.detail(format!("Also: {}.", rest.join(", ")));
    }
    finding.fix(
        "Upgrade the toolkit packages, then restart the engine.",
        crate::install::toolkit_upgrade(&f.os),
    )
}

fn config_invalid(f: &Facts) -> Finding {
    let id = "toolkit.config-invalid";
    match &f.toolkit.config {
        None if f.toolkit_installed() => Finding::ok(id, "no config.toml (toolkit defaults)"),
        None => Finding::skip(id, "the toolkit is not installed"),
        Some(c) => match c.parsed.ok() {
            Some(_) => Finding::ok(id, format!("{} parses", c.path)),
            None => Finding::fire(id, format!("{}:{}", c.path, c.parsed.err_message().unwrap_or("")))
                .detail("Every GPU container start reads this file; the runtime fails while it does not parse.")
                .fix(
                    "Fix the file, or regenerate the defaults (after saving your changes elsewhere).",
                    ["sudo nvidia-ctk config --config-file /etc/nvidia-container-runtime/config.toml --in-place"],
                ),
        },
    }
}

fn no_cgroups_rootful(f: &Facts) -> Finding {
    let id = "toolkit.no-cgroups-on-rootful";
    let Some(no_cgroups) = f.toolkit_no_cgroups() else {
        return Finding::skip(id, "no parsable config.toml");
    };
    if !no_cgroups {
        return Finding::ok(id, "no-cgroups = false");
    }
    if f.engine().is_none() {
        return Finding::skip(
            id,
            "no-cgroups = true; engine not reachable to tell rootful from rootless",
        );
    }
    if f.engine_rootless() {
        return Finding::ok(id, "no-cgroups = true on a rootless engine, as required");
    }
    Finding::fire(
        id,
        "no-cgroups = true on a rootful engine: containers get no GPU device access",
    )
    .detail("Inside containers NVML then fails with: Failed to initialize NVML: Unknown Error.")
    .detail("no-cgroups is only for rootless engines.")
    .fix(
        "Set no-cgroups = false in /etc/nvidia-container-runtime/config.toml.",
        ["sudo nvidia-ctk config --set nvidia-container-cli.no-cgroups=false --in-place"],
    )
}

fn cdi(f: &Facts) -> Vec<Finding> {
    if f.cdi.is_empty() {
        return ["cdi.spec-invalid", "cdi.spec-stale", "cdi.spec-duplicate"]
            .iter()
            .map(|id| Finding::skip(id, "no CDI specs in /etc/cdi or /var/run/cdi"))
            .collect();
    }
    let bad: Vec<_> = f.cdi.iter().filter(|s| s.parsed.ok().is_none()).collect();
    let invalid = if bad.is_empty() {
        Finding::ok(
            "cdi.spec-invalid",
            format!(
                "{} CDI spec{} parse",
                f.cdi.len(),
                if f.cdi.len() == 1 { "" } else { "s" }
            ),
        )
    } else {
        let mut finding = Finding::fire(
            "cdi.spec-invalid",
            format!("CDI spec {} does not parse", bad[0].path),
        );
        for s in &bad {
            finding = finding.detail(format!(
                "{}: {}",
                s.path,
                s.parsed.err_message().unwrap_or("")
            ));
        }
        finding.fix(
            "Regenerate the spec with the toolkit.",
            [format!(
                "sudo nvidia-ctk cdi generate --output={}",
                bad[0].path
            )],
        )
    };
    let stale: Vec<_> = f
        .cdi
        .iter()
        .filter_map(|s| s.parsed.ok().map(|p| (s, p)))
        .filter(|(_, p)| !p.missing_paths.is_empty())
        .collect();
    let stale_f = if stale.is_empty() {
        Finding::ok("cdi.spec-stale", "every host path in the CDI specs exists")
    } else {
        let (spec, sum) = stale[0];
        let mut finding = Finding::fire(
            "cdi.spec-stale",
            format!(
                "{} names {} (the driver changed since it was generated)",
                spec.path,
                match sum.missing_paths.len() {
                    1 => "a host path that no longer exists".to_string(),
                    n => format!("{n} host paths that no longer exist"),
                }
            ),
        );
        for (s, p) in &stale {
            for m in p.missing_paths.iter().take(10) {
                finding = finding.detail(format!("{}: {m}", s.path));
            }
        }
        finding.fix(
            "Regenerate the spec for the installed driver.",
            stale
                .iter()
                .map(|(s, _)| format!("sudo nvidia-ctk cdi generate --output={}", s.path))
                .collect::<Vec<_>>(),
        )
    };
    let nvidia_in = |dir: &str| {
        f.cdi.iter().any(|s| {
            s.path.starts_with(dir)
                && s.parsed
                    .ok()
                    .and_then(|p| p.kind.as_deref())
                    .is_some_and(|k| k.starts_with("nvidia.com/"))
        })
    };
    let dup = if nvidia_in("/etc/cdi/") && nvidia_in("/var/run/cdi/") {
        Finding::fire("cdi.spec-duplicate", "NVIDIA CDI specs exist in both /etc/cdi and /var/run/cdi")
            .detail("Two specs for the same devices conflict; engines refuse or pick one unpredictably.")
            .fix(
                "Keep one. With toolkit 1.18+ the nvidia-cdi-refresh service keeps /var/run/cdi/nvidia.yaml current; remove the static copy.",
                ["sudo rm /etc/cdi/nvidia.yaml"],
            )
    } else {
        Finding::ok("cdi.spec-duplicate", "one place holds the NVIDIA CDI spec")
    };
    vec![invalid, stale_f, dup]
}
