//! `nvctk doctor`: gather facts from a live host or a snapshot, judge them, report.

use crate::checks::{self, Finding};
use crate::facts::Facts;
use crate::host::{Host, LiveOptions, snapshot};
use crate::probe::{self, Request};
use crate::report::{self, human};
use crate::requirements::Requirements;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub snapshot: Option<PathBuf>,
    pub root: PathBuf,
    pub deadline: Duration,
    pub nvml_lib: Option<PathBuf>,
    pub cuda: Option<String>,
    pub image: Option<String>,
    pub format: Format,
    pub strict: bool,
    pub human: human::Options,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            snapshot: None,
            root: PathBuf::from("/"),
            deadline: Duration::from_secs(5),
            nvml_lib: None,
            cuda: None,
            image: None,
            format: Format::Human,
            strict: false,
            human: human::Options::default(),
        }
    }
}

pub struct Outcome {
    pub facts: Facts,
    pub findings: Vec<Finding>,
    pub source: &'static str,
}

impl Settings {
    pub fn live_options(&self) -> LiveOptions {
        LiveOptions {
            root: self.root.clone(),
            deadline: self.deadline,
            nvml_lib: self.nvml_lib.clone(),
        }
    }

    fn request(&self) -> Request {
        Request {
            cuda: self.cuda.clone(),
            image: self.image.clone(),
            deadline: self.deadline,
        }
    }
}

/// Gathers and judges; the caller prints.
pub fn run(s: &Settings) -> Result<Outcome, String> {
    if let Some(c) = &s.cuda {
        if crate::version::Version::parse(c).is_none() || c.trim() != c {
            return Err(format!(
                "`--cuda {c}` is not a CUDA version; expected something like 12.4"
            ));
        }
    }
    if let Some(i) = &s.image {
        if i.trim().is_empty() || i.contains("..") {
            return Err(format!("`--image {i}` is not an image reference"));
        }
    }
    if s.snapshot.is_none() && !s.root.is_dir() {
        return Err(format!("--root {} is not a folder", s.root.display()));
    }
    let (facts, source) = match &s.snapshot {
        Some(path) => {
            let opened = snapshot::open(path).map_err(|e| e.to_string())?;
            (probe::gather(&opened.host, &s.request()), "snapshot")
        }
        None => {
            let host = Host::live(&s.live_options());
            (probe::gather(&host, &s.request()), "live")
        }
    };
    // A question the user asked that cannot be answered is nvctk's failure, not a skip.
    if let (Some(image), Some(p)) = (&s.image, &facts.docker.image_require_cuda) {
        if let Some(msg) = p.err_message() {
            let hint = if p.err_kind() == Some("not-found") {
                format!("\nhint: the image must be present locally: docker pull {image}")
            } else {
                String::new()
            };
            return Err(format!("cannot read image {image}: {msg}{hint}"));
        }
    }
    let findings = checks::run_all(&facts, Requirements::get());
    Ok(Outcome {
        facts,
        findings,
        source,
    })
}

pub fn render(s: &Settings, o: &Outcome) -> String {
    match s.format {
        Format::Human => human::render(&o.facts, &o.findings, s.human),
        Format::Json => report::json::render(&o.facts, &o.findings, o.source),
    }
}

pub fn exit_code(s: &Settings, o: &Outcome) -> i32 {
    report::exit_code(&o.findings, s.strict)
}
