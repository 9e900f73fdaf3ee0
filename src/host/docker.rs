//! The Docker Engine API seam: the live engine over its socket (reqwest), or a snapshot's docker.json.

use crate::host::fs::FsRoot;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// `unix:///var/run/docker.sock`, `tcp://host:2375`, …
    pub url: String,
    pub context: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineErrorKind {
    NotRunning,
    PermissionDenied,
    Timeout,
    NotInstalled,
    NotFound,
    Other,
}

impl EngineErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRunning => "not-running",
            Self::PermissionDenied => "permission-denied",
            Self::Timeout => "timeout",
            Self::NotInstalled => "not-installed",
            Self::NotFound => "not-found",
            Self::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "not-running" => Self::NotRunning,
            "permission-denied" => Self::PermissionDenied,
            "timeout" => Self::Timeout,
            "not-installed" => Self::NotInstalled,
            "not-found" => Self::NotFound,
            _ => Self::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EngineError {
    pub kind: EngineErrorKind,
    pub message: String,
}

pub trait EngineApi: Send + Sync {
    fn endpoint(&self) -> Endpoint;
    /// GET a JSON document, e.g. `/version`, `/info`, `/images/REF/json`.
    fn get_json(&self, path: &str) -> Result<Value, EngineError>;
}

/// Finds the engine the docker CLI would talk to: DOCKER_HOST, then DOCKER_CONTEXT or the
/// current context in ~/.docker/config.json, then the rootful socket, then a rootless one.
pub fn resolve_endpoint(fs: &FsRoot, env: &BTreeMap<String, String>) -> Endpoint {
    if let Some(host) = env.get("DOCKER_HOST").filter(|h| !h.is_empty()) {
        return Endpoint {
            url: host.clone(),
            context: "DOCKER_HOST".into(),
        };
    }
    let home = env.get("HOME").cloned().unwrap_or_else(|| "/root".into());
    let config_dir = env
        .get("DOCKER_CONFIG")
        .cloned()
        .unwrap_or_else(|| format!("{home}/.docker"));
    let context = env
        .get("DOCKER_CONTEXT")
        .filter(|c| !c.is_empty())
        .cloned()
        .or_else(|| {
            let cfg: Value =
                serde_json::from_str(&fs.read(&format!("{config_dir}/config.json"))?).ok()?;
            cfg.get("currentContext")?.as_str().map(str::to_string)
        })
        .filter(|c| c != "default");
    if let Some(name) = context {
        // Context metadata lives in a folder named after the SHA-256 of the context name.
        let digest = Sha256::digest(name.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let meta = fs
            .read(&format!("{config_dir}/contexts/meta/{hex}/meta.json"))
            .and_then(|t| serde_json::from_str::<Value>(&t).ok());
        return match meta
            .as_ref()
            .and_then(|m| m.pointer("/Endpoints/docker/Host"))
            .and_then(|h| h.as_str())
        {
            Some(host) => Endpoint {
                url: host.to_string(),
                context: name,
            },
            // The docker CLI refuses a context it cannot find; so do we, instead of guessing.
            None => Endpoint {
                url: format!("context-not-found://{name}"),
                context: name,
            },
        };
    }
    let rootful = "/var/run/docker.sock";
    if !fs.exists(rootful) {
        if let Some(xdg) = env.get("XDG_RUNTIME_DIR") {
            let rootless = format!("{xdg}/docker.sock");
            if fs.exists(&rootless) {
                return Endpoint {
                    url: format!("unix://{rootless}"),
                    context: "default".into(),
                };
            }
        }
    }
    Endpoint {
        url: format!("unix://{rootful}"),
        context: "default".into(),
    }
}

pub struct LiveEngine {
    endpoint: Endpoint,
    client: Result<reqwest::blocking::Client, String>,
    base: String,
}

impl LiveEngine {
    /// `root` maps a unix socket path below `--root`, so a pod with the host's / mounted
    /// at /host can still reach the host's engine.
    pub fn new(endpoint: Endpoint, fs: &FsRoot, deadline: Duration) -> Self {
        // reqwest is built with rustls for registries (`nvctk test`); it then needs a
        // process-wide crypto provider before building any client, even one that only
        // speaks plain HTTP over a unix socket. Installing it is idempotent and cheap.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder = reqwest::blocking::Client::builder()
            .timeout(deadline)
            .connect_timeout(deadline)
            .user_agent(concat!("nvctk/", env!("CARGO_PKG_VERSION")));
        let (client, base) = if let Some(path) = endpoint.url.strip_prefix("unix://") {
            // A socket we found ourselves lives on the inspected host (below --root); one the
            // user named in DOCKER_HOST is taken as given.
            let sock: PathBuf = if endpoint.context == "DOCKER_HOST" {
                PathBuf::from(path)
            } else {
                fs.path(path)
            };
            (
                builder.unix_socket(sock).build(),
                "http://docker".to_string(),
            )
        } else if let Some(addr) = endpoint.url.strip_prefix("tcp://") {
            (builder.build(), format!("http://{addr}"))
        } else if endpoint.url.starts_with("context-not-found://") {
            return Self {
                client: Err(format!(
                    "context \"{}\": context not found (see `docker context ls`)",
                    endpoint.context
                )),
                endpoint,
                base: String::new(),
            };
        } else {
            return Self {
                client: Err(format!(
                    "nvctk cannot reach engine endpoint `{}` (only unix:// and tcp:// are supported)",
                    endpoint.url
                )),
                endpoint,
                base: String::new(),
            };
        };
        Self {
            client: client.map_err(|e| e.to_string()),
            endpoint,
            base,
        }
    }

    fn classify(&self, err: &reqwest::Error) -> EngineError {
        let url = &self.endpoint.url;
        if err.is_timeout() {
            return EngineError {
                kind: EngineErrorKind::Timeout,
                message: format!(
                    "the engine at {url} accepted the connection but did not answer in time"
                ),
            };
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                let (kind, message) = match io.kind() {
                    std::io::ErrorKind::PermissionDenied => (
                        EngineErrorKind::PermissionDenied,
                        format!(
                            "permission denied while trying to connect to the Docker daemon socket at {url}"
                        ),
                    ),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => (
                        EngineErrorKind::NotRunning,
                        format!(
                            "Cannot connect to the Docker daemon at {url} ({io}). Is the docker daemon running?"
                        ),
                    ),
                    std::io::ErrorKind::TimedOut => (
                        EngineErrorKind::Timeout,
                        format!("the engine at {url} did not answer in time"),
                    ),
                    _ => (EngineErrorKind::Other, format!("{url}: {io}")),
                };
                return EngineError { kind, message };
            }
            source = e.source();
        }
        EngineError {
            kind: if err.is_connect() {
                EngineErrorKind::NotRunning
            } else {
                EngineErrorKind::Other
            },
            message: format!("{url}: {err}"),
        }
    }

    fn request(
        &self,
        req: impl FnOnce(&reqwest::blocking::Client, String) -> reqwest::blocking::RequestBuilder,
        path: &str,
    ) -> Result<(u16, Vec<u8>), EngineError> {
        let client = self.client.as_ref().map_err(|m| EngineError {
            kind: EngineErrorKind::Other,
            message: m.clone(),
        })?;
        let resp = req(client, format!("{}{path}", self.base))
            .send()
            .map_err(|e| self.classify(&e))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().map_err(|e| self.classify(&e))?;
        Ok((status, body.to_vec()))
    }

    /// POST with an optional JSON body; returns the status and body, for setup and test.
    pub fn post(&self, path: &str, body: Option<&Value>) -> Result<(u16, Vec<u8>), EngineError> {
        self.request(
            |c, url| {
                let r = c.post(url).header("Content-Type", "application/json");
                match body {
                    Some(b) => r.body(b.to_string()),
                    None => r,
                }
            },
            path,
        )
    }

    /// GET raw bytes with the status (container logs are a multiplexed stream, not JSON).
    pub fn get(&self, path: &str) -> Result<(u16, Vec<u8>), EngineError> {
        self.request(|c, url| c.get(url), path)
    }

    /// POST and hand each line of a streamed answer (`/images/create`) to `on_line` as it
    /// arrives; `on_line` returns false to stop reading. Returns the status.
    pub fn post_lines(
        &self,
        path: &str,
        on_line: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<u16, EngineError> {
        use std::io::BufRead;
        let client = self.client.as_ref().map_err(|m| EngineError {
            kind: EngineErrorKind::Other,
            message: m.clone(),
        })?;
        let resp = client
            .post(format!("{}{path}", self.base))
            .send()
            .map_err(|e| self.classify(&e))?;
        let status = resp.status().as_u16();
        let mut reader = std::io::BufReader::new(resp);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {
                    if !on_line(&line) {
                        break;
                    }
                }
                Err(e) => {
                    return Err(EngineError {
                        kind: if e.kind() == std::io::ErrorKind::TimedOut {
                            EngineErrorKind::Timeout
                        } else {
                            EngineErrorKind::Other
                        },
                        message: format!("{}: {e}", self.endpoint.url),
                    });
                }
            }
        }
        Ok(status)
    }

    pub fn delete(&self, path: &str) -> Result<(u16, Vec<u8>), EngineError> {
        self.request(|c, url| c.delete(url), path)
    }
}

