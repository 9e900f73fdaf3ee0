//! Which daemon.json the running engine reads, and what kind of engine it is, from the
//! doctor's Facts (the probes already read dockerd's command line, its units and the
//! engine's own answers; nothing here touches the host).

use crate::facts::{DockerdFlag, Facts};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EngineKind {
    /// A system dockerd (systemd, SysV, or started by hand).
    Rootful,
    /// A per-user dockerd (`dockerd-rootless.sh`, `systemctl --user`).
    Rootless,
    /// Docker from the snap store.
    Snap,
    /// Docker Desktop (Windows/WSL2 backend or its Linux VM).
    Desktop,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Rootful => "rootful",
            EngineKind::Rootless => "rootless",
            EngineKind::Snap => "snap",
            EngineKind::Desktop => "desktop",
        }
    }
}

/// Whether nvctk could talk to the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineState {
    Up,
    /// Not running: the file can still be written; it applies when the engine starts.
    Down(String),
    /// Installed but unanswerable (permission, timeout): nvctk will not change it blind.
    Unreachable {
        kind: String,
        message: String,
    },
    NotInstalled,
}

#[derive(Debug, Clone)]
pub struct Location {
    /// The daemon.json to edit, as the engine names it (may be a symlink).
    pub path: String,
    pub kind: EngineKind,
    pub state: EngineState,
    pub endpoint: String,
    /// Where the path came from, in words.
    pub why: String,
}

/// A refusal or an explanation instead of an edit.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    /// 0 when there is nothing to do (Docker Desktop), 1 when refused.
    pub code: i32,
    pub error: Option<String>,
    pub notes: Vec<String>,
    pub hints: Vec<String>,
}

pub fn kind(facts: &Facts) -> EngineKind {
    if facts.is_docker_desktop() {
        EngineKind::Desktop
    } else if facts.docker.snap {
        EngineKind::Snap
    } else if facts.engine_rootless() {
        EngineKind::Rootless
    } else {
        EngineKind::Rootful
    }
}

fn state(facts: &Facts) -> EngineState {
    match &facts.docker.engine {
        Some(p) if p.ok().is_some() => EngineState::Up,
        Some(p) => {
            let kind = p.err_kind().unwrap_or("other").to_string();
            let message = p.err_message().unwrap_or("").to_string();
            match kind.as_str() {
                "not-installed" => EngineState::NotInstalled,
                "not-running" => EngineState::Down(message),
                _ => EngineState::Unreachable { kind, message },
            }
        }
        None => EngineState::NotInstalled,
    }
}

/// The dockerd flags that set one of `directives`, which daemon.json must then not set.
pub fn conflicting_flags<'a>(facts: &'a Facts, directives: &[&str]) -> Vec<&'a DockerdFlag> {
    facts
        .docker
        .dockerd_flags
        .iter()
        .filter(|f| {
            f.directive
                .as_deref()
                .is_some_and(|d| directives.contains(&d))
        })
        .collect()
}

fn snap_stop() -> Stop {
    Stop {
        code: 1,
        error: Some(
            "Docker here comes from the snap store; nvctk does not edit its configuration".into(),
        ),
        notes: vec![
            "The docker snap reads /var/snap/docker/current/config/daemon.json, never /etc/docker/daemon.json.".into(),
            "It ships its own NVIDIA Container Toolkit: on a host with the NVIDIA driver its nvidia-container-toolkit service generates the CDI spec and registers the nvidia runtime itself.".into(),
            "Make sure NVIDIA support is not disabled, take the newest snap, and restart it:".into(),
        ],
        hints: vec![
            "sudo snap set docker nvidia-support.disabled=false".into(),
            "sudo snap refresh docker".into(),
            "sudo snap restart docker".into(),
        ],
    }
}

fn desktop_stop(facts: &Facts) -> Stop {
    let mut notes = vec![
        "The engine is Docker Desktop; it does not read a daemon.json in this distro, and it needs no toolkit here.".into(),
    ];
    let hints = if facts.is_wsl2() {
        notes.push("With the WSL2 backend and a current NVIDIA driver on Windows, `docker run --gpus all …` already works.".into());
        notes.push("Desktop's engine settings live in Docker Desktop → Settings → Docker Engine (saved as %USERPROFILE%\\.docker\\daemon.json on Windows).".into());
        vec!["docker run --rm --gpus all ubuntu nvidia-smi".into()]
    } else {
        notes.push("Docker Desktop for Linux runs the engine in a VM that has no GPU; use the host's own engine for GPU containers.".into());
        notes.push("Desktop's engine settings live in Docker Desktop → Settings → Docker Engine (~/.docker/daemon.json).".into());
        vec!["docker context use default".into()]
    };
    Stop {
        code: if facts.is_wsl2() { 0 } else { 1 },
        error: None,
        notes,
        hints,
    }
}

