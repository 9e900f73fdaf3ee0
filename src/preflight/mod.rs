//! `nvctk preflight`: the CI job. Doctor, plus what the pipeline requires (a runtime, a CUDA
//! version, API tests), judged strictly: any warning or error fails unless it is allowed, by
//! `--allow ID` or the repository's `.nvctk.toml`. Bounded in time, never asks, needs no TTY.
//!
//! Everything the job judged becomes an [`Item`] (one per doctor check, requirement and API),
//! so every format (human, JSON, JUnit, GitHub) reports the same verdicts.

pub mod config;

use crate::checks::{self, Finding, Status};
use crate::doctor;
use crate::gputest::{self, Api, ApiResult, Verdict};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The id of the preflight-only finding for `--require-runtime` (documented in docs/preflight.md).
pub const REQUIRE_RUNTIME_ID: &str = "preflight.require-runtime";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
    Junit,
    Github,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Snapshot or live host, probe deadline, CUDA version. `strict` and `format` are unused.
    pub doctor: doctor::Settings,
    pub apis: Vec<Api>,
    pub require_runtimes: Vec<String>,
    pub allow: Vec<String>,
    /// How the API test containers ask for the GPU (None: chosen from the host's facts).
    pub mode: Option<gputest::Mode>,
    /// Replaces the catalog's image for every API test.
    pub image: Option<String>,
    pub pull: gputest::Pull,
    /// A registry mirror for the catalog's images (tag resolution and pulls).
    pub registry: Option<String>,
    /// The whole job's time limit.
    pub timeout: Duration,
    pub format: Format,
    /// GITHUB_STEP_SUMMARY: where the `github` format appends its Markdown table.
    pub step_summary: Option<PathBuf>,
    /// Also write the JUnit report here, whatever the format.
    pub junit_file: Option<PathBuf>,
    /// The config file that was read, for the report.
    pub config_file: Option<PathBuf>,
    pub human: crate::report::human::Options,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Check,
    Requirement,
    Api,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Check => "doctor",
            Kind::Requirement => "requirements",
            Kind::Api => "api",
        }
    }
}

/// One verdict of the job.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub kind: Kind,
    /// A check id, `preflight.require-runtime`, or `api.cuda`.
    pub id: String,
    pub title: String,
    pub status: Status,
    pub summary: String,
    pub details: Vec<String>,
    pub fix: Option<String>,
    pub commands: Vec<String>,
    pub docs: Option<String>,
    /// A warning or error the allow-list excuses.
    pub allowed: bool,
    pub seconds: f64,
}

impl Item {
    pub fn fires(&self) -> bool {
        matches!(self.status, Status::Warn | Status::Error)
    }
    /// Fails the job: fired and not allowed.
    pub fn fails(&self) -> bool {
        self.fires() && !self.allowed
    }
}

pub struct Outcome {
    pub doctor: doctor::Outcome,
    pub requirements: Vec<Finding>,
    pub api: Vec<ApiResult>,
    pub items: Vec<Item>,
    pub allow: Vec<String>,
    pub config_file: Option<PathBuf>,
    pub doctor_seconds: f64,
    pub seconds: f64,
}

impl Outcome {
    pub fn failures(&self) -> Vec<&Item> {
        self.items.iter().filter(|i| i.fails()).collect()
    }
    pub fn allowed(&self) -> Vec<&Item> {
        self.items
            .iter()
            .filter(|i| i.fires() && i.allowed)
            .collect()
    }
    /// 0 when nothing fails, 1 otherwise (2 is for nvctk's own failures, before an Outcome).
    pub fn exit_code(&self) -> i32 {
        if self.failures().is_empty() { 0 } else { 1 }
    }
}

/// Every id `--allow` may name.
pub fn allowable_ids() -> Vec<String> {
    let mut ids: Vec<String> = checks::catalog::CATALOG
        .iter()
        .map(|c| c.id.to_string())
        .collect();
    ids.push(REQUIRE_RUNTIME_ID.into());
    ids.extend(Api::ALL.iter().map(|a| format!("api.{}", a.as_str())));
    ids
}

/// docs/preflight.md, for `nvctk explain` of preflight's own ids.
pub const DOC: &str = include_str!("../../docs/preflight.md");

/// Every id `--allow` and `nvctk explain` accept, as static text (for shell completion).
pub fn completion_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = checks::catalog::CATALOG.iter().map(|c| c.id).collect();
    ids.push(REQUIRE_RUNTIME_ID);
    ids.extend([
        "api.cuda",
        "api.opengl",
        "api.vulkan",
        "api.opencl",
        "api.video",
    ]);
    ids
}

