//! Snapshot format 1: a folder (or the same folder as .tar.gz) that stands in for a host.
//! See docs/snapshot-format.md.

use super::command::RecordedCommands;
use super::docker::RecordedEngine;
use super::fs::FsRoot;
use super::nvml::RecordedNvml;
use super::{Host, ResourceSource};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const FORMAT: u64 = 1;
pub const MANIFEST: &str = "nvctk-snapshot.json";

#[derive(Debug)]
pub struct SnapshotError(pub String);

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An opened snapshot; keeps the unpacked copy of a .tar.gz alive while it is used.
pub struct Opened {
    pub host: Host,
    pub dir: PathBuf,
    _unpacked: Option<tempfile::TempDir>,
}

fn read_json(path: &Path) -> Result<Option<Value>, SnapshotError> {
    match std::fs::read_to_string(path) {
        Ok(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| SnapshotError(format!("{} is not valid JSON: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SnapshotError(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// A damaged recording must not be judged as a broken host: refuse it instead.
fn validate_docker(doc: Option<&Value>) -> Result<(), SnapshotError> {
    let Some(d) = doc else { return Ok(()) };
    let bad = |why: &str| {
        Err(SnapshotError(format!(
            "docker.json {why}; see docs/snapshot-format.md"
        )))
    };
    let Some(obj) = d.as_object() else {
        return bad("is not an object");
    };
    for key in ["endpoint", "context"] {
        if obj.get(key).is_some_and(|v| !v.is_string() && !v.is_null()) {
            return bad(&format!("has a non-text `{key}`"));
        }
    }
    match (obj.get("error"), obj.get("version"), obj.get("info")) {
        (Some(e), _, _) if e.get("kind").and_then(|k| k.as_str()).is_some() => Ok(()),
        (Some(_), _, _) => bad("has an `error` without a text `kind`"),
        (None, Some(v), Some(i)) if v.is_object() && i.is_object() => Ok(()),
        _ => bad("needs `version` and `info` objects, or an `error`"),
    }
}

fn validate_nvml(doc: Option<&Value>) -> Result<(), SnapshotError> {
    let Some(d) = doc else { return Ok(()) };
    if d.get("error")
        .and_then(|e| e.get("kind"))
        .and_then(|k| k.as_str())
        .is_some()
    {
        return Ok(());
    }
    serde_json::from_value::<crate::facts::NvmlFacts>(d.clone())
        .map(|_| ())
        .map_err(|e| SnapshotError(format!("nvml.json does not match snapshot format 1: {e}")))
}

pub fn open(path: &Path) -> Result<Opened, SnapshotError> {
    let (dir, unpacked) = if path.is_dir() {
        (path.to_path_buf(), None)
    } else if path.is_file() {
        let tmp = tempfile::tempdir()
            .map_err(|e| SnapshotError(format!("cannot make a temporary folder: {e}")))?;
        let file = std::fs::File::open(path)
            .map_err(|e| SnapshotError(format!("cannot open {}: {e}", path.display())))?;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        archive.unpack(tmp.path()).map_err(|e| {
            SnapshotError(format!("{} is not a .tar.gz snapshot: {e}", path.display()))
        })?;
        // Accept both a bare archive and one holding a single top folder.
        let inner = if tmp.path().join(MANIFEST).exists() {
            tmp.path().to_path_buf()
        } else {
            std::fs::read_dir(tmp.path())
                .ok()
                .and_then(|mut it| {
                    it.find_map(|e| {
                        e.ok()
                            .map(|e| e.path())
                            .filter(|p| p.join(MANIFEST).exists())
                    })
                })
                .unwrap_or_else(|| tmp.path().to_path_buf())
        };
        (inner, Some(tmp))
    } else {
        return Err(SnapshotError(format!("no snapshot at {}", path.display())));
    };

    let manifest = read_json(&dir.join(MANIFEST))?.ok_or_else(|| {
        SnapshotError(format!(
            "{} has no {MANIFEST}; is it an nvctk snapshot?",
            dir.display()
        ))
    })?;
    match manifest.get("format").and_then(|f| f.as_u64()) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(SnapshotError(format!(
                "snapshot format {other} is newer than this nvctk understands (format {FORMAT}); update nvctk"
            )));
        }
        None => return Err(SnapshotError(format!("{MANIFEST} has no numeric `format`"))),
    }
    let docker = read_json(&dir.join("docker.json"))?;
    let nvml = read_json(&dir.join("nvml.json"))?;
    validate_docker(docker.as_ref())?;
    validate_nvml(nvml.as_ref())?;
    let env = read_json(&dir.join("env.json"))?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let host = Host {
        fs: FsRoot::new(dir.join("root")),
        env,
        commands: Box::new(RecordedCommands {
            dir: dir.join("commands"),
        }),
        engine: Box::new(RecordedEngine { doc: docker }),
        nvml: Box::new(RecordedNvml { doc: nvml }),
        resources: ResourceSource::Recorded(read_json(&dir.join("host.json"))?),
        live: false,
    };
    Ok(Opened {
        host,
        dir,
        _unpacked: unpacked,
    })
}

/// Records the live host (what doctor reads, redacted) as a snapshot folder, or as a
/// .tar.gz when `dest` ends in `.tar.gz`/`.tgz`. Returns the number of files written.
pub fn save(opts: &super::LiveOptions, dest: &Path, note: &str) -> Result<usize, SnapshotError> {
    use super::command::{LiveCommands, RecordingCommands};
    use crate::facts::Probed;
    use crate::redact::Redactor;

    let mut host = Host::live(opts);
    let recorder = std::sync::Arc::new(RecordingCommands {
        inner: LiveCommands {
            deadline: opts.deadline,
            disabled: opts.root != Path::new("/"),
        },
        seen: Default::default(),
    });
    host.commands = Box::new(SharedCommands(recorder.clone()));
    let facts = crate::probe::gather(
        &host,
        &crate::probe::Request {
            deadline: opts.deadline,
            ..Default::default()
        },
    );

    // Secrets to strip: the user (name and home) and the host's names.
    let mut users: Vec<String> = ["USER", "LOGNAME", "SUDO_USER"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .collect();
    if let Some(home) = host.env.get("HOME") {
        users.extend(home.rsplit('/').next().map(str::to_string));
    }
    let mut hosts: Vec<String> = host
        .fs
        .read_quiet("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .into_iter()
        .collect();
    hosts.extend(facts.info_str("Name").map(str::to_string));
    let r = Redactor::new(&users, &hosts);

    let tarball = dest
        .to_str()
        .is_some_and(|s| s.ends_with(".tar.gz") || s.ends_with(".tgz"));
    let staging = tempfile::tempdir()
        .map_err(|e| SnapshotError(format!("cannot make a temporary folder: {e}")))?;
    let dir = if tarball {
        staging.path().join("nvctk-snapshot")
    } else {
        dest.to_path_buf()
    };
    if !tarball
        && dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(SnapshotError(format!(
            "{} exists and is not empty; choose a new folder",
            dir.display()
        )));
    }
    let mut written = 0usize;
    let mut write = |rel: &str, text: &str| -> Result<(), SnapshotError> {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| SnapshotError(format!("cannot create {}: {e}", parent.display())))?;
        }
        std::fs::write(&p, text)
            .map_err(|e| SnapshotError(format!("cannot write {}: {e}", p.display())))?;
        written += 1;
        Ok(())
    };
    let json =
        |v: &serde_json::Value| r.text(&serde_json::to_string_pretty(v).unwrap_or_default()) + "\n";

    write(
        MANIFEST,
        &json(&serde_json::json!({
            "format": FORMAT,
            "captured_at": rfc3339_now(),
            "nvctk_version": env!("CARGO_PKG_VERSION"),
            "note": note,
        })),
    )?;
    // Files: content for what was read, empty stand-ins for what was only looked for.
    for (path, how) in host.fs.accessed() {
        let rel = format!("root{path}");
        let full = host.fs.path(&path);
        match how {
            super::fs::Access::Read => {
                let mut text = host.fs.read_quiet(&path).unwrap_or_default();
                if path == "/var/lib/dpkg/status" {
                    text = relevant_packages(&text);
                }
                write(&rel, &r.text(&text))?;
            }
            super::fs::Access::Listed => {
                let p = dir.join(&rel);
                std::fs::create_dir_all(&p)
                    .map_err(|e| SnapshotError(format!("cannot create {}: {e}", p.display())))?;
            }
            super::fs::Access::Exists => {
                if full.is_dir() {
                    let p = dir.join(&rel);
                    std::fs::create_dir_all(&p).map_err(|e| {
                        SnapshotError(format!("cannot create {}: {e}", p.display()))
                    })?;
                } else {
                    write(&rel, "")?;
                }
            }
        }
    }
    let env: serde_json::Map<String, serde_json::Value> = host
        .env
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    write("env.json", &json(&serde_json::Value::Object(env)))?;
    let docker = match &facts.docker.engine {
        Some(Probed::Ok { value }) => {
            let mut info = value.info.clone();
            // The engine's ID identifies the machine; nothing judges it.
            if let Some(id) = info.get_mut("ID") {
                *id = serde_json::Value::String("redacted".into());
            }
            serde_json::json!({
                "endpoint": facts.docker.endpoint, "context": facts.docker.context,
                "version": value.version, "info": info,
            })
        }
        Some(Probed::Err { kind, message }) => serde_json::json!({
            "endpoint": facts.docker.endpoint, "context": facts.docker.context,
            "error": {"kind": kind, "message": message},
        }),
        None => serde_json::Value::Null,
    };
    if !docker.is_null() {
        write("docker.json", &json(&docker))?;
    }
    match &facts.nvml {
        Some(Probed::Ok { value }) => {
            let mut v = value.clone();
            v.library = None;
            for d in &mut v.devices {
                d.uuid = format!("GPU-redacted-{}", d.index);
            }
            write(
                "nvml.json",
                &json(&serde_json::to_value(&v).unwrap_or_default()),
            )?;
        }
        // An absent library is recorded by absence, as the format says.
        Some(Probed::Err { kind, .. }) if kind == "library-not-found" => {}
        Some(Probed::Err { kind, message }) => {
            write(
                "nvml.json",
                &json(&serde_json::json!({"error": {"kind": kind, "message": message}})),
            )?;
        }
        None => {}
    }
    write(
        "host.json",
        &json(&serde_json::to_value(&facts.resources).unwrap_or_default()),
    )?;
    if let Ok(seen) = recorder.seen.lock() {
        for (name, out) in seen.iter() {
            write(
                &format!("commands/{name}.json"),
                &json(&serde_json::to_value(out).unwrap_or_default()),
            )?;
        }
    }
    if tarball {
        let file = std::fs::File::create(dest)
            .map_err(|e| SnapshotError(format!("cannot create {}: {e}", dest.display())))?;
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::default(),
        ));
        tar.append_dir_all("nvctk-snapshot", &dir)
            .and_then(|_| tar.into_inner())
            .and_then(|gz| gz.finish())
            .map_err(|e| SnapshotError(format!("cannot write {}: {e}", dest.display())))?;
    }
    Ok(written)
}

