//! Docker facts: the engine's own answers, the CLI, daemon.json, dockerd flags, snap.

use crate::facts::{DockerFacts, DockerdFlag, Engine, Probed, RuntimeBinary};
use crate::host::Host;
use crate::host::docker::EngineErrorKind;
use crate::probe::config::daemon_json;
use std::collections::BTreeMap;

/// Splits a systemd ExecStart value into words, honouring quotes.
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut has = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                has = true;
            }
            (None, c) if c.is_whitespace() => {
                if has || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if has || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The effective ExecStart of a unit and its drop-ins, in systemd's order: an empty
/// `ExecStart=` clears earlier ones. Returns the command and the file it came from.
pub fn effective_exec_start(files: &[(String, String)]) -> Option<(String, String)> {
    let mut current: Option<(String, String)> = None;
    for (path, text) in files {
        // systemd joins lines that end in a backslash.
        let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
        for line in joined.lines() {
            let line = line.trim();
            if let Some(value) = line.strip_prefix("ExecStart=") {
                let value = value.trim();
                current = (!value.is_empty()).then(|| (value.to_string(), path.clone()));
            }
        }
    }
    current
}

/// The daemon.json directive a dockerd flag sets, for the flags users put in units.
pub fn directive_of(flag: &str) -> Option<&'static str> {
    let name = flag.split('=').next().unwrap_or(flag);
    Some(match name {
        "--add-runtime" => "runtimes",
        "--default-runtime" => "default-runtime",
        "-H" | "--host" => "hosts",
        "--data-root" | "-g" | "--graph" => "data-root",
        "-s" | "--storage-driver" => "storage-driver",
        "--storage-opt" => "storage-opts",
        "--log-driver" => "log-driver",
        "--log-opt" => "log-opts",
        "-l" | "--log-level" => "log-level",
        "--dns" => "dns",
        "--dns-search" => "dns-search",
        "--insecure-registry" => "insecure-registries",
        "--registry-mirror" => "registry-mirrors",
        "--exec-opt" => "exec-opts",
        "--cgroup-parent" => "cgroup-parent",
        "--containerd" => "containerd",
        "--iptables" => "iptables",
        "--ip-forward" => "ip-forward",
        "-b" | "--bridge" => "bridge",
        "--bip" => "bip",
        "--mtu" => "mtu",
        "--userns-remap" => "userns-remap",
        "--live-restore" => "live-restore",
        "--default-ulimit" => "default-ulimits",
        "--label" => "labels",
        "-D" | "--debug" => "debug",
        "--experimental" => "experimental",
        "--tls" => "tls",
        "--tlsverify" => "tlsverify",
        "--tlscacert" => "tlscacert",
        "--tlscert" => "tlscert",
        "--tlskey" => "tlskey",
        "--seccomp-profile" => "seccomp-profile",
        "--selinux-enabled" => "selinux-enabled",
        "--max-concurrent-downloads" => "max-concurrent-downloads",
        "--default-address-pool" => "default-address-pools",
        "--features" => "features",
        "--cdi-spec-dir" => "cdi-spec-dirs",
        _ => return None,
    })
}

/// dockerd's flags from a command line (the words after the dockerd binary).
pub fn dockerd_flags(words: &[String], source: &str) -> Vec<DockerdFlag> {
    let Some(start) = words.iter().position(|w| {
        let w = w.trim_start_matches(['-', '@', '+', '!', ':']);
        w.rsplit('/').next().is_some_and(|b| b == "dockerd")
    }) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut i = start + 1;
    while i < words.len() {
        let w = &words[i];
        if w.starts_with('-') {
            // `--flag value` becomes `--flag=value` so each flag is one item.
            let takes_value = !w.contains('=')
                && directive_of(w).is_some()
                && !matches!(
                    w.as_str(),
                    "-D" | "--debug"
                        | "--experimental"
                        | "--live-restore"
                        | "--tls"
                        | "--tlsverify"
                        | "--selinux-enabled"
                )
                || w == "--config-file";
            let flag = match (takes_value, words.get(i + 1)) {
                (true, Some(v)) if !v.starts_with('-') => {
                    i += 1;
                    format!("{w}={v}")
                }
                _ => w.clone(),
            };
            out.push(DockerdFlag {
                directive: directive_of(&flag).map(str::to_string),
                flag,
                source: source.to_string(),
            });
        }
        i += 1;
    }
    out
}

/// `docker --version` ("Docker version 26.1.4, build 5650f9b") or `{{json .Client}}` output.
pub fn parse_client_version(stdout: &str) -> Option<String> {
    let t = stdout.trim();
    if t.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(t).ok()?;
        return v.get("Version")?.as_str().map(str::to_string);
    }
    let rest = t.strip_prefix("Docker version ")?;
    Some(rest.split([',', ' ']).next()?.to_string())
}

