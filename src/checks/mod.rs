//! Checks: pure functions of Facts and the requirement tables. They judge; they never read
//! the machine. Every id in the catalog yields exactly one Finding per run.

pub mod catalog;
mod docker;
mod gpu;
mod system;
mod toolkit;

use crate::facts::Facts;
use crate::requirements::Requirements;
use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Skip,
    Info,
    Warn,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skip => "skip",
            Status::Info => "info",
            Status::Warn => "warn",
            Status::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Remediation {
    pub text: String,
    pub commands: Vec<String>,
    pub docs: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub id: &'static str,
    pub area: &'static str,
    pub status: Status,
    pub summary: String,
    pub details: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Remediation>,
}

impl Finding {
    fn new(id: &'static str, status: Status, summary: impl Into<String>) -> Self {
        let area = catalog::get(id).map(|c| c.area).unwrap_or("other");
        Finding {
            id,
            area,
            status,
            summary: summary.into(),
            details: Vec::new(),
            remediation: None,
        }
    }
    pub fn ok(id: &'static str, summary: impl Into<String>) -> Self {
        Self::new(id, Status::Ok, summary)
    }
    pub fn info(id: &'static str, summary: impl Into<String>) -> Self {
        Self::new(id, Status::Info, summary)
    }
    /// Not applicable, or the facts to judge are missing; the reason is the summary.
    pub fn skip(id: &'static str, reason: impl Into<String>) -> Self {
        Self::new(id, Status::Skip, reason)
    }
    /// The check fires at its catalog severity.
    pub fn fire(id: &'static str, summary: impl Into<String>) -> Self {
        let status = catalog::get(id)
            .map(|c| c.severity)
            .unwrap_or(Status::Error);
        Self::new(id, status, summary)
    }
    pub fn with_status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }
    pub fn detail(mut self, line: impl Into<String>) -> Self {
        self.details.push(line.into());
        self
    }
    pub fn fix<S: Into<String>>(
        mut self,
        text: impl Into<String>,
        commands: impl IntoIterator<Item = S>,
    ) -> Self {
        self.remediation = Some(Remediation {
            text: text.into(),
            commands: commands.into_iter().map(Into::into).collect(),
            docs: format!("docs/checks/{}.md", self.id),
        });
        self
    }
    pub fn fires(&self) -> bool {
        matches!(self.status, Status::Warn | Status::Error)
    }
}

/// Runs every check, in catalog order.
pub fn run_all(f: &Facts, req: &Requirements) -> Vec<Finding> {
    let mut out = Vec::new();
    system::run(f, req, &mut out);
    gpu::run(f, req, &mut out);
    docker::run(f, req, &mut out);
    toolkit::run(f, req, &mut out);
    let order = |id: &str| {
        catalog::CATALOG
            .iter()
            .position(|c| c.id == id)
            .unwrap_or(usize::MAX)
    };
    out.sort_by_key(|x| order(x.id));
    out
}

/// Worst status of a run.
pub fn overall(findings: &[Finding]) -> Status {
    findings
        .iter()
        .map(|f| f.status)
        .filter(|s| *s != Status::Skip)
        .max()
        .unwrap_or(Status::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_id_yields_exactly_one_finding_on_an_empty_host() {
        let findings = run_all(&Facts::default(), Requirements::get());
        for c in catalog::CATALOG {
            let n = findings.iter().filter(|f| f.id == c.id).count();
            assert_eq!(n, 1, "{} produced {n} findings", c.id);
        }
        assert_eq!(findings.len(), catalog::CATALOG.len());
    }
}