/// The `### ID` section of docs/preflight.md for preflight's own ids (`preflight.require-runtime`,
/// `api.NAME`), heading included; None for any other id.
pub fn doc_section(id: &str) -> Option<String> {
    if id != REQUIRE_RUNTIME_ID && !id.starts_with("api.") {
        return None;
    }
    let head = format!("### {id}");
    let mut out = String::new();
    let mut inside = false;
    for line in DOC.lines() {
        if inside && (line.starts_with("## ") || line.starts_with("### ")) {
            break;
        }
        if line.trim_end() == head {
            inside = true;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    if out.is_empty() {
        return None;
    }
    Some(format!("{}\n", out.trim_end()))
}

/// Rejects allow-list entries that name nothing: a typo must not silently excuse nothing.
pub fn validate_allow(allow: &[String]) -> Result<(), String> {
    let known = allowable_ids();
    for a in allow {
        if !known.iter().any(|k| k == a) {
            // Ids that contain the whole entry first; otherwise ids sharing a part of it.
            let mut near: Vec<&str> = known
                .iter()
                .map(String::as_str)
                .filter(|k| k.contains(a.as_str()))
                .collect();
            if near.is_empty() {
                near = known
                    .iter()
                    .map(String::as_str)
                    .filter(|k| a.split(['.', '-']).any(|p| p.len() > 3 && k.contains(p)))
                    .take(5)
                    .collect();
            }
            let hint = if near.is_empty() {
                "`nvctk explain --list` shows every check id; API tests are api.cuda, api.vulkan, …"
                    .to_string()
            } else {
                format!("did you mean {}?", near.join(", "))
            };
            return Err(format!(
                "`--allow {a}` names no check, requirement or API test\nhint: {hint}"
            ));
        }
    }
    Ok(())
}

static PHASE: Mutex<&'static str> = Mutex::new("starting");

fn phase(p: &'static str) {
    if let Ok(mut g) = PHASE.lock() {
        *g = p;
    }
}

const API_PHASE: &str = "running the API test containers";

/// Runs the job on a worker thread and gives up after `settings.timeout`, or on Ctrl-C /
/// SIGTERM, naming what it was still doing. The worker is abandoned (the process exits
/// right after); test containers are stopped and removed first.
pub fn run_bounded(settings: &Settings) -> Result<Outcome, String> {
    use std::sync::mpsc::RecvTimeoutError;
    crate::gputest::run::install_interrupt_handler();
    let (tx, rx) = std::sync::mpsc::channel();
    let s = settings.clone();
    std::thread::Builder::new()
        .name("preflight".into())
        .spawn(move || {
            let _ = tx.send(run(&s));
        })
        .map_err(|e| format!("cannot start the preflight worker: {e}"))?;
    let deadline = Instant::now() + settings.timeout;
    let interrupted = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break false;
        }
        match rx.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok(r) => return r,
            Err(RecvTimeoutError::Disconnected) => {
                return Err("the preflight worker stopped without a result".into());
            }
            Err(RecvTimeoutError::Timeout) => {
                if crate::gputest::run::interrupted() {
                    break true;
                }
            }
        }
    };
    let doing = PHASE.lock().map(|g| *g).unwrap_or("running");
    let in_tests = doing == API_PHASE;
    if in_tests {
        // Test containers must not outlive the job: stop them as Ctrl-C would and
        // give the runner a moment to remove them.
        crate::gputest::run::stop();
        let _ = rx.recv_timeout(Duration::from_secs(10));
    }
    if interrupted {
        return Err(format!(
            "preflight was interrupted (Ctrl-C or SIGTERM) while it was still {doing}{}",
            if in_tests {
                "; the test containers were removed"
            } else {
                ""
            }
        ));
    }
    let hint = if in_tests {
        "raise --timeout, or run `nvctk test --api …` to see which test is slow (the test containers were removed)"
    } else {
        "raise --timeout, or run `nvctk doctor -v` to see what hangs"
    };
    Err(format!(
        "preflight did not finish within {} s (--timeout); it was still {doing}\nhint: {hint}",
        settings.timeout.as_secs_f64()
    ))
}

