//! Docker engine, CLI and configuration checks.

use super::{Finding, Status};
use crate::facts::{ConfigFile, Facts};
use crate::requirements::Requirements;
use crate::version::Version;
use serde_json::Value;

pub fn run(f: &Facts, req: &Requirements, out: &mut Vec<Finding>) {
    let (installed, reachable) = presence(f);
    out.push(installed);
    out.push(reachable);
    out.extend(versions(f, req));
    out.push(daemon_json_invalid(f));
    let not_applied = daemon_json_not_applied(f);
    let nvidia_pending = not_applied.status == Status::Error
        && not_applied.details.iter().any(|d| d.contains("\"nvidia\""));
    out.push(not_applied);
    out.push(runtime_missing(f, nvidia_pending));
    out.push(runtime_binary_missing(f));
    out.push(default_runtime(f));
    out.push(flag_conflicts(f));
    out.extend(desktop(f));
    out.push(snap(f));
    out.push(rootless(f));
    out.push(dev_char(f));
}

fn engine_err(f: &Facts) -> Option<(&str, &str)> {
    let e = f.docker.engine.as_ref()?;
    Some((e.err_kind()?, e.err_message().unwrap_or("")))
}

/// How to restart the engine the user has.
fn restart_cmds(f: &Facts) -> Vec<String> {
    if f.docker.snap {
        vec!["sudo snap restart docker".into()]
    } else if f.engine_rootless() {
        vec!["systemctl --user restart docker".into()]
    } else if f.is_wsl2() {
        vec![
            "sudo systemctl restart docker".into(),
            "sudo service docker restart    # WSL without systemd".into(),
        ]
    } else {
        vec!["sudo systemctl restart docker".into()]
    }
}

fn is_podman_engine(f: &Facts) -> bool {
    f.engine()
        .and_then(|e| e.version.get("Components"))
        .is_some_and(|c| c.to_string().contains("Podman"))
}

fn presence(f: &Facts) -> (Finding, Finding) {
    let endpoint = f.docker.endpoint.clone().unwrap_or_default();
    match engine_err(f) {
        Some(("not-installed", _)) => {
            let installed = if f.docker.podman {
                Finding::info("docker.not-installed", "Docker is not installed; podman is here (GPU through CDI)")
                    .detail("podman reaches the GPU through CDI specs: `podman run --device nvidia.com/gpu=all …`.")
            } else {
                Finding::fire("docker.not-installed", "Docker is not installed (no docker CLI, no engine socket)").fix(
                    "Install Docker Engine from your distribution or from Docker's repository, then run `nvctk setup docker`.",
                    ["sudo apt-get install -y docker.io    # Debian/Ubuntu", "sudo dnf install -y moby-engine    # Fedora"],
                )
            };
            (
                installed,
                Finding::skip("docker.unreachable", "Docker is not installed"),
            )
        }
        Some((kind, msg)) => {
            let installed = Finding::ok(
                "docker.not-installed",
                match &f.docker.client_version {
                    Some(v) => format!("Docker CLI {v} installed"),
                    None => "Docker is installed".into(),
                },
            );
            let (summary, text, cmds): (String, String, Vec<String>) = match kind {
                "permission-denied" => (
                    format!("permission denied on the engine socket ({endpoint})"),
                    "Add your user to the docker group and log in again (the group grants root-equivalent access), or use sudo.".into(),
                    vec!["sudo usermod -aG docker $USER".into(), "newgrp docker".into()],
                ),
                "timeout" => (
                    format!("the engine at {endpoint} accepted the connection but did not answer in time"),
                    "The engine is hung; restart it and check its log.".into(),
                    restart_cmds(f)
                        .into_iter()
                        .chain(["sudo journalctl -u docker --no-pager -n 50".to_string()])
                        .collect(),
                ),
                "not-running" => {
                    let mut text = "Start the engine; if it does not stay up, its log says why.".to_string();
                    if f.docker.daemon_json.as_ref().is_some_and(|c| c.parsed.ok().is_none()) {
                        text.push_str(" Its daemon.json does not parse, which alone stops dockerd: see docker.daemon-json-invalid.");
                    }
                    (
                        format!("the Docker engine is not running ({endpoint})"),
                        text,
                        vec![
                            "sudo systemctl start docker".into(),
                            "sudo journalctl -u docker --no-pager -n 50".into(),
                        ],
                    )
                }
                _ => (
                    format!("cannot reach the Docker engine at {endpoint}"),
                    "Check DOCKER_HOST and the current docker context.".into(),
                    vec!["docker context ls".into()],
                ),
            };
            let mut reach = Finding::fire("docker.unreachable", summary);
            if !msg.is_empty() {
                reach = reach.detail(msg.to_string());
            }
            (installed, reach.fix(text, cmds))
        }
        None => match f.engine() {
            Some(e) => {
                let v = e
                    .version
                    .get("Version")
                    .and_then(|v| v.as_str())
                    .unwrap_or("?");
                (
                    Finding::ok(
                        "docker.not-installed",
                        match &f.docker.client_version {
                            Some(c) => format!("Docker CLI {c} installed"),
                            None => "Docker engine installed (no docker CLI on PATH)".to_string(),
                        },
                    ),
                    Finding::ok(
                        "docker.unreachable",
                        format!("engine {v} answers at {endpoint}"),
                    ),
                )
            }
            None => (
                Finding::skip("docker.not-installed", "Docker was not probed"),
                Finding::skip("docker.unreachable", "Docker was not probed"),
            ),
        },
    }
}

