//! CDI specs in /etc/cdi and /var/run/cdi: parsed, and every host path they name looked up.

use crate::facts::{CdiSpec, CdiSummary, Probed};
use crate::host::Host;
use serde_json::Value;

pub const DIRS: [&str; 2] = ["/etc/cdi", "/var/run/cdi"];

/// Host paths a spec needs: device nodes, mounts and hook programs, globally and per device.
pub fn host_paths(spec: &Value) -> Vec<String> {
    fn edits(e: &Value, out: &mut Vec<String>) {
        for n in e
            .get("deviceNodes")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(p) = n
                .get("hostPath")
                .or_else(|| n.get("path"))
                .and_then(|p| p.as_str())
            {
                out.push(p.to_string());
            }
        }
        for m in e
            .get("mounts")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(p) = m.get("hostPath").and_then(|p| p.as_str()) {
                out.push(p.to_string());
            }
        }
        for h in e
            .get("hooks")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(p) = h.get("path").and_then(|p| p.as_str()) {
                out.push(p.to_string());
            }
        }
    }
    let mut out = Vec::new();
    if let Some(e) = spec.get("containerEdits") {
        edits(e, &mut out);
    }
    for d in spec
        .get("devices")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        if let Some(e) = d.get("containerEdits") {
            edits(e, &mut out);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Parses YAML or JSON (YAML is a superset) into a summary; existence is judged by `exists`.
pub fn parse_spec(text: &str, exists: impl Fn(&str) -> bool) -> Result<CdiSummary, String> {
    let spec: Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    if !spec.is_object() {
        return Err("a CDI spec must be a mapping with cdiVersion, kind and devices".into());
    }
    let s = |k: &str| spec.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let kind = s("kind");
    if s("cdiVersion").is_none() || kind.is_none() {
        return Err("missing `cdiVersion` or `kind`".into());
    }
    let devices = spec
        .get("devices")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|d| d.get("name").and_then(|n| n.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let paths = host_paths(&spec);
    Ok(CdiSummary {
        cdi_version: s("cdiVersion"),
        kind,
        devices,
        checked_paths: paths.len(),
        missing_paths: paths.into_iter().filter(|p| !exists(p)).collect(),
    })
}

pub fn gather(host: &Host) -> Vec<CdiSpec> {
    let fs = &host.fs;
    let mut specs = Vec::new();
    for dir in DIRS {
        for name in fs.list(dir) {
            if !(name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json")) {
                continue;
            }
            let path = format!("{dir}/{name}");
            let Some(text) = fs.read(&path) else { continue };
            specs.push(CdiSpec {
                parsed: match parse_spec(&text, |p| fs.exists(p)) {
                    Ok(value) => Probed::Ok { value },
                    Err(message) => Probed::Err {
                        kind: "parse".into(),
                        message,
                    },
                },
                path,
            });
        }
    }
    specs
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"---
cdiVersion: 0.5.0
containerEdits:
  deviceNodes:
  - path: /dev/nvidiactl
  - path: /dev/nvidia-uvm
  hooks:
  - args: [nvidia-ctk, hook, update-ldcache, --folder, /usr/lib]
    hookName: createContainer
    path: /usr/bin/nvidia-ctk
  mounts:
  - containerPath: /usr/lib/libnvidia-egl-wayland.so.1.1.13
    hostPath: /usr/lib/libnvidia-egl-wayland.so.1.1.13
    options: [ro, nosuid, nodev, bind]
devices:
- containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
  name: "0"
- name: all
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
kind: nvidia.com/gpu
"#;

    #[test]
    fn stale_paths_are_listed() {
        let s = parse_spec(SPEC, |p| p != "/usr/lib/libnvidia-egl-wayland.so.1.1.13").unwrap();
        assert_eq!(s.kind.as_deref(), Some("nvidia.com/gpu"));
        assert_eq!(s.devices, vec!["0", "all"]);
        assert_eq!(s.checked_paths, 5);
        assert_eq!(
            s.missing_paths,
            vec!["/usr/lib/libnvidia-egl-wayland.so.1.1.13"]
        );
    }

    #[test]
    fn broken_specs_are_errors() {
        assert!(parse_spec("cdiVersion: [\n", |_| true).is_err());
        assert!(parse_spec("just a string", |_| true).is_err());
        assert!(parse_spec("{\"cdiVersion\": \"0.6.0\"}", |_| true).is_err());
        assert!(
            parse_spec(
                "{\"cdiVersion\": \"0.6.0\", \"kind\": \"nvidia.com/gpu\", \"devices\": []}",
                |_| true
            )
            .is_ok()
        );
    }
}
