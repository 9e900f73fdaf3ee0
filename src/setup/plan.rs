//! The change as data: old text, new text, actions, and what the engine must report once
//! it has read the new text.

use super::daemon_json::{self, EditError, Op};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub path: String,
    #[serde(skip)]
    pub old: Vec<u8>,
    #[serde(skip)]
    pub new: Vec<u8>,
    /// False when the file does not exist yet.
    pub existed: bool,
    pub changed: bool,
    pub actions: Vec<String>,
    pub diff: String,
}

/// Plans `op` against the file's bytes (`None` when the file is absent).
pub fn plan(path: &str, old: Option<&[u8]>, op: &Op) -> Result<Change, EditError> {
    let bytes = old.unwrap_or_default();
    let p = daemon_json::plan(bytes, op)?;
    Ok(change(path, old, p.new_text, p.actions))
}

/// A change to given bytes (restoring a backup).
pub fn change(path: &str, old: Option<&[u8]>, new: Vec<u8>, actions: Vec<String>) -> Change {
    let bytes = old.unwrap_or_default().to_vec();
    let changed = new != bytes || (old.is_none() && !new.is_empty());
    Change {
        path: path.to_string(),
        diff: daemon_json::unified_diff(path, &bytes, &new),
        existed: old.is_some(),
        old: bytes,
        new,
        changed,
        actions,
    }
}

/// What `GET /info` must show once the engine has read a daemon.json.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expect {
    /// The runtime and the path the engine must report for it; `None` when the file does
    /// not name it (then its presence is not judged: a dockerd flag may add it).
    pub runtime: Option<(String, String)>,
    /// A runtime the engine must no longer report (after `--undo`).
    pub runtime_absent: Option<String>,
    /// `DefaultRuntime`.
    pub default_runtime: String,
}

fn parse(text: &[u8]) -> Value {
    let body = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    serde_json::from_slice(body).unwrap_or(Value::Object(Default::default()))
}

/// `flag_default` is dockerd's `--default-runtime` flag when set; `name_flagged` says a
/// dockerd flag registers `name` (so its absence from the file does not remove it).
pub fn expect(text: &[u8], name: &str, flag_default: Option<&str>, name_flagged: bool) -> Expect {
    let doc = parse(text);
    let runtime = doc
        .get("runtimes")
        .and_then(|r| r.get(name))
        .and_then(|r| r.get("path"))
        .and_then(|p| p.as_str())
        .map(|p| (name.to_string(), p.to_string()));
    let runtime_absent = (runtime.is_none() && !name_flagged).then(|| name.to_string());
    let default_runtime = doc
        .get("default-runtime")
        .and_then(|d| d.as_str())
        .or(flag_default)
        .unwrap_or("runc")
        .to_string();
    Expect {
        runtime,
        runtime_absent,
        default_runtime,
    }
}

/// Checks an `/info` body against `e`; the error says what differs.
pub fn verify(info: &Value, e: &Expect) -> Result<(), String> {
    let runtimes = info.get("Runtimes").and_then(|r| r.as_object());
    if let Some((name, path)) = &e.runtime {
        match runtimes.and_then(|r| r.get(name)) {
            None => return Err(format!("the engine does not report the `{name}` runtime")),
            Some(spec) => {
                let got = spec.get("path").and_then(|p| p.as_str()).unwrap_or("");
                if !daemon_json::runtime_paths_match(got, path) {
                    return Err(format!(
                        "the engine's `{name}` runtime runs {got}, not {path}"
                    ));
                }
            }
        }
    }
    if let Some(name) = &e.runtime_absent {
        if runtimes.is_some_and(|r| r.contains_key(name)) {
            return Err(format!("the engine still reports the `{name}` runtime"));
        }
    }
    let default = info
        .get("DefaultRuntime")
        .and_then(|d| d.as_str())
        .unwrap_or("runc");
    if default != e.default_runtime {
        return Err(format!(
            "the engine's default runtime is {default}, not {}",
            e.default_runtime
        ));
    }
    Ok(())
}

/// daemon.json keys dockerd re-reads on SIGHUP (`dockerd --help`'s reloadable options
/// as of Docker 20.10–27). Anything else needs a restart.
const RELOADABLE: [&str; 15] = [
    "runtimes",
    "default-runtime",
    "debug",
    "labels",
    "live-restore",
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "max-download-attempts",
    "default-shm-size",
    "shutdown-timeout",
    "insecure-registries",
    "registry-mirrors",
    "allow-nondistributable-artifacts",
    "default-ulimits",
    "cluster-store",
];

/// The top-level keys whose values differ between two daemon.json texts.
pub fn changed_keys(old: &[u8], new: &[u8]) -> Vec<String> {
    let (a, b) = (parse(old), parse(new));
    let empty = serde_json::Map::new();
    let (a, b) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// True when SIGHUP is enough for the engine to pick up the change. dockerd's reload only
/// applies keys that are set in the new file: a key taken out (`default-runtime` after
/// `--undo`) keeps its old value until a restart.
pub fn reloadable(old: &[u8], new: &[u8]) -> bool {
    let new_doc = parse(new);
    changed_keys(old, new)
        .iter()
        .all(|k| RELOADABLE.contains(&k.as_str()) && new_doc.get(k).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn runtimes_reload_features_restart() {
        assert!(reloadable(
            b"{}",
            br#"{"runtimes": {"nvidia": {"path": "x"}}}"#
        ));
        assert!(reloadable(
            br#"{"data-root": "/d"}"#,
            br#"{"data-root": "/d", "default-runtime": "nvidia"}"#
        ));
        assert!(!reloadable(b"{}", br#"{"features": {"cdi": true}}"#));
        // Seen on dockerd 20.10: a removed default-runtime survives SIGHUP.
        assert!(!reloadable(br#"{"default-runtime": "nvidia"}"#, b"{}"));
        assert!(reloadable(
            br#"{"runtimes": {"nvidia": {"path": "x"}, "crun": {"path": "crun"}}}"#,
            br#"{"runtimes": {"crun": {"path": "crun"}}}"#
        ));
        assert_eq!(
            changed_keys(b"{}", br#"{"features": {"cdi": true}}"#),
            vec!["features"]
        );
    }

    #[test]
    fn expectations_follow_the_file() {
        let e = expect(
            br#"{"runtimes": {"nvidia": {"path": "/x/shim"}}}"#,
            "nvidia",
            None,
            false,
        );
        assert_eq!(e.runtime, Some(("nvidia".into(), "/x/shim".into())));
        assert_eq!(e.default_runtime, "runc");
        let info = json!({"Runtimes": {"runc": {"path": "runc"}, "nvidia": {"path": "/x/shim"}}, "DefaultRuntime": "runc"});
        assert_eq!(verify(&info, &e), Ok(()));
        let e2 = expect(
            br#"{"default-runtime": "nvidia", "runtimes": {"nvidia": {"path": "/x/shim"}}}"#,
            "nvidia",
            None,
            false,
        );
        assert!(
            verify(&info, &e2)
                .unwrap_err()
                .contains("default runtime is runc")
        );
        let gone = expect(b"{}", "nvidia", None, false);
        assert!(verify(&info, &gone).unwrap_err().contains("still reports"));
        assert_eq!(verify(&info, &expect(b"{}", "nvidia", None, true)), Ok(()));
    }

    #[test]
    fn a_new_file_is_a_change() {
        let c = plan(
            "/etc/docker/daemon.json",
            None,
            &Op::Add(daemon_json::Want::default()),
        )
        .unwrap();
        assert!(c.changed && !c.existed);
        assert!(c.diff.contains("+{"));
    }
}
