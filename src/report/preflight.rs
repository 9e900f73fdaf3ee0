//! `nvctk preflight` in human and JSON form (JUnit and GitHub live in their own files).

use super::human::{self, mark};
use crate::checks::Status;
use crate::preflight::{Item, Kind, Outcome};
use colored::Colorize;
use serde::Serialize;
use std::fmt::Write;

/// The last line: passed or failed, and why.
pub fn verdict_line(o: &Outcome, colour: bool) -> String {
    let failures = o.failures();
    let allowed = o.allowed();
    let ids = |v: &[&Item]| {
        v.iter()
            .map(|i| format!("{} ({})", i.id, i.status.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut s = String::new();
    if failures.is_empty() {
        let head = "preflight passed";
        let _ = write!(
            s,
            "{}",
            if colour {
                head.green().bold().to_string()
            } else {
                head.to_string()
            }
        );
        if !allowed.is_empty() {
            let _ = write!(s, " · allowed: {}", ids(&allowed));
        }
    } else {
        let head = format!(
            "preflight failed: {} problem{}",
            failures.len(),
            if failures.len() == 1 { "" } else { "s" }
        );
        let _ = write!(
            s,
            "{}: {}",
            if colour {
                head.red().bold().to_string()
            } else {
                head
            },
            ids(&failures)
        );
        if !allowed.is_empty() {
            let _ = write!(s, " · allowed: {}", ids(&allowed));
        }
    }
    let _ = writeln!(s, " · {:.1} s", o.seconds);
    s
}

pub fn render_human(o: &Outcome, opts: human::Options) -> String {
    let allowed: Vec<String> = o.allowed().iter().map(|i| i.id.clone()).collect();
    let mut s = human::render_checks(&o.doctor.facts, &o.doctor.findings, opts, &allowed);
    for (kind, title) in [
        (Kind::Requirement, "Requirements"),
        (Kind::Api, "API tests"),
    ] {
        let items: Vec<&Item> = o
            .items
            .iter()
            .filter(|i| i.kind == kind)
            .filter(|i| !opts.quiet || i.fails())
            .collect();
        if items.is_empty() {
            continue;
        }
        if !(opts.quiet && s.is_empty()) {
            s.push('\n');
        }
        let _ = writeln!(s, "{}", title.bold());
        for i in items {
            if i.allowed {
                let _ = writeln!(
                    s,
                    "  {} {} ({}, allowed {})",
                    human::allowed_mark(),
                    i.summary,
                    i.id,
                    i.status.as_str()
                );
            } else {
                let _ = writeln!(s, "  {} {} ({})", mark(i.status), i.summary, i.id);
            }
            let problem = i.fails();
            if problem || opts.verbose {
                for d in &i.details {
                    let _ = writeln!(s, "      {d}");
                }
            }
            if problem {
                if let Some(f) = &i.fix {
                    let _ = writeln!(s, "      {} {f}", "fix:".bold());
                }
                for c in &i.commands {
                    let _ = writeln!(s, "        {}", format!("$ {c}").cyan());
                }
            }
        }
    }
    s.push_str(&counts_line(o, opts));
    s.push_str(&verdict_line(o, true));
    if !o.failures().is_empty() {
        let warn_only = o.failures().iter().all(|i| i.status == Status::Warn);
        let _ = writeln!(
            s,
            "{} {}",
            "hint:".bold(),
            if warn_only {
                "a warning you accept can be allowed with --allow ID or in .nvctk.toml ([preflight] allow = [\"ID\"])"
            } else {
                "`nvctk explain ID` gives the full explanation and fix for each check"
            }
        );
    }
    s
}

/// Counts over everything the job judged (checks, requirements, API tests); allowed
/// findings are counted as allowed, not as errors or warnings.
fn counts_line(o: &Outcome, opts: human::Options) -> String {
    let n = |f: &dyn Fn(&Item) -> bool| o.items.iter().filter(|i| f(i)).count();
    let errors = n(&|i| i.fails() && i.status == Status::Error);
    let warnings = n(&|i| i.fails() && i.status == Status::Warn);
    let allowed = n(&|i| i.fires() && i.allowed);
    let skipped = n(&|i| i.status == Status::Skip);
    let mut head: Vec<String> = Vec::new();
    if errors > 0 {
        head.push(
            human::plural(errors, "error", "errors")
                .red()
                .bold()
                .to_string(),
        );
    }
    if warnings > 0 {
        head.push(
            human::plural(warnings, "warning", "warnings")
                .yellow()
                .bold()
                .to_string(),
        );
    }
    if allowed > 0 {
        head.push(format!("{allowed} allowed").cyan().to_string());
    }
    let tail = format!(
        "{} ok, {}, {}{}",
        n(&|i| i.status == Status::Ok),
        human::plural(n(&|i| i.status == Status::Info), "note", "notes"),
        human::plural(skipped, "skipped", "skipped"),
        if opts.verbose || skipped == 0 {
            ""
        } else {
            " (-v shows why)"
        }
    );
    let mut s = String::from("\n");
    if head.is_empty() {
        let _ = writeln!(s, "{}", tail.dimmed());
    } else {
        let _ = writeln!(s, "{} · {}", head.join(", "), tail.dimmed());
    }
    if errors > 0 {
        let _ = writeln!(
            s,
            "{}",
            "GPU containers will not work on this host until the errors above are fixed.".dimmed()
        );
    }
    s
}

#[derive(Serialize)]
struct Report<'a> {
    schema: u32,
    kind: &'static str,
    nvctk_version: &'static str,
    status: &'static str,
    exit_code: i32,
    seconds: f64,
    config_file: Option<String>,
    allow: &'a [String],
    failures: Vec<&'a str>,
    allowed: Vec<&'a str>,
    doctor: super::json::Report<'a>,
    requirements: &'a [crate::checks::Finding],
    api: &'a [crate::gputest::ApiResult],
}

/// One object on stdout, schema in docs/schema/preflight-v1.json.
pub fn render_json(o: &Outcome) -> String {
    let r = Report {
        schema: 1,
        kind: "preflight",
        nvctk_version: env!("CARGO_PKG_VERSION"),
        status: if o.failures().is_empty() {
            "pass"
        } else {
            "fail"
        },
        exit_code: o.exit_code(),
        seconds: (o.seconds * 1000.0).round() / 1000.0,
        config_file: o.config_file.as_ref().map(|p| p.display().to_string()),
        allow: &o.allow,
        failures: o.failures().iter().map(|i| i.id.as_str()).collect(),
        allowed: o.allowed().iter().map(|i| i.id.as_str()).collect(),
        doctor: super::json::report(&o.doctor.facts, &o.doctor.findings, o.doctor.source),
        requirements: &o.requirements,
        api: &o.api,
    };
    let mut s =
        serde_json::to_string_pretty(&r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