fn versions(f: &Facts, req: &Requirements) -> Vec<Finding> {
    let ids = [
        "docker.too-old",
        "docker.gpus-flag-unsupported",
        "docker.client-too-old",
    ];
    let Some(e) = f.engine() else {
        return ids
            .iter()
            .map(|id| Finding::skip(id, "engine not reachable"))
            .collect();
    };
    if is_podman_engine(f) {
        return ids
            .iter()
            .map(|id| {
                Finding::skip(
                    id,
                    "the socket is podman's Docker-compatible API; Docker versions do not apply",
                )
            })
            .collect();
    }
    let raw = e
        .version
        .get("Version")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let Some(v) = Version::parse(raw) else {
        return ids
            .iter()
            .map(|id| Finding::skip(id, format!("cannot read engine version `{raw}`")))
            .collect();
    };
    let min = &req.docker.engine_min.value;
    let gpus = &req.docker.gpus_flag_min.value;
    let too_old = if v.lt(min) {
        Finding::fire(
            "docker.too-old",
            format!("Docker engine {raw} is older than {min}"),
        )
        .fix(
            "Upgrade Docker Engine (Docker's repository has current releases).",
            ["docker version"],
        )
    } else {
        Finding::ok(
            "docker.too-old",
            format!("engine {raw} is new enough ({min}+)"),
        )
    };
    let gpus_flag = if v.lt(gpus) {
        Finding::fire(
            "docker.gpus-flag-unsupported",
            format!("engine {raw} predates {gpus}: `docker run --gpus` is not available"),
        )
        .detail(
            "Use `--runtime=nvidia -e NVIDIA_VISIBLE_DEVICES=all` with this engine, or upgrade it.",
        )
        .fix(
            format!("Upgrade Docker Engine to {gpus} or newer."),
            Vec::<String>::new(),
        )
    } else {
        Finding::ok(
            "docker.gpus-flag-unsupported",
            format!("the engine supports --gpus ({gpus}+)"),
        )
    };
    let client_min = &req.docker.client_min.value;
    let client = match f.docker.client_version.as_deref().and_then(Version::parse) {
        None => Finding::skip("docker.client-too-old", "no docker CLI found"),
        Some(c) if c.lt(client_min) && !v.lt(client_min) => Finding::fire(
            "docker.client-too-old",
            format!("docker CLI {c} is older than {client_min} and does not know `--gpus`, although the engine ({raw}) does"),
        )
        .fix("Upgrade the docker CLI package to match the engine.", ["docker version"]),
        Some(_) => Finding::ok("docker.client-too-old", format!("the docker CLI supports --gpus ({client_min}+)")),
    };
    vec![too_old, gpus_flag, client]
}

