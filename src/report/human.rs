//! The human report: one line per check, grouped by area, fixes under problems.

use super::{counts, host_summary};
use crate::checks::{Finding, Status};
use crate::facts::Facts;
use colored::Colorize;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub verbose: bool,
    pub quiet: bool,
}

const GROUPS: [(&str, &[&str]); 4] = [
    ("System", &["os", "host", "wsl"]),
    ("GPU and driver", &["gpu", "driver"]),
    ("Docker", &["docker"]),
    ("Container Toolkit", &["toolkit", "cdi"]),
];

pub fn mark(status: Status) -> String {
    match status {
        Status::Ok => "[✓]".green().to_string(),
        Status::Info => "[i]".blue().to_string(),
        Status::Warn => "[!]".yellow().bold().to_string(),
        Status::Error => "[✗]".red().bold().to_string(),
        Status::Skip => "[-]".dimmed().to_string(),
    }
}

/// A warning or error the job's allow-list excuses (preflight): reported, not a failure.
pub fn allowed_mark() -> String {
    "[~]".cyan().to_string()
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn render(facts: &Facts, findings: &[Finding], opts: Options) -> String {
    let mut s = render_checks(facts, findings, opts, &[]);
    s.push_str(&closing(findings, opts));
    s
}

/// The header and the checks grouped by area, without the closing counts. Findings whose
/// id is in `allowed` (preflight's allow-list) are marked `[~]` and "allowed", and their
/// details and fix are left to `-v`.
pub fn render_checks(
    facts: &Facts,
    findings: &[Finding],
    opts: Options,
    allowed: &[String],
) -> String {
    let mut s = String::new();
    let h = host_summary(facts);
    if !opts.quiet {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(h.distro.clone());
        if let Some(k) = &h.kernel {
            parts.push(format!("kernel {k}"));
        }
        if h.wsl > 0 {
            parts.push(format!("WSL{}", h.wsl));
        }
        parts.extend(h.engine.clone());
        if let Some(d) = &h.driver {
            parts.push(format!("driver {d}"));
        }
        let _ = writeln!(
            s,
            "{} {}",
            "nvctk doctor".bold(),
            format!("· {}", parts.join(" · ")).dimmed()
        );
    }
    for (title, areas) in GROUPS {
        let shown: Vec<&Finding> = findings
            .iter()
            .filter(|f| areas.contains(&f.area))
            .filter(|f| {
                opts.verbose
                    || (f.status != Status::Skip
                        && !(opts.quiet && matches!(f.status, Status::Ok | Status::Info)))
            })
            .collect();
        if shown.is_empty() {
            continue;
        }
        if !(opts.quiet && s.is_empty()) {
            let _ = writeln!(s);
        }
        let _ = writeln!(s, "{}", title.bold());
        for f in shown {
            if f.fires() && allowed.iter().any(|a| a == f.id) {
                let _ = writeln!(
                    s,
                    "  {} {} {}",
                    allowed_mark(),
                    f.summary,
                    format!("({}, allowed {})", f.id, f.status.as_str()).dimmed()
                );
                if opts.verbose {
                    for d in &f.details {
                        let _ = writeln!(s, "      {d}");
                    }
                }
                continue;
            }
            let summary = match f.status {
                Status::Error | Status::Warn => {
                    format!("{} {}", f.summary, format!("({})", f.id).dimmed())
                }
                Status::Skip => format!("{} ({})", f.summary, f.id).dimmed().to_string(),
                _ if opts.verbose => format!("{} {}", f.summary, format!("({})", f.id).dimmed()),
                _ => f.summary.clone(),
            };
            let _ = writeln!(s, "  {} {summary}", mark(f.status));
            let problem = f.fires();
            if opts.verbose || problem {
                for d in &f.details {
                    let _ = writeln!(s, "      {d}");
                }
            }
            if problem {
                if let Some(r) = &f.remediation {
                    let _ = writeln!(s, "      {} {}", "fix:".bold(), r.text);
                    for c in &r.commands {
                        let _ = writeln!(s, "        {}", format!("$ {c}").cyan());
                    }
                    if opts.verbose {
                        let _ = writeln!(
                            s,
                            "      {}",
                            format!("more: nvctk explain {}", f.id).dimmed()
                        );
                    }
                }
            }
        }
    }
    s
}

/// Doctor's closing lines: the counts, and what they mean for this host.
fn closing(findings: &[Finding], opts: Options) -> String {
    let mut s = String::new();
    let c = counts(findings);
    let _ = writeln!(s);
    // Only the counts that say something: "0 notes" is noise.
    let mut parts = vec![format!("{} ok", c.ok)];
    if c.info > 0 {
        parts.push(plural(c.info, "note", "notes"));
    }
    if c.skip > 0 {
        let why = if opts.verbose { "" } else { " (-v shows why)" };
        parts.push(format!("{} skipped{why}", c.skip));
    }
    let tail = parts.join(", ");
    if c.error > 0 || c.warn > 0 {
        let head = match (c.error, c.warn) {
            (0, w) => plural(w, "warning", "warnings").yellow().bold().to_string(),
            (e, 0) => plural(e, "error", "errors").red().bold().to_string(),
            (e, w) => format!(
                "{}, {}",
                plural(e, "error", "errors").red().bold(),
                plural(w, "warning", "warnings").yellow().bold()
            ),
        };
        let _ = writeln!(s, "{head} · {}", tail.dimmed());
        if c.error > 0 {
            let _ = writeln!(
                s,
                "{}",
                "GPU containers will not work on this host until the errors above are fixed."
                    .dimmed()
            );
        }
    } else {
        let _ = writeln!(
            s,
            "{} {}",
            "No problems found.".green().bold(),
            tail.dimmed()
        );
        if !opts.quiet {
            let _ = writeln!(
                s,
                "This host is ready for GPU containers. Try: {}",
                "docker run --rm --gpus all ubuntu nvidia-smi".cyan()
            );
        }
    }
    s
}