/// Runs doctor, the requirements and the API tests, then judges them against the allow-list.
pub fn run(s: &Settings) -> Result<Outcome, String> {
    let start = Instant::now();
    validate_allow(&s.allow)?;
    phase("inspecting the host (doctor)");
    let doc = doctor::run(&s.doctor)?;
    let doctor_seconds = start.elapsed().as_secs_f64();
    let requirements = if s.require_runtimes.is_empty() {
        Vec::new()
    } else {
        vec![require_runtime(&doc.facts, &s.require_runtimes)]
    };
    let api = if s.apis.is_empty() {
        Vec::new()
    } else if s.doctor.snapshot.is_some() {
        s.apis
            .iter()
            .map(|&api| ApiResult {
                api,
                image: String::new(),
                mode: None,
                verdict: Verdict::Skip,
                device: None,
                seconds: 0.0,
                cause: Some("a snapshot has no engine to run containers on".into()),
                check_id: None,
                fix: None,
            })
            .collect()
    } else {
        phase(API_PHASE);
        let left = s.timeout.saturating_sub(start.elapsed());
        let ts = gputest::Settings {
            apis: s.apis.clone(),
            mode: s.mode,
            image: s.image.clone(),
            pull: s.pull,
            registry: s.registry.clone(),
            timeout: left.max(Duration::from_secs(1)),
            deadline: s.doctor.deadline,
            progress: false,
        };
        gputest::run::run_with_facts(&ts, &doc.facts)
            .map_err(|e| format!("the API tests could not run: {e}"))?
            .results
    };
    phase("writing the report");
    let mut items: Vec<Item> = doc
        .findings
        .iter()
        .chain(requirements.iter())
        .map(|f| {
            item_of_finding(
                f,
                if f.id == REQUIRE_RUNTIME_ID {
                    Kind::Requirement
                } else {
                    Kind::Check
                },
            )
        })
        .chain(api.iter().map(item_of_api))
        .collect();
    for i in &mut items {
        i.allowed = i.fires() && s.allow.contains(&i.id);
    }
    Ok(Outcome {
        doctor: doc,
        requirements,
        api,
        items,
        allow: s.allow.clone(),
        config_file: s.config_file.clone(),
        doctor_seconds,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn item_of_finding(f: &Finding, kind: Kind) -> Item {
    let title = checks::catalog::get(f.id)
        .map(|c| c.title.to_string())
        .unwrap_or_else(|| "Engine has the runtimes the pipeline requires".into());
    Item {
        kind,
        id: f.id.to_string(),
        title,
        status: f.status,
        summary: f.summary.clone(),
        details: f.details.clone(),
        fix: f.remediation.as_ref().map(|r| r.text.clone()),
        commands: f
            .remediation
            .as_ref()
            .map(|r| r.commands.clone())
            .unwrap_or_default(),
        docs: f.remediation.as_ref().map(|r| r.docs.clone()),
        allowed: false,
        seconds: 0.0,
    }
}

fn item_of_api(r: &ApiResult) -> Item {
    let name = r.api.as_str();
    let status = match r.verdict {
        Verdict::Pass => Status::Ok,
        Verdict::Fail => Status::Error,
        Verdict::Skip => Status::Skip,
    };
    let summary = match (r.verdict, &r.device, &r.cause) {
        (Verdict::Pass, Some(d), _) => format!("{name} container ran on {d}"),
        (Verdict::Pass, None, _) => format!("{name} container ran on the GPU"),
        (_, _, Some(c)) => format!("{name}: {c}"),
        (Verdict::Fail, _, None) => format!("{name} container did not reach the GPU"),
        (Verdict::Skip, _, None) => format!("{name} test skipped"),
    };
    let mut details = Vec::new();
    if !r.image.is_empty() {
        details.push(format!("image: {}", r.image));
    }
    if let Some(m) = r.mode {
        details.push(format!(
            "GPU request: {}",
            serde_json::to_value(m)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ));
    }
    if let Some(id) = &r.check_id {
        details.push(format!("explained by: {id} (nvctk explain {id})"));
    }
    Item {
        kind: Kind::Api,
        id: format!("api.{name}"),
        title: format!("{} in a container", api_title(r.api)),
        status,
        summary,
        details,
        fix: r.fix.clone(),
        commands: Vec::new(),
        docs: None,
        allowed: false,
        seconds: r.seconds,
    }
}

fn api_title(a: Api) -> &'static str {
    match a {
        Api::Cuda => "CUDA",
        Api::Opengl => "OpenGL",
        Api::Vulkan => "Vulkan",
        Api::Opencl => "OpenCL",
        Api::Video => "NVENC/NVDEC video",
    }
}

/// `--require-runtime NAME`: the engine reports a runtime by that name, and its binary exists.
pub fn require_runtime(f: &crate::facts::Facts, names: &[String]) -> Finding {
    let mk = |status: Status, summary: String| Finding {
        id: REQUIRE_RUNTIME_ID,
        area: "preflight",
        status,
        summary,
        details: Vec::new(),
        remediation: None,
    };
    let list = names.join(", ");
    if f.engine().is_none() {
        let why = f
            .docker
            .engine
            .as_ref()
            .and_then(|e| e.err_message())
            .unwrap_or("no engine found");
        let mut x = mk(
            Status::Error,
            format!("cannot confirm runtime {list}: the engine did not answer"),
        );
        x.details.push(why.to_string());
        x.details
            .push("see docker.unreachable / docker.not-installed above".into());
        return x;
    }
    let have = f.engine_runtimes();
    let missing: Vec<&String> = names.iter().filter(|n| !have.contains(n)).collect();
    let broken: Vec<String> = names
        .iter()
        .filter(|n| have.contains(n))
        .filter(|n| {
            f.docker
                .runtime_binaries
                .iter()
                .any(|b| &b.name == *n && b.found.is_none())
        })
        .cloned()
        .collect();
    if missing.is_empty() && broken.is_empty() {
        let mut x = mk(
            Status::Ok,
            if names.len() == 1 {
                format!("the engine has runtime {list}; its binary exists")
            } else {
                format!("the engine has runtimes {list}; their binaries exist")
            },
        );
        x.details
            .push(format!("engine runtimes: {}", have.join(", ")));
        return x;
    }
    let mut x = if !missing.is_empty() {
        let m: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        mk(
            Status::Error,
            if m.len() == 1 {
                format!(
                    "the pipeline requires runtime {} but the engine does not have it",
                    m[0]
                )
            } else {
                format!(
                    "the pipeline requires runtimes {} but the engine does not have them",
                    m.join(", ")
                )
            },
        )
    } else if broken.len() == 1 {
        mk(
            Status::Error,
            format!(
                "runtime {} is registered but its binary does not exist",
                broken[0]
            ),
        )
    } else {
        mk(
            Status::Error,
            format!(
                "runtimes {} are registered but their binaries do not exist",
                broken.join(", ")
            ),
        )
    };
    x.details.push(format!(
        "engine runtimes: {}",
        if have.is_empty() {
            "none reported".to_string()
        } else {
            have.join(", ")
        }
    ));
    x.remediation = Some(runtime_fix(&missing, &broken));
    x
}

/// The fix for required runtimes the engine lacks (`missing`) or cannot run (`broken`):
/// nvctk registers `nvidia` itself; any other runtime is the user's to register.
fn runtime_fix(missing: &[&String], broken: &[String]) -> checks::Remediation {
    let is_nvidia = |n: &str| n == crate::setup::daemon_json::DEFAULT_RUNTIME_NAME;
    let nvidia = missing.iter().any(|n| is_nvidia(n)) || broken.iter().any(|n| is_nvidia(n));
    let others_missing: Vec<&str> = missing
        .iter()
        .map(|n| n.as_str())
        .filter(|n| !is_nvidia(n))
        .collect();
    let others_broken: Vec<&str> = broken
        .iter()
        .map(String::as_str)
        .filter(|n| !is_nvidia(n))
        .collect();
    let mut text: Vec<String> = Vec::new();
    let mut commands: Vec<String> = Vec::new();
    if nvidia {
        text.push("Register the NVIDIA runtime with the engine (nvctk edits daemon.json safely and reloads it).".into());
        commands.push("sudo nvctk setup docker".into());
    }
    for n in &others_missing {
        text.push(format!(
            "Register {n} in daemon.json `runtimes` (\"runtimes\": {{\"{n}\": {{\"path\": \"/path/to/its/binary\"}}}}), then restart or reload the engine."
        ));
    }
    for n in &others_broken {
        text.push(format!(
            "Install the binary of runtime {n}, or correct its `path` in daemon.json `runtimes`, then restart or reload the engine."
        ));
    }
    if !others_missing.is_empty() || !others_broken.is_empty() {
        commands.push("sudo systemctl reload docker".into());
    }
    checks::Remediation {
        text: text.join(" "),
        commands,
        docs: "docs/preflight.md#preflightrequire-runtime".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_allow_ids_are_rejected_with_a_suggestion() {
        assert!(validate_allow(&["os.unsupported-distro".into(), "api.vulkan".into()]).is_ok());
        let e = validate_allow(&["docker.runtime".into()]).unwrap_err();
        assert!(e.contains("`--allow docker.runtime` names no check"), "{e}");
        assert!(e.contains("docker.runtime-missing"), "{e}");
    }

    #[test]
    fn every_preflight_id_has_its_own_doc_section() {
        for id in allowable_ids()
            .iter()
            .filter(|i| *i == REQUIRE_RUNTIME_ID || i.starts_with("api."))
        {
            let d = doc_section(id).unwrap_or_else(|| panic!("no section for {id}"));
            assert!(d.starts_with(&format!("### {id}\n")), "{d}");
            assert!(
                !d.contains("\n## ") && d.matches("### ").count() == 1,
                "{d}"
            );
        }
        assert!(completion_ids().len() == allowable_ids().len());
    }

    #[test]
    fn a_missing_runtime_other_than_nvidia_gets_its_own_fix() {
        let missing = ["kata".to_string()];
        let r = runtime_fix(&missing.iter().collect::<Vec<_>>(), &[]);
        assert_eq!(
            r.text,
            "Register kata in daemon.json `runtimes` (\"runtimes\": {\"kata\": {\"path\": \"/path/to/its/binary\"}}), then restart or reload the engine."
        );
        assert_eq!(r.commands, vec!["sudo systemctl reload docker"]);
        let both = ["nvidia".to_string(), "kata".to_string()];
        let r = runtime_fix(&both.iter().collect::<Vec<_>>(), &[]);
        assert!(
            r.text.starts_with("Register the NVIDIA runtime"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("Register kata in daemon.json"),
            "{}",
            r.text
        );
        assert_eq!(
            r.commands,
            vec!["sudo nvctk setup docker", "sudo systemctl reload docker"]
        );
    }

    #[test]
    fn require_runtime_without_an_engine_is_an_error() {
        let f = require_runtime(&crate::facts::Facts::default(), &["nvidia".into()]);
        assert_eq!(f.status, Status::Error);
        assert!(f.summary.contains("cannot confirm runtime nvidia"));
    }
}

/// What the command line said, before `.nvctk.toml` fills the gaps.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub snapshot: Option<PathBuf>,
    pub root: PathBuf,
    pub probe_deadline: Duration,
    pub nvml_lib: Option<PathBuf>,
    pub cuda: Option<String>,
    pub api: Option<String>,
    pub require_runtimes: Vec<String>,
    pub allow: Vec<String>,
    pub mode: Option<gputest::Mode>,
    pub image: Option<String>,
    pub pull: Option<gputest::Pull>,
    pub registry: Option<String>,
    pub timeout: Option<f64>,
    pub format: Format,
    pub config: Option<PathBuf>,
    pub no_config: bool,
    pub step_summary: Option<PathBuf>,
    pub junit_file: Option<PathBuf>,
    pub human: crate::report::human::Options,
}

pub const DEFAULT_TIMEOUT_SECS: f64 = 120.0;

impl Settings {
    /// Flags win over the config file; allow-lists are joined.
    pub fn resolve(flags: Flags, cwd: &std::path::Path) -> Result<Settings, String> {
        let loaded = if flags.no_config {
            None
        } else {
            config::load(flags.config.as_deref(), cwd)?
        };
        let (config_file, file) = match loaded {
            Some((p, f)) => (Some(p), f.preflight),
            None => (None, config::Preflight::default()),
        };
        let from = |what: &str| match &config_file {
            Some(p) => format!("`{what}` in {}", p.display()),
            None => format!("--{what}"),
        };
        let api_src = if flags.api.is_some() {
            "--api".to_string()
        } else {
            from("api")
        };
        let apis = match flags.api.or_else(|| file.api.as_ref().map(|a| a.joined())) {
            Some(list) => Api::parse_list(&list).map_err(|e| format!("{api_src}: {e}"))?,
            None => Vec::new(),
        };
        let mut require_runtimes = flags.require_runtimes;
        if require_runtimes.is_empty() {
            if let Some(r) = &file.require_runtime {
                require_runtimes = r
                    .joined()
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
            }
        }
        let mut allow = file.allow.clone();
        for a in flags.allow {
            if !allow.contains(&a) {
                allow.push(a);
            }
        }
        let timeout_secs = flags
            .timeout
            .or(file.timeout)
            .unwrap_or(DEFAULT_TIMEOUT_SECS);
        if !(timeout_secs.is_finite() && timeout_secs > 0.0 && timeout_secs <= 86_400.0) {
            return Err(match (&config_file, flags.timeout.is_some()) {
                (Some(p), false) => format!(
                    "`timeout = {timeout_secs}` in {}: must be more than 0 and at most 86400 seconds",
                    p.display()
                ),
                _ => format!(
                    "--timeout {timeout_secs} must be more than 0 and at most 86400 seconds"
                ),
            });
        }
        let in_file = |key: &str, value: &str| match &config_file {
            Some(p) => format!("`{key} = \"{value}\"` in {}", p.display()),
            None => format!("`{key} = \"{value}\"`"),
        };
        let mode = match (flags.mode, &file.mode) {
            (Some(m), _) => Some(m),
            (None, Some(m)) => {
                Some(gputest::Mode::parse(m).map_err(|e| format!("{}: {e}", in_file("mode", m)))?)
            }
            (None, None) => None,
        };
        let pull = match (flags.pull, &file.pull) {
            (Some(p), _) => p,
            (None, Some(p)) => {
                gputest::Pull::parse(p).map_err(|e| format!("{}: {e}", in_file("pull", p)))?
            }
            (None, None) => gputest::Pull::Missing,
        };
        let nonempty =
            |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let image = nonempty(flags.image).or_else(|| nonempty(file.image.clone()));
        let registry = nonempty(flags.registry).or_else(|| nonempty(file.registry.clone()));
        Ok(Settings {
            doctor: doctor::Settings {
                snapshot: flags.snapshot,
                root: flags.root,
                deadline: flags.probe_deadline,
                nvml_lib: flags.nvml_lib,
                cuda: flags.cuda.or(file.cuda),
                image: None,
                format: doctor::Format::Json,
                strict: true,
                human: flags.human,
            },
            apis,
            require_runtimes,
            allow,
            mode,
            image,
            pull,
            registry,
            timeout: Duration::from_secs_f64(timeout_secs),
            format: flags.format,
            step_summary: flags.step_summary,
            junit_file: flags.junit_file,
            config_file,
            human: flags.human,
        })
    }
}

/// The report in the chosen format, for stdout.
pub fn render(s: &Settings, o: &Outcome) -> String {
    use crate::report;
    match s.format {
        Format::Human => report::preflight::render_human(o, s.human),
        Format::Json => report::preflight::render_json(o),
        Format::Junit => report::junit::render(o),
        Format::Github => report::github::render(o),
    }
}

/// The report of a job that could not finish (`--timeout`, Ctrl-C, nvctk's own failure):
/// JUnit and GitHub carry one error with `reason`, so the CI system shows why. Human and
/// JSON print nothing (the reason goes to stderr as `error:`).
pub fn render_error(s: &Settings, reason: &str, seconds: f64) -> String {
    use crate::report;
    match s.format {
        Format::Human | Format::Json => String::new(),
        Format::Junit => report::junit::render_error(reason, seconds),
        Format::Github => report::github::render_error(reason),
    }
}

/// Side files of a job that could not finish: the `--junit-file` with one error, and the
/// GitHub job summary. Errors name the file that could not be written.
pub fn write_error_side_files(s: &Settings, reason: &str, seconds: f64) -> Result<(), String> {
    if let Some(p) = &s.junit_file {
        std::fs::write(p, crate::report::junit::render_error(reason, seconds))
            .map_err(|e| format!("cannot write the JUnit report {}: {e}", p.display()))?;
    }
    if let (Format::Github, Some(p)) = (s.format, &s.step_summary) {
        append_summary(p, &crate::report::github::summary_error(reason))?;
    }
    Ok(())
}

fn append_summary(p: &std::path::Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            format!(
                "cannot append the job summary to {} (GITHUB_STEP_SUMMARY): {e}\nhint: make the file writable, or unset GITHUB_STEP_SUMMARY to skip the summary",
                p.display()
            )
        })
}

/// Side files: `--junit-file`, and the GitHub job summary. A file that cannot be written is
/// nvctk's failure (exit 2), named in the error.
pub fn write_side_files(s: &Settings, o: &Outcome) -> Result<(), String> {
    if let Some(p) = &s.junit_file {
        std::fs::write(p, crate::report::junit::render(o))
            .map_err(|e| format!("cannot write the JUnit report {}: {e}", p.display()))?;
    }
    if let (Format::Github, Some(p)) = (s.format, &s.step_summary) {
        append_summary(p, &crate::report::github::summary(o))?;
    }
    Ok(())
}
