//! `preflight --format github`: GitHub Actions workflow commands (`::error`, `::warning`,
//! `::notice`) on stdout, one per fired item, and a Markdown job summary appended to the file
//! named by GITHUB_STEP_SUMMARY.
//!
//! Escaping follows GitHub's workflow-command rules: in the message `%`, `\r` and `\n`
//! become `%25`, `%0D`, `%0A`; in a property value `:` and `,` also become `%3A`, `%2C`.

use super::host_summary;
use crate::checks::Status;
use crate::preflight::{Item, Outcome};
use std::fmt::Write;

pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn message(i: &Item) -> String {
    let mut m = i.summary.clone();
    for d in &i.details {
        let _ = write!(m, "\n  {d}");
    }
    if let Some(fix) = &i.fix {
        let _ = write!(m, "\nfix: {fix}");
    }
    for c in &i.commands {
        let _ = write!(m, "\n  $ {c}");
    }
    m
}

/// The annotations, then a one-line verdict.
pub fn render(o: &Outcome) -> String {
    let mut s = String::new();
    for i in o.items.iter().filter(|i| i.fires()) {
        let (cmd, title) = if i.allowed {
            ("notice", format!("nvctk preflight: {} (allowed)", i.id))
        } else if i.status == Status::Error {
            ("error", format!("nvctk preflight: {}", i.id))
        } else {
            ("warning", format!("nvctk preflight: {}", i.id))
        };
        let _ = writeln!(
            s,
            "::{cmd} title={}::{}",
            escape_property(&title),
            escape_data(&message(i))
        );
    }
    s.push_str(&crate::report::preflight::verdict_line(o, false));
    s
}

/// The report of a job that could not finish: one `::error` with the reason.
pub fn render_error(reason: &str) -> String {
    format!(
        "::error title=nvctk preflight::{}\n",
        escape_data(reason.trim_end())
    )
}

/// The job summary of a job that could not finish.
pub fn summary_error(reason: &str) -> String {
    format!(
        "## ❌ nvctk preflight could not finish\n\n{}\n\n",
        md(reason.trim_end())
    )
}

fn md(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('\r', "")
        .replace('\n', "<br>")
}

fn icon(i: &Item) -> &'static str {
    if i.allowed {
        return "☑️ allowed";
    }
    match i.status {
        Status::Ok => "✅ ok",
        Status::Info => "ℹ️ info",
        Status::Warn => "⚠️ warn",
        Status::Error => "❌ error",
        Status::Skip => "⏭️ skip",
    }
}

/// The job summary: a headline, the host, a table of what fired, and every result folded.
pub fn summary(o: &Outcome) -> String {
    let mut s = String::new();
    let failures = o.failures();
    if failures.is_empty() {
        let _ = writeln!(s, "## ✅ nvctk preflight passed\n");
    } else {
        let _ = writeln!(
            s,
            "## ❌ nvctk preflight failed: {} problem{}\n",
            failures.len(),
            if failures.len() == 1 { "" } else { "s" }
        );
    }
    let h = host_summary(&o.doctor.facts);
    let mut parts: Vec<String> = Vec::new();
    parts.extend(h.distro.clone());
    parts.extend(h.kernel.as_ref().map(|k| format!("kernel {k}")));
    parts.extend(h.engine.clone());
    parts.extend(h.driver.as_ref().map(|d| format!("driver {d}")));
    parts.extend(h.gpus.iter().cloned());
    if !parts.is_empty() {
        let _ = writeln!(s, "{}\n", md(&parts.join(" · ")));
    }
    let fired: Vec<&Item> = o.items.iter().filter(|i| i.fires()).collect();
    if !fired.is_empty() {
        s.push_str("| Result | Check | What | Fix |\n|---|---|---|---|\n");
        for i in fired {
            let mut fix = i.fix.clone().unwrap_or_default();
            for c in &i.commands {
                fix.push_str(&format!("\n`{c}`"));
            }
            let _ = writeln!(
                s,
                "| {} | `{}` | {} | {} |",
                icon(i),
                i.id,
                md(&i.summary),
                md(&fix)
            );
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "<details><summary>All {} results</summary>\n\n| Result | Check | What |\n|---|---|---|",
        o.items.len()
    );
    for i in &o.items {
        let _ = writeln!(s, "| {} | `{}` | {} |", icon(i), i.id, md(&i.summary));
    }
    s.push_str("\n</details>\n\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_per_workflow_command_rules() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a: b, c%"), "a%3A b%2C c%25");
    }
}
