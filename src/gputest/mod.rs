//! `nvctk test --api …`: short real containers per graphics/compute API, judged by parsers.
//! The types here are the contract `preflight` builds on; the runner fills them.

pub mod catalog;
pub mod plan;
pub mod registry;
pub mod report;
pub mod run;
pub mod verify;

use serde::Serialize;
use std::time::Duration;

/// Runs the asked APIs against the live host's engine: facts from doctor, one container per
/// API (concurrently), verdicts from the parsers. Err only when nvctk itself cannot go on
/// (a broken catalog, Ctrl-C); host problems are failed results.
pub fn run(s: &Settings) -> Result<Outcome, String> {
    run::run(s)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
    Junit,
}

/// The report in the asked format; `quiet` (`-q`) leaves the human table's passes out.
pub fn render(format: Format, o: &Outcome, quiet: bool) -> String {
    match format {
        Format::Human => report::human(o, quiet),
        Format::Json => report::json(o),
        Format::Junit => report::junit(o),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    Cuda,
    Opengl,
    Vulkan,
    Opencl,
    Video,
}

impl Api {
    pub const ALL: [Api; 5] = [Api::Cuda, Api::Opengl, Api::Vulkan, Api::Opencl, Api::Video];

    pub fn as_str(self) -> &'static str {
        match self {
            Api::Cuda => "cuda",
            Api::Opengl => "opengl",
            Api::Vulkan => "vulkan",
            Api::Opencl => "opencl",
            Api::Video => "video",
        }
    }

    /// Parses one name or `all`; for comma lists split first.
    pub fn parse_list(s: &str) -> Result<Vec<Api>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "all" => out.extend(Api::ALL),
                "cuda" => out.push(Api::Cuda),
                "opengl" | "gl" | "egl" => out.push(Api::Opengl),
                "vulkan" => out.push(Api::Vulkan),
                "opencl" => out.push(Api::Opencl),
                "video" | "nvenc" | "nvdec" => out.push(Api::Video),
                other => {
                    return Err(format!(
                        "unknown API `{other}`; expected cuda, opengl, vulkan, opencl, video or all"
                    ));
                }
            }
        }
        out.sort();
        out.dedup();
        if out.is_empty() {
            return Err("no API given; expected cuda, opengl, vulkan, opencl, video or all".into());
        }
        Ok(out)
    }
}

/// How the container asks for the GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `--gpus all`: a DeviceRequest the engine hands to the toolkit hook.
    Gpus,
    /// `--runtime nvidia` with NVIDIA_VISIBLE_DEVICES=all.
    Runtime,
    /// CDI device `nvidia.com/gpu=all`.
    Cdi,
}

impl Mode {
    /// `gpus`, `runtime` or `cdi` (the `--mode` values, also in `.nvctk.toml`).
    pub fn parse(s: &str) -> Result<Mode, String> {
        match s.trim() {
            "gpus" => Ok(Mode::Gpus),
            "runtime" => Ok(Mode::Runtime),
            "cdi" => Ok(Mode::Cdi),
            other => Err(format!(
                "unknown GPU request mode `{other}`; expected gpus, runtime or cdi"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pull {
    #[default]
    Missing,
    Always,
    Never,
}

impl Pull {
    /// `missing`, `always` or `never` (the `--pull` values, also in `.nvctk.toml`).
    pub fn parse(s: &str) -> Result<Pull, String> {
        match s.trim() {
            "missing" => Ok(Pull::Missing),
            "always" => Ok(Pull::Always),
            "never" => Ok(Pull::Never),
            other => Err(format!(
                "unknown pull policy `{other}`; expected missing, always or never"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub apis: Vec<Api>,
    /// None: chosen from the host's facts.
    pub mode: Option<Mode>,
    /// Replaces the catalog's image for every API asked.
    pub image: Option<String>,
    pub pull: Pull,
    /// A registry mirror used for tag resolution and pulls.
    pub registry: Option<String>,
    /// Per-container time limit.
    pub timeout: Duration,
    /// Per-probe deadline (engine API calls, doctor facts).
    pub deadline: Duration,
    /// Show pull progress bars (only on a terminal).
    pub progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiResult {
    pub api: Api,
    pub image: String,
    pub mode: Option<Mode>,
    pub verdict: Verdict,
    /// The device that answered, e.g. "NVIDIA GeForce RTX 4090" (or "llvmpipe" on a failure).
    pub device: Option<String>,
    pub seconds: f64,
    /// Why it failed or was skipped, in one line.
    pub cause: Option<String>,
    /// The doctor check that explains the failure, when one does.
    pub check_id: Option<String>,
    /// The fix, when known.
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub results: Vec<ApiResult>,
    /// Wall time of the whole run (the containers run concurrently, so this is not the sum).
    #[serde(skip)]
    pub seconds: f64,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        self.results.iter().any(|r| r.verdict == Verdict::Fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_lists() {
        assert_eq!(
            Api::parse_list("cuda,vulkan").unwrap(),
            vec![Api::Cuda, Api::Vulkan]
        );
        assert_eq!(Api::parse_list("all").unwrap().len(), 5);
        assert!(
            Api::parse_list("metal")
                .unwrap_err()
                .contains("unknown API `metal`")
        );
        assert!(Api::parse_list("").is_err());
    }
}
