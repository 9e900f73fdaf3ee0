//! `.nvctk.toml`: the preflight settings a repository checks in, so its CI job stays one line.
//!
//! ```toml
//! [preflight]
//! allow = ["os.unsupported-distro"]   # findings that do not fail the job
//! api = ["cuda"]                       # or "cuda,vulkan"
//! cuda = "12.4"
//! require-runtime = ["nvidia"]
//! timeout = 60                         # seconds for the whole preflight
//! image = "registry.local/nvidia/vulkan:1.3-470"   # instead of the catalog's, for every API
//! pull = "never"                       # missing (default), always or never
//! registry = "registry.local:5000"     # a mirror for the catalog's images
//! mode = "runtime"                     # gpus, runtime or cdi (default: from the host)
//! ```
//!
//! Flags on the command line win over the file; `allow` lists are joined. Unknown keys are
//! an error, so a typo cannot silently turn a check off.

use serde::Deserialize;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = ".nvctk.toml";

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct File {
    #[serde(default)]
    pub preflight: Preflight,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Preflight {
    #[serde(default)]
    pub allow: Vec<String>,
    pub api: Option<OneOrMany>,
    pub cuda: Option<String>,
    pub require_runtime: Option<OneOrMany>,
    pub timeout: Option<f64>,
    pub image: Option<String>,
    pub pull: Option<String>,
    pub registry: Option<String>,
    pub mode: Option<String>,
}

/// `"cuda,vulkan"` or `["cuda", "vulkan"]`.
#[derive(Debug, Deserialize, PartialEq, Clone)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn joined(&self) -> String {
        match self {
            OneOrMany::One(s) => s.clone(),
            OneOrMany::Many(v) => v.join(","),
        }
    }
}

/// Reads `explicit` (which must exist), else `.nvctk.toml` in `cwd` when present.
/// Returns the path read, if any, with its contents.
pub fn load(explicit: Option<&Path>, cwd: &Path) -> Result<Option<(PathBuf, File)>, String> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = cwd.join(FILE_NAME);
            if !p.is_file() {
                return Ok(None);
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read the config file {}: {e}", path.display()))?;
    let file = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some((path, file)))
}

pub fn parse(text: &str) -> Result<File, String> {
    toml::from_str(text).map_err(|e| {
        let msg = e.message().trim().to_string();
        match e.span() {
            Some(span) => {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}: {msg}")
            }
            None => msg,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key_and_both_list_forms() {
        let f = parse(
            "[preflight]\nallow = [\"os.unsupported-distro\"]\napi = \"cuda,vulkan\"\ncuda = \"12.4\"\nrequire-runtime = [\"nvidia\"]\ntimeout = 60\nimage = \"m/v:1\"\npull = \"never\"\nregistry = \"m:5000\"\nmode = \"cdi\"\n",
        )
        .unwrap();
        assert_eq!(f.preflight.allow, vec!["os.unsupported-distro"]);
        assert_eq!(f.preflight.api.unwrap().joined(), "cuda,vulkan");
        assert_eq!(f.preflight.require_runtime.unwrap().joined(), "nvidia");
        assert_eq!(f.preflight.timeout, Some(60.0));
        assert_eq!(f.preflight.image.as_deref(), Some("m/v:1"));
        assert_eq!(f.preflight.pull.as_deref(), Some("never"));
        assert_eq!(f.preflight.registry.as_deref(), Some("m:5000"));
        assert_eq!(f.preflight.mode.as_deref(), Some("cdi"));
        assert_eq!(parse("").unwrap(), File::default());
    }

    #[test]
    fn a_typo_is_an_error_with_its_line() {
        let e = parse("[preflight]\n\nalow = [\"x\"]\n").unwrap_err();
        assert!(e.starts_with("line 3: unknown field `alow`"), "{e}");
    }
}