/// Finds the file to edit. `config` (`--config PATH`) overrides the path found.
/// `directives` are the daemon.json keys the change will set; a dockerd flag for any of
/// them is a refusal (dockerd would refuse to start with both).
/// `user_config` is the user's config folder (`$XDG_CONFIG_HOME` or `~/.config`), where a
/// rootless engine reads `docker/daemon.json`.
pub fn locate(
    facts: &Facts,
    config: Option<&str>,
    directives: &[&str],
    user_config: &str,
) -> Result<Location, Stop> {
    let kind = kind(facts);
    let state = state(facts);
    let endpoint = facts.docker.endpoint.clone().unwrap_or_default();
    if state == EngineState::NotInstalled && config.is_none() {
        return Err(Stop {
            code: 1,
            error: Some(format!(
                "no Docker engine is installed (nothing answers at {endpoint})"
            )),
            notes: vec![],
            hints: vec![
                "install Docker Engine: https://docs.docker.com/engine/install/".into(),
                "then run: sudo nvctk setup docker".into(),
            ],
        });
    }
    if let EngineState::Unreachable { message, .. } = &state {
        if config.is_none() {
            return Err(Stop {
                code: 1,
                error: Some(format!(
                    "the engine did not answer, so nvctk cannot tell which file it reads or verify a change: {message}"
                )),
                notes: vec![],
                hints: vec!["sudo nvctk setup docker".into()],
            });
        }
    }
    if config.is_none() {
        match kind {
            EngineKind::Desktop => return Err(desktop_stop(facts)),
            EngineKind::Snap => return Err(snap_stop()),
            _ => {}
        }
    }
    let conflicts = conflicting_flags(facts, directives);
    if let Some(first) = conflicts.first() {
        let running = first.source == "running dockerd";
        let mut notes: Vec<String> = conflicts
            .iter()
            .map(|f| format!("{} sets {}", f.source, f.flag))
            .collect();
        notes.push(
            "dockerd refuses to start when a directive is both a flag and in daemon.json.".into(),
        );
        let hints = if running {
            vec![
                "remove the flag from the command that starts dockerd (nvctk found it on the running process), restart dockerd, then run nvctk setup docker again".into(),
            ]
        } else {
            vec![
                format!(
                    "remove {} from {}, then: sudo systemctl daemon-reload && sudo systemctl restart docker",
                    first.flag, first.source
                ),
                "then run: sudo nvctk setup docker".into(),
            ]
        };
        return Err(Stop {
            code: 1,
            error: Some(format!(
                "`{}` is already set as a dockerd flag in {}; nvctk will not also set it in daemon.json",
                first.directive.as_deref().unwrap_or("?"),
                first.source
            )),
            notes,
            hints,
        });
    }
    // A stopped engine that the user reaches through a non-default endpoint may read any
    // file; without its command line we cannot know which, so we do not guess.
    let default_endpoint = endpoint == "unix:///var/run/docker.sock"
        || (kind == EngineKind::Rootless && endpoint.ends_with("/docker.sock"));
    let has_config_flag = facts
        .docker
        .dockerd_flags
        .iter()
        .any(|f| f.flag.starts_with("--config-file="));
    if let EngineState::Down(message) = &state {
        if config.is_none() && !default_endpoint && !has_config_flag {
            return Err(Stop {
                code: 1,
                error: Some(format!(
                    "the engine at {endpoint} is not running, so nvctk cannot tell which daemon.json it reads: {message}"
                )),
                notes: vec![],
                hints: vec![
                    "start the engine and run this again, or name its file: nvctk setup docker --config PATH".into(),
                ],
            });
        }
    }
    let (path, why) = match (config, &facts.docker.daemon_json) {
        (Some(p), _) => (p.to_string(), "--config".to_string()),
        (None, _) => {
            let from_flag = facts.docker.dockerd_flags.iter().find_map(|f| {
                f.flag
                    .strip_prefix("--config-file=")
                    .map(|p| (p, &f.source))
            });
            match from_flag {
                Some((p, src)) => (p.to_string(), format!("--config-file in {src}")),
                None => (
                    default_path(facts, kind, user_config),
                    match kind {
                        EngineKind::Rootless => "the rootless engine's default".to_string(),
                        _ => "dockerd's default".to_string(),
                    },
                ),
            }
        }
    };
    Ok(Location {
        path,
        kind,
        state,
        endpoint,
        why,
    })
}

