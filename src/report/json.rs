//! `--format json`: one object on stdout, schema in docs/schema/doctor-v1.json.

use super::{Counts, HostSummary, counts, host_summary};
use crate::checks::{Finding, overall};
use crate::facts::Facts;
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct Report<'a> {
    pub schema: u32,
    pub nvctk_version: &'static str,
    /// `live` or `snapshot`.
    pub source: &'a str,
    pub host: HostSummary,
    pub status: &'static str,
    pub counts: Counts,
    pub checks: &'a [Finding],
}

/// The report as data, for embedding (preflight's JSON carries it under `doctor`).
pub fn report<'a>(facts: &Facts, findings: &'a [Finding], source: &'a str) -> Report<'a> {
    Report {
        schema: SCHEMA_VERSION,
        nvctk_version: env!("CARGO_PKG_VERSION"),
        source,
        host: host_summary(facts),
        status: overall(findings).as_str(),
        counts: counts(findings),
        checks: findings,
    }
}

pub fn render(facts: &Facts, findings: &[Finding], source: &str) -> String {
    let report = report(facts, findings, source);
    let mut s =
        serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