fn daemon_json_invalid(f: &Facts) -> Finding {
    let id = "docker.daemon-json-invalid";
    if f.is_docker_desktop() {
        return Finding::skip(
            id,
            "Docker Desktop keeps its engine settings in Settings > Docker Engine",
        );
    }
    match &f.docker.daemon_json {
        None => Finding::ok(id, "no daemon.json (engine defaults)"),
        Some(ConfigFile { path, parsed }) => match parsed.ok() {
            Some(_) => Finding::ok(id, format!("{path} parses")),
            None => {
                let msg = parsed.err_message().unwrap_or("");
                let (line, col, what) =
                    crate::probe::config::split_place(msg).unwrap_or((0, 0, msg));
                Finding::fire(id, format!("{path}:{line}:{col}: {what}"))
                    .detail("dockerd refuses to start with an invalid daemon.json; nvctk never rewrites a file it cannot parse.")
                    .fix(
                        format!("Fix line {line} of {path} (JSON has no comments and no trailing commas), then restart the engine."),
                        std::iter::once(format!("sudo python3 -m json.tool {path}"))
                            .chain(restart_cmds(f))
                            .collect::<Vec<_>>(),
                    )
            }
        },
    }
}

fn runtimes_of(v: &Value) -> Vec<String> {
    v.get("runtimes")
        .and_then(|r| r.as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn daemon_json_not_applied(f: &Facts) -> Finding {
    let id = "docker.daemon-json-not-applied";
    if f.is_docker_desktop() {
        return Finding::skip(id, "Docker Desktop does not read the distro's daemon.json");
    }
    let Some(e) = f.engine() else {
        return Finding::skip(id, "engine not reachable");
    };
    let Some(cfg) = &f.docker.daemon_json else {
        return Finding::ok(id, "no daemon.json to apply");
    };
    let Some(file) = cfg.parsed.ok() else {
        return Finding::skip(
            id,
            "daemon.json does not parse; see docker.daemon-json-invalid",
        );
    };
    let running = f.engine_runtimes();
    let mut gaps = Vec::new();
    for name in runtimes_of(file) {
        if !running.contains(&name) {
            gaps.push(format!(
                "runtime \"{name}\" is declared but the engine does not have it"
            ));
            continue;
        }
        let file_path = file
            .get("runtimes")
            .and_then(|r| r.get(&name))
            .and_then(|r| r.get("path"))
            .and_then(|p| p.as_str());
        let engine_path = e
            .info
            .get("Runtimes")
            .and_then(|r| r.get(&name))
            .and_then(|r| r.get("path"))
            .and_then(|p| p.as_str());
        if let (Some(want), Some(have)) = (file_path, engine_path) {
            if want != have {
                gaps.push(format!(
                    "runtime \"{name}\" has path `{want}` in the file but `{have}` in the engine"
                ));
            }
        }
    }
    let engine_default = e
        .info
        .get("DefaultRuntime")
        .and_then(|v| v.as_str())
        .unwrap_or("runc");
    if let Some(want) = file.get("default-runtime").and_then(|v| v.as_str()) {
        if want != engine_default {
            gaps.push(format!(
                "default-runtime is \"{want}\" in the file but \"{engine_default}\" in the engine"
            ));
        }
    }
    if gaps.is_empty() {
        return Finding::ok(id, format!("the running engine matches {}", cfg.path));
    }
    let mut finding = Finding::fire(
        id,
        format!(
            "the running engine has not loaded {}: restart or reload it",
            cfg.path
        ),
    );
    for g in gaps {
        finding = finding.detail(g);
    }
    finding
        .detail("dockerd reads daemon.json only at start-up or on SIGHUP; edits since then have no effect.")
        .fix("Restart the engine (or reload it: runtimes and default-runtime apply on SIGHUP).", {
            let mut c = restart_cmds(f);
            if !f.docker.snap && !f.engine_rootless() {
                c.push("sudo kill -HUP $(pidof dockerd)    # reload without stopping containers".into());
            }
            c
        })
}

fn runtime_missing(f: &Facts, pending: bool) -> Finding {
    let id = "docker.runtime-missing";
    if f.is_docker_desktop() {
        return Finding::skip(
            id,
            "Docker Desktop brings GPU support itself; use `--gpus all`",
        );
    }
    if f.engine().is_none() {
        return Finding::skip(id, "engine not reachable");
    }
    let running = f.engine_runtimes();
    if running.iter().any(|r| r == "nvidia") {
        return Finding::ok(id, format!("runtimes: {}", running.join(", ")));
    }
    if pending {
        return Finding::skip(
            id,
            "nvidia is declared in daemon.json but not loaded; see docker.daemon-json-not-applied",
        );
    }
    if f.docker.snap {
        return Finding::fire(id, "the Docker snap has no nvidia runtime registered")
            .detail("The snap ignores /etc/docker/daemon.json; newer snap revisions register the NVIDIA runtime themselves when the toolkit is present.")
            .fix(
                "Refresh the snap and restart it, or move to Docker's own packages.",
                ["sudo snap refresh docker", "sudo snap restart docker"],
            );
    }
    if !f.toolkit_installed() {
        return Finding::skip(
            id,
            "the NVIDIA Container Toolkit is not installed; see toolkit.not-installed",
        );
    }
    Finding::fire(id, "no `nvidia` runtime is registered with the engine")
        .detail("`docker run --runtime=nvidia` and compose's `runtime: nvidia` fail with: unknown or invalid runtime name: nvidia. `--gpus` may still work.")
        .fix(
            "Register the runtime; nvctk keeps your other settings, backs the file up and reloads the engine.",
            ["sudo nvctk setup docker --dry-run", "sudo nvctk setup docker"],
        )
}

fn runtime_binary_missing(f: &Facts) -> Finding {
    let id = "docker.runtime-binary-missing";
    if f.is_docker_desktop() {
        return Finding::skip(id, "Docker Desktop's runtimes live in its VM");
    }
    if f.docker.snap {
        return Finding::skip(id, "the snap's runtimes live inside the snap");
    }
    let missing: Vec<_> = f
        .docker
        .runtime_binaries
        .iter()
        .filter(|r| r.found.is_none())
        .collect();
    if missing.is_empty() {
        if f.docker.runtime_binaries.is_empty() {
            return Finding::ok(id, "no extra runtimes registered");
        }
        let names: Vec<String> = f
            .docker
            .runtime_binaries
            .iter()
            .map(|r| r.name.clone())
            .collect();
        return Finding::ok(
            id,
            format!("runtime binaries present ({})", names.join(", ")),
        );
    }
    let mut finding = Finding::fire(
        id,
        format!(
            "runtime \"{}\" points at `{}`, which does not exist",
            missing[0].name, missing[0].path
        ),
    );
    for r in &missing {
        finding = finding.detail(format!(
            "{} → {} (declared in {})",
            r.name, r.path, r.declared_in
        ));
    }
    let nvidia = missing.iter().any(|r| r.name == "nvidia");
    finding.fix(
        if nvidia {
            "Install the NVIDIA Container Toolkit (it provides nvidia-container-runtime), or fix the path in daemon.json."
        } else {
            "Install the runtime, or remove it from daemon.json and restart the engine."
        },
        Vec::<String>::new(),
    )
}

fn default_runtime(f: &Facts) -> Finding {
    let id = "docker.default-runtime-nvidia";
    let engine = f.info_str("DefaultRuntime");
    let file = f
        .daemon_json()
        .and_then(|v| v.get("default-runtime"))
        .and_then(|v| v.as_str());
    let is_nvidia = engine == Some("nvidia") || (file == Some("nvidia") && !f.is_docker_desktop());
    if !is_nvidia {
        return match engine {
            Some(r) => Finding::ok(id, format!("default runtime is {r}")),
            None if f.engine().is_none() && file.is_none() => Finding::skip(
                id,
                "engine not reachable and no default-runtime in daemon.json",
            ),
            None => Finding::ok(id, "default runtime is not nvidia"),
        };
    }
    if f.jetson.is_some() {
        return Finding::ok(id, "default runtime is nvidia, as NVIDIA advises on Jetson");
    }
    let path = f
        .docker
        .daemon_json
        .as_ref()
        .map(|c| c.path.clone())
        .unwrap_or_else(|| "/etc/docker/daemon.json".into());
    Finding::fire(id, "nvidia is the default runtime: every container and image build goes through the GPU hook")
        .detail("Images built this way can embed host driver files and fail to run on other hosts; BuildKit builds get no GPU anyway.")
        .detail("Request the GPU per container instead: `docker run --gpus all …` or `--runtime=nvidia`.")
        .fix(
            format!("Remove \"default-runtime\": \"nvidia\" from {path} (keep the runtime itself), then restart the engine."),
            restart_cmds(f),
        )
}

fn flag_conflicts(f: &Facts) -> Finding {
    let id = "docker.flag-conflicts-daemon-json";
    let Some(cfg) = &f.docker.daemon_json else {
        return Finding::ok(id, "no daemon.json, so no conflicts");
    };
    let Some(file) = cfg.parsed.ok() else {
        return Finding::skip(
            id,
            "daemon.json does not parse; see docker.daemon-json-invalid",
        );
    };
    let clashes: Vec<_> = f
        .docker
        .dockerd_flags
        .iter()
        .filter(|fl| {
            fl.directive
                .as_deref()
                .is_some_and(|d| file.get(d).is_some())
        })
        .collect();
    if clashes.is_empty() {
        return Finding::ok(
            id,
            "no directive is set both as a dockerd flag and in daemon.json",
        );
    }
    let directives: Vec<&str> = clashes
        .iter()
        .filter_map(|c| c.directive.as_deref())
        .collect();
    let mut finding = Finding::fire(
        id,
        format!(
            "{} set both as a dockerd flag and in {}: dockerd refuses to start with both",
            directives.join(", "),
            cfg.path
        ),
    )
    .detail(format!(
        "dockerd says: the following directives are specified as a flag and in the configuration file: {}",
        directives.join(", ")
    ));
    for c in &clashes {
        finding = finding.detail(format!("`{}` in {}", c.flag, c.source));
    }
    let unit = clashes
        .iter()
        .find(|c| c.source.starts_with('/'))
        .map(|c| c.source.clone());
    finding.fix(
        match &unit {
            Some(u) => format!(
                "Keep each setting in one place: remove the flag from {u} or the key from {}.",
                cfg.path
            ),
            None => format!(
                "Keep each setting in one place: remove the flag or the key from {}.",
                cfg.path
            ),
        },
        [
            "sudo systemctl daemon-reload",
            "sudo systemctl restart docker",
        ],
    )
}

fn gpu_keys(v: &Value) -> bool {
    v.get("runtimes").is_some() || v.get("default-runtime").is_some()
}

fn desktop(f: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    if f.is_docker_desktop() {
        out.push(
            Finding::info("docker.desktop", "the engine is Docker Desktop: GPUs come through its WSL2 backend; `--gpus all` works without a toolkit in this distro")
                .detail(format!("Engine name: {}", f.info_str("Name").unwrap_or("docker-desktop"))),
        );
        let system = f
            .docker
            .system_daemon_json
            .as_ref()
            .or(f.docker.daemon_json.as_ref())
            .filter(|c| c.path == "/etc/docker/daemon.json");
        out.push(match system.and_then(|c| c.parsed.ok()) {
            Some(v) if gpu_keys(v) => Finding::fire(
                "docker.desktop-daemon-json-ignored",
                "/etc/docker/daemon.json sets GPU runtimes, but Docker Desktop never reads it",
            )
            .detail("Docker Desktop keeps its engine configuration in Settings > Docker Engine; edits to the distro's file change nothing.")
            .fix(
                "Remove the GPU settings from /etc/docker/daemon.json to avoid confusion; use `docker run --gpus all` with Desktop.",
                Vec::<String>::new(),
            ),
            _ => Finding::ok("docker.desktop-daemon-json-ignored", "no GPU settings in a daemon.json that Desktop ignores"),
        });
    } else {
        let why = if f.engine().is_some() {
            "the engine is not Docker Desktop"
        } else {
            "engine not reachable"
        };
        out.push(Finding::skip("docker.desktop", why));
        out.push(Finding::skip("docker.desktop-daemon-json-ignored", why));
    }
    let endpoint = f.docker.endpoint.as_deref().unwrap_or("");
    let desktop_linux = f.docker.context.as_deref() == Some("desktop-linux")
        || endpoint.contains("/.docker/desktop/");
    out.push(if f.wsl.kind != crate::facts::WslKind::None {
        Finding::skip("docker.desktop-linux-context", "WSL: Docker Desktop for Windows is a valid GPU engine")
    } else if desktop_linux {
        Finding::fire(
            "docker.desktop-linux-context",
            "the current docker context is Docker Desktop for Linux, a VM that cannot see this host's GPU",
        )
        .detail(format!("Context: {} ({endpoint})", f.docker.context.as_deref().unwrap_or("?")))
        .fix(
            "Switch to the host's Docker Engine (install docker-ce or docker.io if needed).",
            ["docker context use default"],
        )
    } else {
        Finding::ok("docker.desktop-linux-context", match f.docker.context.as_deref() {
            Some("DOCKER_HOST") => "engine chosen by DOCKER_HOST".to_string(),
            c => format!("docker context {}", c.unwrap_or("default")),
        })
    });
    out
}

fn snap(f: &Facts) -> Finding {
    let id = "docker.snap";
    if !f.docker.snap {
        return Finding::skip(id, "Docker is not the snap package");
    }
    Finding::fire(id, "Docker comes from snap: it reads /var/snap/docker/current/config/daemon.json and brings its own NVIDIA support")
        .detail("Guides that edit /etc/docker/daemon.json or run `nvidia-ctk runtime configure` do not apply to the snap.")
        .fix(
            "Keep the snap current so it registers the nvidia runtime itself, or remove it and install Docker's packages.",
            ["sudo snap refresh docker", "sudo snap restart docker"],
        )
}

fn rootless(f: &Facts) -> Finding {
    let id = "docker.rootless-needs-no-cgroups";
    if f.engine().is_none() {
        return Finding::skip(id, "engine not reachable");
    }
    if !f.engine_rootless() {
        return Finding::skip(id, "the engine is rootful");
    }
    if !f.toolkit_installed() {
        return Finding::skip(id, "the toolkit is not installed");
    }
    match (&f.toolkit.config, f.toolkit_no_cgroups()) {
        (Some(c), None) => Finding::skip(id, format!("{} does not parse", c.path)),
        (_, Some(true)) => Finding::ok(id, "rootless engine with no-cgroups = true"),
        _ => Finding::fire(
            id,
            "rootless engine, but the toolkit's no-cgroups is false: GPU containers fail to start",
        )
        .detail(
            "A rootless engine cannot manage device cgroups; the toolkit must be told not to try.",
        )
        .fix(
            "Set no-cgroups = true in /etc/nvidia-container-runtime/config.toml.",
            ["sudo nvidia-ctk config --set nvidia-container-cli.no-cgroups --in-place"],
        ),
    }
}

fn dev_char(f: &Facts) -> Finding {
    let id = "docker.cgroup-systemd-dev-char";
    if f.is_wsl2() {
        return Finding::skip(id, "WSL2 has no /dev/nvidia* nodes");
    }
    if f.engine().is_none() {
        return Finding::skip(id, "engine not reachable");
    }
    if f.info_str("CgroupDriver") != Some("systemd") {
        return Finding::skip(id, "the engine does not use the systemd cgroup driver");
    }
    if f.gpu.device_nodes.is_empty() {
        return Finding::skip(id, "no /dev/nvidia* device nodes");
    }
    let mut majors: Vec<u32> = f
        .gpu
        .majors
        .iter()
        .filter(|(_, n)| n != "nvidia-caps")
        .map(|(m, _)| *m)
        .collect();
    if majors.is_empty() {
        majors.push(195);
    }
    let missing: Vec<u32> = majors
        .into_iter()
        .filter(|m| {
            !f.gpu
                .char_links
                .iter()
                .any(|l| l.starts_with(&format!("{m}:")))
        })
        .collect();
    if missing.is_empty() {
        return Finding::ok(id, "/dev/char links exist for the NVIDIA devices");
    }
    let list: Vec<String> = missing.iter().map(|m| format!("{m}:*")).collect();
    Finding::fire(id, "no /dev/char links for the NVIDIA devices: containers lose the GPU after `systemctl daemon-reload`")
        .detail(format!("Missing: /dev/char/{}", list.join(", /dev/char/")))
        .detail("Inside running containers NVML then fails with: Failed to initialize NVML: Unknown Error.")
        .fix(
            "Create the links (and keep them across reboots with a udev rule, as NVIDIA documents).",
            ["sudo nvidia-ctk system create-dev-char-symlinks --create-all"],
        )
}
