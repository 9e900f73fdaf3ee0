//! One container plan per API: image, command, capabilities, GPU request mode, or a skip.
//! Pure functions of the catalog, the settings and the doctor's facts.

use super::catalog::{self, Entry};
use super::{Api, Mode, Settings};
use crate::facts::Facts;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Plan {
    pub api: Api,
    /// The reference to run (tag resolved later when `resolve` is set).
    pub image: String,
    /// The catalog asks for a CUDA tag matched to the driver.
    pub resolve: Option<catalog::TagPolicy>,
    pub command: Vec<String>,
    pub tool: String,
    pub capabilities: String,
    pub mode: Mode,
    /// Why this API is not run here (a skip, not a failure).
    pub skip: Option<String>,
}

/// The GPU request this host can honour: CDI when the engine has CDI on and an nvidia CDI
/// spec exists; the nvidia runtime when the engine lists it; otherwise `--gpus`.
pub fn choose_mode(facts: &Facts) -> Mode {
    if facts.is_docker_desktop() {
        return Mode::Gpus;
    }
    let cdi_enabled = facts
        .engine()
        .and_then(|e| e.info.get("CDISpecDirs"))
        .and_then(|v| v.as_array())
        .is_some_and(|a| !a.is_empty());
    let nvidia_spec = facts.cdi.iter().any(|s| {
        s.parsed
            .ok()
            .is_some_and(|c| c.kind.as_deref() == Some("nvidia.com/gpu"))
    });
    if cdi_enabled && nvidia_spec {
        return Mode::Cdi;
    }
    if facts.engine_runtimes().iter().any(|r| r == "nvidia") {
        return Mode::Runtime;
    }
    Mode::Gpus
}

/// With a mirror, catalog images are pulled through it (`mirror/nvidia/cuda:…`).
pub fn via_registry(image: &str, registry: Option<&str>) -> String {
    match registry {
        Some(r) => {
            let host = r
                .trim_start_matches("http://")
                .trim_start_matches("https://")
                .trim_end_matches('/');
            format!("{host}/{image}")
        }
        None => image.to_string(),
    }
}

pub fn plans(s: &Settings, facts: &Facts) -> Result<Vec<Plan>, String> {
    let mode = s.mode.unwrap_or_else(|| choose_mode(facts));
    let mut out = Vec::new();
    for &api in &s.apis {
        let e: &Entry = catalog::entry(api)
            .ok_or_else(|| format!("the test catalog has no row for {}", api.as_str()))?;
        let (image, resolve) = match &s.image {
            Some(i) => (i.clone(), None),
            None => (via_registry(&e.image, s.registry.as_deref()), e.tag.clone()),
        };
        let skip = e
            .unsupported
            .iter()
            .find(|u| match u.when.as_str() {
                "wsl2" => facts.is_wsl2(),
                "docker-desktop" => facts.is_docker_desktop(),
                _ => false,
            })
            .map(|u| u.reason.clone());
        out.push(Plan {
            api,
            image,
            resolve,
            command: e.command.clone(),
            tool: e.tool.clone(),
            capabilities: e.capabilities.clone(),
            mode,
            skip,
        });
    }
    Ok(out)
}

pub const LABEL: &str = "nvctk.test";

/// The body of POST /containers/create: no network, read-only root, every capability
/// dropped, no new privileges, and the GPU asked for the way `mode` says.
pub fn create_body(p: &Plan, run_id: &str) -> Value {
    let mut env = vec![format!("NVIDIA_DRIVER_CAPABILITIES={}", p.capabilities)];
    let mut host = json!({
        "NetworkMode": "none",
        "ReadonlyRootfs": true,
        "CapDrop": ["ALL"],
        "SecurityOpt": ["no-new-privileges"],
        "Tmpfs": {"/tmp": "rw,nosuid,nodev,size=64m"},
        "AutoRemove": false,
    });
    match p.mode {
        Mode::Gpus => {
            host["DeviceRequests"] = json!([{
                "Driver": "", "Count": -1, "DeviceIDs": null,
                "Capabilities": [["gpu"]], "Options": {}
            }]);
        }
        Mode::Runtime => {
            host["Runtime"] = json!("nvidia");
            env.push("NVIDIA_VISIBLE_DEVICES=all".into());
        }
        Mode::Cdi => {
            host["DeviceRequests"] = json!([{
                "Driver": "cdi", "DeviceIDs": ["nvidia.com/gpu=all"]
            }]);
        }
    }
    json!({
        "Image": p.image,
        "Entrypoint": [],
        "Cmd": p.command,
        "Env": env,
        "Labels": {LABEL: "1", "nvctk.api": p.api.as_str(), "nvctk.run": run_id},
        "NetworkDisabled": true,
        "HostConfig": host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Engine, Probed};

    fn facts_with(info: Value) -> Facts {
        let mut f = Facts::default();
        f.docker.engine = Some(Probed::Ok {
            value: Engine {
                version: json!({}),
                info,
            },
        });
        f
    }

    #[test]
    fn mode_follows_the_engine() {
        assert_eq!(choose_mode(&Facts::default()), Mode::Gpus);
        let f = facts_with(json!({"Runtimes": {"runc": {}, "nvidia": {"path": "x"}}}));
        assert_eq!(choose_mode(&f), Mode::Runtime);
        let mut f = facts_with(json!({"Runtimes": {"nvidia": {}}, "CDISpecDirs": ["/etc/cdi"]}));
        f.cdi.push(crate::facts::CdiSpec {
            path: "/etc/cdi/nvidia.yaml".into(),
            parsed: Probed::Ok {
                value: crate::facts::CdiSummary {
                    kind: Some("nvidia.com/gpu".into()),
                    ..Default::default()
                },
            },
        });
        assert_eq!(choose_mode(&f), Mode::Cdi);
    }

    #[test]
    fn body_is_locked_down_and_carries_the_request() {
        let mut f = Facts::default();
        f.wsl.kind = crate::facts::WslKind::Wsl2;
        let s = Settings {
            apis: vec![Api::Vulkan],
            mode: Some(Mode::Runtime),
            image: None,
            pull: super::super::Pull::Missing,
            registry: None,
            timeout: std::time::Duration::from_secs(5),
            deadline: std::time::Duration::from_secs(5),
            progress: false,
        };
        let p = &plans(&s, &f).unwrap()[0];
        assert!(p.skip.as_deref().unwrap().contains("WSL2"));
        let b = create_body(p, "r1");
        assert_eq!(b["HostConfig"]["Runtime"], "nvidia");
        assert_eq!(b["HostConfig"]["CapDrop"], json!(["ALL"]));
        assert_eq!(b["HostConfig"]["NetworkMode"], "none");
        assert_eq!(b["HostConfig"]["ReadonlyRootfs"], true);
        assert!(
            b["Env"]
                .as_array()
                .unwrap()
                .contains(&json!("NVIDIA_DRIVER_CAPABILITIES=graphics,utility"))
        );
        assert_eq!(
            via_registry("nvidia/cuda", Some("http://127.0.0.1:5000/")),
            "127.0.0.1:5000/nvidia/cuda"
        );
    }
}