/// `GET /images/{ref}/json` for an image reference. The reference goes into a URL path:
/// `/` and `:` stay (the engine expects them), and nothing may read as a query or fragment.
pub fn image_inspect_path(reference: &str) -> String {
    let escaped: String = reference
        .chars()
        .map(|c| match c {
            '%' => "%25".to_string(),
            '?' => "%3F".to_string(),
            '#' => "%23".to_string(),
            ' ' => "%20".to_string(),
            c => c.to_string(),
        })
        .collect();
    format!("/images/{escaped}/json")
}

/// The Engine API's error bodies are `{"message": "..."}`.
pub fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string())
}

impl EngineApi for LiveEngine {
    fn endpoint(&self) -> Endpoint {
        self.endpoint.clone()
    }

    fn get_json(&self, path: &str) -> Result<Value, EngineError> {
        let (status, body) = self.request(|c, url| c.get(url), path)?;
        if status == 404 {
            return Err(EngineError {
                kind: EngineErrorKind::NotFound,
                message: error_message(&body),
            });
        }
        if !(200..300).contains(&status) {
            return Err(EngineError {
                kind: EngineErrorKind::Other,
                message: format!("engine answered {status}: {}", error_message(&body)),
            });
        }
        serde_json::from_slice(&body).map_err(|e| EngineError {
            kind: EngineErrorKind::Other,
            message: format!("the engine's answer to {path} is not JSON: {e}"),
        })
    }
}