/// Lets the recorder be shared between the host and the code that reads it back.
struct SharedCommands(
    std::sync::Arc<super::command::RecordingCommands<super::command::LiveCommands>>,
);

impl super::command::Commands for SharedCommands {
    fn run(
        &self,
        name: &str,
        argv: &[&str],
    ) -> Result<super::command::CmdOutput, super::command::CmdError> {
        self.0.run(name, argv)
    }
}

/// Only the stanzas doctor judges: NVIDIA, CUDA, Docker and container runtime packages.
fn relevant_packages(status: &str) -> String {
    let keep = |name: &str| {
        [
            "nvidia",
            "libnvidia",
            "cuda",
            "docker",
            "containerd",
            "runc",
            "moby",
            "podman",
        ]
        .iter()
        .any(|k| name.contains(k))
    };
    let mut out = String::new();
    for stanza in status.split("\n\n") {
        let name = stanza
            .lines()
            .find_map(|l| l.strip_prefix("Package:"))
            .map(str::trim)
            .unwrap_or("");
        if keep(name) {
            out.push_str(stanza.trim_end());
            out.push_str("\n\n");
        }
    }
    out
}

/// Now as RFC 3339 UTC.
fn rfc3339_now() -> String {
    let (y, m, d, hh, mm, ss, _) = crate::setup::apply::utc_parts(std::time::SystemTime::now());
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_package_filter() {
        let t = rfc3339_now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20"), "{t}");
        let status = "Package: bash\nVersion: 5\n\nPackage: nvidia-container-toolkit\nStatus: install ok installed\nVersion: 1.20.0-1\n\nPackage: docker.io\nVersion: 20.10\n";
        let kept = relevant_packages(status);
        assert!(!kept.contains("bash"));
        assert!(kept.contains("nvidia-container-toolkit") && kept.contains("docker.io"));
    }
}
