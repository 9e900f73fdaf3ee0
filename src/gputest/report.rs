//! `nvctk test` output: a table for people, JSON (docs/test-api.md) and JUnit for machines.

use super::{Mode, Outcome, Verdict};
use colored::Colorize;
use std::fmt::Write;

fn mark(v: Verdict) -> String {
    match v {
        Verdict::Pass => "[✓]".green().to_string(),
        Verdict::Fail => "[✗]".red().bold().to_string(),
        Verdict::Skip => "[-]".dimmed().to_string(),
    }
}

pub fn mode_str(m: Option<Mode>) -> &'static str {
    match m {
        Some(Mode::Gpus) => "gpus",
        Some(Mode::Runtime) => "runtime",
        Some(Mode::Cdi) => "cdi",
        None => "-",
    }
}

fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Skip => "skip",
    }
}

/// Text that came out of a container is shown, never obeyed: control characters (an
/// image printing ESC sequences) become U+FFFD in the terminal report.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// The table, the causes and fixes of what did not pass, and a summary line. With `quiet`
/// (`-q`) only the causes and fixes and the summary line are printed.
pub fn human(o: &Outcome, quiet: bool) -> String {
    let rows: Vec<[String; 6]> = o
        .results
        .iter()
        .map(|r| {
            [
                r.api.as_str().to_string(),
                r.image.clone(),
                mode_str(r.mode).to_string(),
                verdict_str(r.verdict).to_string(),
                r.device.as_deref().map(clean).unwrap_or_else(|| "-".into()),
                format!("{:.1}s", r.seconds),
            ]
        })
        .collect();
    let head = ["API", "IMAGE", "MODE", "VERDICT", "DEVICE", "TIME"];
    let mut w = head.map(|h| h.chars().count());
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut s = String::new();
    let line = |cells: &[String; 6]| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let problems: Vec<_> = o
        .results
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .collect();
    if !quiet {
        let _ = writeln!(s, "    {}", line(&head.map(String::from)).bold());
        for (r, cells) in o.results.iter().zip(&rows) {
            let _ = writeln!(s, "{} {}", mark(r.verdict), line(cells));
        }
        if !problems.is_empty() {
            s.push('\n');
        }
    }
    for r in &problems {
        let what = if r.verdict == Verdict::Skip {
            "skipped"
        } else {
            "failed"
        };
        let id = r
            .check_id
            .as_ref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{} {what}: {}{}",
            r.api.as_str().bold(),
            clean(r.cause.as_deref().unwrap_or("no cause recorded")),
            id.dimmed()
        );
        if let Some(f) = &r.fix {
            let _ = writeln!(s, "    fix: {f}");
        }
        if let Some(c) = &r.check_id {
            let _ = writeln!(s, "    more: nvctk explain {c}");
        }
    }
    let n = |v| o.results.iter().filter(|r| r.verdict == v).count();
    if !(quiet && problems.is_empty()) {
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "{} passed, {} failed, {} skipped",
        n(Verdict::Pass),
        n(Verdict::Fail),
        n(Verdict::Skip)
    );
    s
}