/// A snapshot's docker.json.
pub struct RecordedEngine {
    pub doc: Option<Value>,
}

impl EngineApi for RecordedEngine {
    fn endpoint(&self) -> Endpoint {
        let get = |k: &str, d: &str| {
            self.doc
                .as_ref()
                .and_then(|d| d.get(k))
                .and_then(|v| v.as_str())
                .unwrap_or(d)
                .to_string()
        };
        Endpoint {
            url: get("endpoint", "unix:///var/run/docker.sock"),
            context: get("context", "default"),
        }
    }

    fn get_json(&self, path: &str) -> Result<Value, EngineError> {
        let Some(doc) = &self.doc else {
            return Err(EngineError {
                kind: EngineErrorKind::NotInstalled,
                message: "no engine was recorded in this snapshot".into(),
            });
        };
        if let Some(err) = doc.get("error") {
            return Err(EngineError {
                kind: EngineErrorKind::parse(
                    err.get("kind").and_then(|k| k.as_str()).unwrap_or("other"),
                ),
                message: err
                    .get("message")
                    .and_then(|m| m.as_str())
                    .unwrap_or("")
                    .to_string(),
            });
        }
        let found = match path {
            "/version" => doc.get("version"),
            "/info" => doc.get("info"),
            p => p
                .strip_prefix("/images/")
                .and_then(|rest| rest.strip_suffix("/json"))
                .and_then(|r| doc.get("images").and_then(|i| i.get(r))),
        };
        found.cloned().ok_or_else(|| EngineError {
            kind: EngineErrorKind::NotFound,
            message: format!("{path} was not recorded in this snapshot"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn docker_host_wins() {
        let dir = tempfile::tempdir().unwrap();
        let fs = FsRoot::new(dir.path());
        let ep = resolve_endpoint(&fs, &env(&[("DOCKER_HOST", "tcp://127.0.0.1:2375")]));
        assert_eq!(ep.url, "tcp://127.0.0.1:2375");
    }

    #[test]
    fn current_context_is_read_from_its_meta_file() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home/u/.docker");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join("config.json"),
            r#"{"currentContext":"desktop-linux"}"#,
        )
        .unwrap();
        let hex: String = Sha256::digest(b"desktop-linux")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let meta = home.join(format!("contexts/meta/{hex}"));
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"desktop-linux","Endpoints":{"docker":{"Host":"unix:///home/u/.docker/desktop/docker.sock"}}}"#,
        )
        .unwrap();
        let fs = FsRoot::new(dir.path());
        let ep = resolve_endpoint(&fs, &env(&[("HOME", "/home/u")]));
        assert_eq!(ep.context, "desktop-linux");
        assert_eq!(ep.url, "unix:///home/u/.docker/desktop/docker.sock");
    }

    #[test]
    fn rootless_socket_is_used_when_rootful_is_absent() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("run/user/1000")).unwrap();
        std::fs::write(dir.path().join("run/user/1000/docker.sock"), "").unwrap();
        let fs = FsRoot::new(dir.path());
        let ep = resolve_endpoint(&fs, &env(&[("XDG_RUNTIME_DIR", "/run/user/1000")]));
        assert_eq!(ep.url, "unix:///run/user/1000/docker.sock");
    }
}