const UNIT_DIRS: [&str; 3] = [
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/etc/systemd/system",
];
const DROPIN_DIRS: [&str; 3] = [
    "/usr/lib/systemd/system/docker.service.d",
    "/run/systemd/system/docker.service.d",
    "/etc/systemd/system/docker.service.d",
];

/// The running dockerd's argv, found through /proc. With several engines on one host the
/// one serving our endpoint wins (matched on its -H flag).
fn running_dockerd(host: &Host, endpoint: &str) -> Option<Vec<String>> {
    running_dockerd_process(host, endpoint).map(|(_, argv)| argv)
}

/// The pid and argv of the dockerd serving `endpoint` (what `setup` signals to reload).
pub fn running_dockerd_process(host: &Host, endpoint: &str) -> Option<(i32, Vec<String>)> {
    let fs = &host.fs;
    let mut found: Vec<(String, Vec<String>)> = Vec::new();
    for pid in fs.list_quiet("/proc") {
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if fs
            .read_quiet(&format!("/proc/{pid}/comm"))
            .as_deref()
            .map(str::trim)
            != Some("dockerd")
        {
            continue;
        }
        let Some(raw) = fs.read_quiet(&format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let argv: Vec<String> = raw
            .split('\0')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        found.push((pid, argv));
    }
    let serves = |argv: &[String]| {
        dockerd_flags(argv, "")
            .iter()
            .any(|f| f.directive.as_deref() == Some("hosts") && f.flag.ends_with(endpoint))
    };
    let default_socket = endpoint == "unix:///var/run/docker.sock";
    let pick = found.iter().find(|(_, a)| serves(a)).or_else(|| {
        found.iter().find(|(_, a)| {
            default_socket
                && !dockerd_flags(a, "")
                    .iter()
                    .any(|f| f.directive.as_deref() == Some("hosts") && !f.flag.contains("fd://"))
        })
    })?;
    // Record the chosen process in a snapshot (the scan itself stays out of it).
    let _ = fs.read(&format!("/proc/{}/comm", pick.0));
    let _ = fs.read(&format!("/proc/{}/cmdline", pick.0));
    Some((pick.0.parse().ok()?, pick.1.clone()))
}

pub fn gather(
    host: &Host,
    image: Option<&str>,
    packages: &BTreeMap<String, String>,
) -> DockerFacts {
    let fs = &host.fs;
    let endpoint = host.engine.endpoint();
    let mut d = DockerFacts {
        endpoint: Some(endpoint.url.clone()),
        context: Some(endpoint.context.clone()),
        ..Default::default()
    };

    // Engine, CLI and image questions go out together; each has its own deadline.
    let (engine, client, image_cuda) = std::thread::scope(|s| {
        let engine = s.spawn(|| {
            let version = host.engine.get_json("/version")?;
            let info = host.engine.get_json("/info")?;
            Ok::<_, crate::host::docker::EngineError>(Engine { version, info })
        });
        let client = s.spawn(|| {
            // Starting the docker CLI costs more than everything else doctor does; when the
            // package database owns the binary on PATH, its version is the CLI's version.
            if let Some(v) = packaged_client_version(host, packages) {
                return Some(v);
            }
            host.commands
                .run("docker-client", &["docker", "--version"])
                .ok()
                // `docker version` prints the client even when the engine is down (exit 1).
                .and_then(|o| parse_client_version(&o.stdout))
        });
        let image_cuda = image.map(|r| s.spawn(move || image_require_cuda(host, r)));
        (
            engine.join().ok(),
            client.join().ok().flatten(),
            image_cuda.and_then(|h| h.join().ok()),
        )
    });
    d.client_version = client;
    d.image_require_cuda = image_cuda;
    d.engine = engine.map(|r| match r {
        Ok(value) => Probed::Ok { value },
        Err(mut e) => {
            // A socket that is not there, on a host with no docker programs at all, is not
            // a stopped engine but a missing one.
            if e.kind == EngineErrorKind::NotRunning
                && d.client_version.is_none()
                && fs.which("dockerd").is_none()
                && fs.which("docker").is_none()
                && host.live
            {
                e.kind = EngineErrorKind::NotInstalled;
            }
            Probed::Err {
                kind: e.kind.as_str().into(),
                message: e.message,
            }
        }
    });

    // dockerd's flags: systemd units, then the running process (which wins).
    let mut unit_files: Vec<(String, String)> = Vec::new();
    for dir in UNIT_DIRS {
        let p = format!("{dir}/docker.service");
        if let Some(t) = fs.read(&p) {
            unit_files.push((p, t));
        }
    }
    let mut dropins: Vec<(String, String)> = Vec::new();
    for dir in DROPIN_DIRS {
        for name in fs.list(dir).into_iter().filter(|n| n.ends_with(".conf")) {
            let p = format!("{dir}/{name}");
            if let Some(t) = fs.read(&p) {
                dropins.push((p, t));
            }
        }
    }
    // systemd applies drop-ins in file-name order across folders.
    dropins.sort_by(|a, b| a.0.rsplit('/').next().cmp(&b.0.rsplit('/').next()));
    // /etc's unit replaces the vendor's; only the last full unit counts.
    let mut files: Vec<(String, String)> = unit_files.last().cloned().into_iter().collect();
    files.extend(dropins);
    if let Some((cmd, src)) = effective_exec_start(&files) {
        d.dockerd_flags = dockerd_flags(&split_words(&cmd), &src);
    }
    if let Some(argv) = running_dockerd(host, &endpoint.url) {
        let running = dockerd_flags(&argv, "running dockerd");
        if !running.is_empty() || d.dockerd_flags.is_empty() {
            d.dockerd_flags = running;
        }
    }

    d.snap = fs.exists("/snap/bin/docker")
        || fs.exists("/snap/docker")
        || d.engine
            .as_ref()
            .and_then(|e| e.ok())
            .and_then(|e| e.info.get("DockerRootDir"))
            .and_then(|v| v.as_str())
            .is_some_and(|r| r.starts_with("/var/snap/docker"));
    d.podman = fs.which("podman").is_some();

    let rootless = d
        .engine
        .as_ref()
        .and_then(|e| e.ok())
        .is_some_and(|e| crate::facts::info_is_rootless(&e.info));
    let config_flag = d
        .dockerd_flags
        .iter()
        .find_map(|f| f.flag.strip_prefix("--config-file=").map(str::to_string));
    let home = host
        .env
        .get("HOME")
        .cloned()
        .unwrap_or_else(|| "/root".into());
    let engine_path = if let Some(p) = config_flag {
        p
    } else if d.snap {
        "/var/snap/docker/current/config/daemon.json".to_string()
    } else if rootless {
        let base = host
            .env
            .get("XDG_CONFIG_HOME")
            .cloned()
            .unwrap_or_else(|| format!("{home}/.config"));
        format!("{base}/docker/daemon.json")
    } else {
        "/etc/docker/daemon.json".to_string()
    };
    d.daemon_json = daemon_json(fs, &engine_path);
    if engine_path != "/etc/docker/daemon.json" {
        d.system_daemon_json = daemon_json(fs, "/etc/docker/daemon.json");
    }
    d.runtime_binaries = runtime_binaries(host, &d);
    d
}

/// Built into the engine or containerd: nothing on disk to look for by this name.
fn builtin_runtime(name: &str) -> bool {
    name == "runc" || name.starts_with("io.containerd.")
}

fn runtime_binaries(host: &Host, d: &DockerFacts) -> Vec<RuntimeBinary> {
    let mut out: Vec<RuntimeBinary> = Vec::new();
    let mut add = |name: &str, spec: &serde_json::Value, declared_in: &str| {
        let Some(path) = spec.get("path").and_then(|p| p.as_str()) else {
            return;
        };
        if builtin_runtime(name) || out.iter().any(|r| r.name == name && r.path == path) {
            return;
        }
        out.push(RuntimeBinary {
            name: name.to_string(),
            path: path.to_string(),
            found: host.fs.which(path),
            declared_in: declared_in.to_string(),
        });
    };
    if let Some(rt) = d
        .engine
        .as_ref()
        .and_then(|e| e.ok())
        .and_then(|e| e.info.get("Runtimes"))
        .and_then(|r| r.as_object())
    {
        for (name, spec) in rt {
            add(name, spec, "engine");
        }
    }
    if let Some(cfg) = &d.daemon_json {
        if let Some(rt) = cfg
            .parsed
            .ok()
            .and_then(|v| v.get("runtimes"))
            .and_then(|r| r.as_object())
        {
            for (name, spec) in rt {
                add(name, spec, &cfg.path);
            }
        }
    }
    out
}

/// The version of the docker CLI that PATH resolves to, when a dpkg package owns that file.
fn packaged_client_version(host: &Host, packages: &BTreeMap<String, String>) -> Option<String> {
    let path = host.fs.which("docker")?;
    for pkg in ["docker-ce-cli", "docker.io", "docker-cli", "moby-cli"] {
        let Some(version) = packages.get(pkg) else {
            continue;
        };
        let owned = ["", ":amd64", ":arm64"].iter().any(|arch| {
            host.fs
                .read(&format!("/var/lib/dpkg/info/{pkg}{arch}.list"))
                .is_some_and(|list| list.lines().any(|l| l == path))
        });
        if owned {
            return Some(upstream_version(version));
        }
    }
    None
}

/// Debian's `5:26.1.4-1~ubuntu.22.04~jammy` → `26.1.4`; `20.10.24+dfsg1-1+deb12u1` → `20.10.24+dfsg1`.
pub fn upstream_version(deb: &str) -> String {
    let no_epoch = deb.split_once(':').map(|(_, v)| v).unwrap_or(deb);
    no_epoch
        .rsplit_once('-')
        .map(|(v, _)| v)
        .unwrap_or(no_epoch)
        .to_string()
}

/// NVIDIA_REQUIRE_CUDA from a local image's environment (`--image`).
fn image_require_cuda(host: &Host, reference: &str) -> Probed<Option<String>> {
    match host
        .engine
        .get_json(&crate::host::docker::image_inspect_path(reference))
    {
        Ok(v) => {
            let env: Vec<&str> = v
                .pointer("/Config/Env")
                .and_then(|e| e.as_array())
                .map(|a| a.iter().filter_map(|e| e.as_str()).collect())
                .unwrap_or_default();
            let get = |k: &str| {
                env.iter()
                    .find_map(|e| e.strip_prefix(k))
                    .map(str::to_string)
            };
            // The toolkit skips the requirement check when the image disables it.
            let disabled = get("NVIDIA_DISABLE_REQUIRE=")
                .is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
            Probed::Ok {
                value: if disabled {
                    None
                } else {
                    get("NVIDIA_REQUIRE_CUDA=")
                },
            }
        }
        Err(e) => Probed::Err {
            kind: e.kind.as_str().into(),
            message: e.message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_quotes() {
        assert_eq!(
            split_words(
                r#"/usr/bin/dockerd -H fd:// --add-runtime "nvidia=/usr/bin/nvidia container runtime""#
            ),
            vec![
                "/usr/bin/dockerd",
                "-H",
                "fd://",
                "--add-runtime",
                "nvidia=/usr/bin/nvidia container runtime"
            ]
        );
    }

    #[test]
    fn dropin_reset_replaces_exec_start() {
        // shared case C05: the drop-in clears ExecStart and adds --add-runtime.
        let files = vec![
            (
                "/lib/systemd/system/docker.service".to_string(),
                "[Service]\nExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock\n".to_string(),
            ),
            (
                "/etc/systemd/system/docker.service.d/override.conf".to_string(),
                "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd --host=fd:// \\\n  --add-runtime=nvidia=/usr/bin/nvidia-container-runtime\n".to_string(),
            ),
        ];
        let (cmd, src) = effective_exec_start(&files).unwrap();
        assert_eq!(src, "/etc/systemd/system/docker.service.d/override.conf");
        let flags = dockerd_flags(&split_words(&cmd), &src);
        let directives: Vec<_> = flags.iter().filter_map(|f| f.directive.clone()).collect();
        assert_eq!(directives, vec!["hosts", "runtimes"]);
    }

    #[test]
    fn separated_values_are_joined() {
        let argv: Vec<String> = [
            "/usr/bin/dockerd",
            "-H",
            "fd://",
            "--config-file",
            "/etc/docker/gpu.json",
            "--debug",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let flags = dockerd_flags(&argv, "running dockerd");
        let names: Vec<_> = flags.iter().map(|f| f.flag.as_str()).collect();
        assert_eq!(
            names,
            vec!["-H=fd://", "--config-file=/etc/docker/gpu.json", "--debug"]
        );
    }

    #[test]
    fn debian_versions_to_upstream() {
        assert_eq!(upstream_version("5:26.1.4-1~ubuntu.22.04~jammy"), "26.1.4");
        assert_eq!(
            upstream_version("20.10.24+dfsg1-1+deb12u1"),
            "20.10.24+dfsg1"
        );
        assert_eq!(upstream_version("24.0.5"), "24.0.5");
    }

    #[test]
    fn client_versions() {
        assert_eq!(
            parse_client_version("Docker version 26.1.4, build 5650f9b\n").as_deref(),
            Some("26.1.4")
        );
        assert_eq!(
            parse_client_version("Docker version 20.10.24+dfsg1, build 297e128\n").as_deref(),
            Some("20.10.24+dfsg1")
        );
        assert_eq!(
            parse_client_version(r#"{"Version":"24.0.5","ApiVersion":"1.43"}"#).as_deref(),
            Some("24.0.5")
        );
        assert_eq!(parse_client_version("podman version 5.2.2"), None);
    }
}