pub fn json(o: &Outcome) -> String {
    let status = if o.failed() { "fail" } else { "pass" };
    let v = serde_json::json!({
        "schema": 1,
        "nvctk_version": env!("CARGO_PKG_VERSION"),
        "status": status,
        "results": o.results,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

pub fn xml_escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

pub fn junit(o: &Outcome) -> String {
    let n = |v| o.results.iter().filter(|r| r.verdict == v).count();
    // The containers run concurrently: the suite took the run's wall time, not the sum.
    let total = o.seconds;
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"nvctk test\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{total:.3}\">",
        o.results.len(),
        n(Verdict::Fail),
        n(Verdict::Skip)
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"nvctk.test\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{total:.3}\">",
        o.results.len(),
        n(Verdict::Fail),
        n(Verdict::Skip)
    );
    for r in &o.results {
        let _ = write!(
            s,
            "    <testcase classname=\"nvctk.test\" name=\"{}\" time=\"{:.3}\"",
            r.api.as_str(),
            r.seconds
        );
        let detail = format!(
            "image: {}\nmode: {}\ndevice: {}\ncheck: {}\nfix: {}",
            r.image,
            mode_str(r.mode),
            r.device.as_deref().unwrap_or("-"),
            r.check_id.as_deref().unwrap_or("-"),
            r.fix.as_deref().unwrap_or("-")
        );
        let cause = r.cause.as_deref().unwrap_or("");
        match r.verdict {
            Verdict::Pass => {
                let _ = writeln!(
                    s,
                    ">\n      <system-out>{}</system-out>\n    </testcase>",
                    xml_escape(&detail)
                );
            }
            Verdict::Skip => {
                let _ = writeln!(
                    s,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    xml_escape(cause)
                );
            }
            Verdict::Fail => {
                let _ = writeln!(
                    s,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    xml_escape(cause),
                    xml_escape(r.check_id.as_deref().unwrap_or("test")),
                    xml_escape(&detail)
                );
            }
        }
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::super::{Api, ApiResult};
    use super::*;

    fn outcome() -> Outcome {
        Outcome {
            results: vec![
                ApiResult {
                    api: Api::Cuda,
                    image: "nvidia/cuda:12.4.1-base-ubuntu22.04".into(),
                    mode: Some(Mode::Runtime),
                    verdict: Verdict::Pass,
                    device: Some("NVIDIA GeForce RTX 4090".into()),
                    seconds: 1.25,
                    cause: None,
                    check_id: None,
                    fix: None,
                },
                ApiResult {
                    api: Api::Vulkan,
                    image: "x".into(),
                    mode: Some(Mode::Gpus),
                    verdict: Verdict::Fail,
                    device: None,
                    seconds: 0.5,
                    cause: Some(
                        "could not select device driver \"\" with capabilities: [[gpu]]".into(),
                    ),
                    check_id: Some("toolkit.not-installed".into()),
                    fix: Some("install <it>".into()),
                },
            ],
            seconds: 1.3,
        }
    }

    #[test]
    fn quiet_prints_only_what_did_not_pass_and_the_summary() {
        colored::control::set_override(false);
        let h = human(&outcome(), true);
        assert_eq!(
            h,
            "vulkan failed: could not select device driver \"\" with capabilities: [[gpu]] (toolkit.not-installed)\n    fix: install <it>\n    more: nvctk explain toolkit.not-installed\n\n1 passed, 1 failed, 0 skipped\n"
        );
    }

    #[test]
    fn junit_time_is_the_wall_time_of_the_concurrent_run() {
        let j = junit(&outcome());
        assert!(
            j.contains("<testsuites name=\"nvctk test\" tests=\"2\" failures=\"1\" skipped=\"0\" time=\"1.300\">"),
            "{j}"
        );
        assert!(j.contains("<testsuite name=\"nvctk.test\" tests=\"2\" failures=\"1\" skipped=\"0\" time=\"1.300\">"), "{j}");
    }

    #[test]
    fn table_and_junit() {
        colored::control::set_override(false);
        let h = human(&outcome(), false);
        assert!(
            h.contains("[✓] cuda    nvidia/cuda:12.4.1-base-ubuntu22.04  runtime  pass"),
            "{h}"
        );
        assert!(h.contains("vulkan failed: could not select device driver"));
        assert!(h.contains("more: nvctk explain toolkit.not-installed"));
        let j = junit(&outcome());
        assert!(j.contains("<testcase classname=\"nvctk.test\" name=\"vulkan\""));
        assert!(j.contains("type=\"toolkit.not-installed\""));
        assert!(j.contains("install &lt;it&gt;"));
        assert!(j.contains("failures=\"1\""));
    }
}

#[cfg(test)]
mod clean_tests {
    #[test]
    fn container_text_cannot_drive_the_terminal() {
        assert_eq!(super::clean("GPU 0\u{1b}[31m"), "GPU 0\u{FFFD}[31m");
        assert_eq!(super::clean("NVIDIA RTX 4090"), "NVIDIA RTX 4090");
    }
}