fn default_path(facts: &Facts, kind: EngineKind, user_config: &str) -> String {
    // The probe found the file the engine reads when it exists.
    if let Some(cfg) = &facts.docker.daemon_json {
        return cfg.path.clone();
    }
    match kind {
        EngineKind::Snap => "/var/snap/docker/current/config/daemon.json".into(),
        EngineKind::Rootless => format!("{}/docker/daemon.json", user_config.trim_end_matches('/')),
        _ => "/etc/docker/daemon.json".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Engine, Probed};
    use serde_json::json;

    fn facts(info: serde_json::Value, flags: &[(&str, Option<&str>, &str)]) -> Facts {
        let mut f = Facts::default();
        f.docker.endpoint = Some("unix:///var/run/docker.sock".into());
        f.docker.engine = Some(Probed::Ok {
            value: Engine {
                version: json!({}),
                info,
            },
        });
        f.docker.dockerd_flags = flags
            .iter()
            .map(|(flag, d, s)| DockerdFlag {
                flag: flag.to_string(),
                directive: d.map(str::to_string),
                source: s.to_string(),
            })
            .collect();
        f
    }

    #[test]
    fn config_file_flag_wins() {
        let f = facts(
            json!({"OperatingSystem": "Ubuntu 22.04"}),
            &[(
                "--config-file=/etc/docker/gpu.json",
                None,
                "running dockerd",
            )],
        );
        let loc = locate(&f, None, &["runtimes"], "/root/.config").unwrap();
        assert_eq!(loc.path, "/etc/docker/gpu.json");
        assert_eq!(loc.kind, EngineKind::Rootful);
    }

    #[test]
    fn a_flag_for_the_same_directive_is_refused_naming_the_file() {
        let unit = "/etc/systemd/system/docker.service.d/override.conf";
        let f = facts(
            json!({}),
            &[(
                "--add-runtime=nvidia=/usr/bin/nvidia-container-runtime",
                Some("runtimes"),
                unit,
            )],
        );
        let stop = locate(&f, None, &["runtimes"], "/root/.config").unwrap_err();
        assert_eq!(stop.code, 1);
        assert!(stop.error.unwrap().contains(unit));
        assert!(stop.hints[0].contains(unit));
        // Not a conflict when the change does not touch that directive.
        assert!(locate(&f, None, &["features"], "/root/.config").is_ok());
    }

    #[test]
    fn desktop_on_wsl_explains_and_changes_nothing() {
        let mut f = facts(json!({"OperatingSystem": "Docker Desktop"}), &[]);
        f.wsl.kind = crate::facts::WslKind::Wsl2;
        let stop = locate(&f, None, &["runtimes"], "/root/.config").unwrap_err();
        assert_eq!(stop.code, 0);
        assert!(stop.notes.iter().any(|n| n.contains("--gpus all")));
    }

    #[test]
    fn snap_is_sent_to_its_own_mechanism() {
        let mut f = facts(json!({}), &[]);
        f.docker.snap = true;
        let stop = locate(&f, None, &["runtimes"], "/root/.config").unwrap_err();
        assert!(stop.hints.iter().any(|h| h == "sudo snap restart docker"));
        assert!(stop.notes.iter().any(|n| n.contains("/var/snap/docker")));
    }

    #[test]
    fn rootless_uses_the_probed_user_file() {
        let mut f = facts(
            json!({"SecurityOptions": ["name=seccomp,profile=default", "name=rootless"]}),
            &[],
        );
        f.docker.daemon_json = Some(crate::facts::ConfigFile {
            path: "/home/u/.config/docker/daemon.json".into(),
            parsed: Probed::Ok { value: json!({}) },
        });
        let loc = locate(&f, None, &["runtimes"], "/root/.config").unwrap();
        assert_eq!(loc.kind, EngineKind::Rootless);
        assert_eq!(loc.path, "/home/u/.config/docker/daemon.json");
    }
}
