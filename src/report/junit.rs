//! `preflight --format junit`: JUnit XML, one `<testsuite>` per kind (doctor checks,
//! requirements, API tests) and one `<testcase>` per item. Written by hand: the format is
//! small, and escaping is the only subtle part.
//!
//! A fired, not-allowed item is a `<failure type="warn|error">`; a skip is `<skipped>`; an
//! allowed warning passes with a `<system-out>` line that says it was allowed.

use crate::checks::Status;
use crate::preflight::{Item, Kind, Outcome};
use std::fmt::Write;

/// Escapes text for an XML attribute or element, dropping characters XML 1.0 forbids.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Escapes element text (newlines kept readable).
fn text(s: &str) -> String {
    escape(s).replace("&#10;", "\n")
}

fn body(i: &Item) -> String {
    let mut b = String::new();
    b.push_str(&i.summary);
    for d in &i.details {
        let _ = write!(b, "\n  {d}");
    }
    if let Some(fix) = &i.fix {
        let _ = write!(b, "\nfix: {fix}");
    }
    for c in &i.commands {
        let _ = write!(b, "\n  $ {c}");
    }
    if i.kind == Kind::Check {
        let _ = write!(b, "\nmore: nvctk explain {}", i.id);
    }
    b
}

pub fn render(o: &Outcome) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let count = |items: &[&Item]| {
        (
            items.len(),
            items.iter().filter(|i| i.fails()).count(),
            items.iter().filter(|i| i.status == Status::Skip).count(),
        )
    };
    let all: Vec<&Item> = o.items.iter().collect();
    let (n, f, sk) = count(&all);
    let _ = writeln!(
        s,
        "<testsuites name=\"nvctk preflight\" tests=\"{n}\" failures=\"{f}\" errors=\"0\" skipped=\"{sk}\" time=\"{:.3}\">",
        o.seconds
    );
    let host = super::host_summary(&o.doctor.facts);
    for kind in [Kind::Check, Kind::Requirement, Kind::Api] {
        let items: Vec<&Item> = o.items.iter().filter(|i| i.kind == kind).collect();
        if items.is_empty() {
            continue;
        }
        let (n, f, sk) = count(&items);
        let time = match kind {
            Kind::Check => o.doctor_seconds,
            _ => items.iter().map(|i| i.seconds).sum(),
        };
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{f}\" errors=\"0\" skipped=\"{sk}\" time=\"{time:.3}\">",
            kind.as_str()
        );
        if kind == Kind::Check {
            s.push_str("    <properties>\n");
            let props = [
                ("source", Some(o.doctor.source.to_string())),
                ("distro", host.distro.clone()),
                ("kernel", host.kernel.clone()),
                ("engine", host.engine.clone()),
                ("driver", host.driver.clone()),
                ("nvctk_version", Some(env!("CARGO_PKG_VERSION").to_string())),
            ];
            for (k, v) in props {
                if let Some(v) = v {
                    let _ = writeln!(s, "      <property name=\"{k}\" value=\"{}\"/>", escape(&v));
                }
            }
            s.push_str("    </properties>\n");
        }
        for i in items {
            let area = i.id.split('.').next().unwrap_or("");
            let classname = match kind {
                Kind::Check => format!("nvctk.doctor.{area}"),
                Kind::Requirement => "nvctk.preflight".to_string(),
                Kind::Api => "nvctk.api".to_string(),
            };
            let _ = write!(
                s,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&classname),
                escape(&i.id),
                i.seconds
            );
            if i.fails() {
                let _ = writeln!(
                    s,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    escape(&i.summary),
                    i.status.as_str(),
                    text(&body(i))
                );
            } else if i.status == Status::Skip {
                let _ = writeln!(
                    s,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    escape(&i.summary)
                );
            } else if i.allowed {
                let _ = writeln!(
                    s,
                    ">\n      <system-out>allowed {}: {}</system-out>\n    </testcase>",
                    i.status.as_str(),
                    text(&body(i))
                );
            } else {
                s.push_str("/>\n");
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

/// The report of a job that could not finish: one `<testcase>` with an `<error>` whose
/// message is the reason's first line (the body has the whole text, hints included).
pub fn render_error(reason: &str, seconds: f64) -> String {
    let first = reason.lines().next().unwrap_or("nvctk preflight failed");
    let kind = if reason.contains("(--timeout)") {
        "timeout"
    } else if reason.contains("interrupted") {
        "interrupted"
    } else {
        "nvctk"
    };
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"nvctk preflight\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"{seconds:.3}\">"
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"preflight\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"{seconds:.3}\">"
    );
    let _ = writeln!(
        s,
        "    <testcase classname=\"nvctk.preflight\" name=\"preflight\" time=\"{seconds:.3}\">\n      <error message=\"{}\" type=\"{kind}\">{}</error>\n    </testcase>",
        escape(first),
        text(reason)
    );
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_quotes_and_drops_control_characters() {
        assert_eq!(
            escape("a<b>&\"c\"'\u{1b}[0m\n"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;[0m&#10;"
        );
    }
}
