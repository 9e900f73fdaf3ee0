//! Config-file parsers that keep the place of an error: daemon.json and config.toml.

use crate::facts::{ConfigFile, ParseError, Probed};
use serde_json::Value;

/// Parses daemon.json the way dockerd reads it: strict JSON, a UTF-8 BOM tolerated,
/// an empty file meaning no settings. Errors carry the 1-based line and column.
pub fn parse_daemon_json(text: &str) -> Result<Value, ParseError> {
    let place = |message: &str| ParseError {
        line: 1,
        column: 1,
        message: message.to_string(),
    };
    // dockerd 20.10 answers `invalid character 'ï'` for a BOM and `EOF` for an empty file.
    if text.starts_with('\u{feff}') {
        return Err(place(
            "the file starts with a byte-order mark (BOM), which dockerd refuses; save it as UTF-8 without BOM",
        ));
    }
    let body = text;
    if body.trim().is_empty() {
        return Err(place(
            "the file is empty, which dockerd refuses; write `{}` or delete the file",
        ));
    }
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(m)) => {
            // Types dockerd checks when it unmarshals the file.
            if let Some(r) = m.get("runtimes").filter(|r| !r.is_object() && !r.is_null()) {
                return Err(place(&format!(
                    "`runtimes` must be an object of runtime names, not {}",
                    kind(r)
                )));
            }
            if let Some(d) = m.get("default-runtime").filter(|d| !d.is_string()) {
                return Err(place(&format!(
                    "`default-runtime` must be a string, not {}",
                    kind(d)
                )));
            }
            Ok(Value::Object(m))
        }
        Ok(_) => Err(ParseError {
            line: 1,
            column: 1,
            message: "the top level must be a JSON object ({ … })".into(),
        }),
        // The setup editor's scanner words syntax errors better ("after the value of
        // \"dns\" … is a `,` missing?"); serde's own words are the fallback.
        Err(e) => Err(match crate::setup::daemon_json::validate(body.as_bytes()) {
            Err(v) => ParseError {
                line: v.line,
                column: v.column,
                message: v.message,
            },
            Ok(()) => ParseError {
                line: e.line().max(1),
                column: e.column().max(1),
                message: json_error_words(&e, body),
            },
        }),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde_json appends " at line L column C"; we show the place separately, and say
/// plainly when the cause is something dockerd never accepts (comments, trailing commas).
fn json_error_words(e: &serde_json::Error, body: &str) -> String {
    let raw = e.to_string();
    let base = raw
        .rsplit_once(" at line ")
        .map(|(m, _)| m.to_string())
        .unwrap_or(raw);
    let offending = body
        .lines()
        .nth(e.line().saturating_sub(1))
        .and_then(|l| l.get(e.column().saturating_sub(1)..))
        .unwrap_or("")
        .trim_start();
    if offending.starts_with("//") || offending.starts_with("/*") || base.contains("comment") {
        format!("{base} (JSON has no comments; dockerd refuses them)")
    } else if base.contains("trailing comma") {
        format!("{base} (remove the comma before the closing bracket)")
    } else {
        base
    }
}

pub fn daemon_json(fs: &crate::host::fs::FsRoot, path: &str) -> Option<ConfigFile> {
    let text = match fs.read_checked(path) {
        Ok(Some(t)) => t,
        Ok(None) => return None,
        Err(why) => {
            return Some(ConfigFile {
                path: path.to_string(),
                parsed: Probed::Err {
                    kind: "unreadable".into(),
                    message: format!("0:0: cannot read it: {why}"),
                },
            });
        }
    };
    Some(ConfigFile {
        path: path.to_string(),
        parsed: match parse_daemon_json(&text) {
            Ok(value) => Probed::Ok { value },
            Err(e) => Probed::Err {
                kind: "parse".into(),
                message: format!("{}:{}: {}", e.line, e.column, e.message),
            },
        },
    })
}

/// Parses the toolkit's config.toml into JSON values for the checks.
pub fn parse_config_toml(text: &str) -> Result<Value, ParseError> {
    match toml::from_str::<toml::Table>(text) {
        Ok(t) => serde_json::to_value(t).map_err(|e| ParseError {
            line: 1,
            column: 1,
            message: e.to_string(),
        }),
        Err(e) => {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            Err(ParseError {
                line,
                column,
                message: e.message().trim().to_string(),
            })
        }
    }
}

pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// Splits "3:5: message" back into its parts (how ConfigFile errors are stored).
pub fn split_place(message: &str) -> Option<(usize, usize, &str)> {
    let mut it = message.splitn(3, ':');
    let line = it.next()?.parse().ok()?;
    let col = it.next()?.parse().ok()?;
    Some((line, col, it.next()?.trim_start()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_comma_is_placed_on_line_3() {
        // shared case C04, as the user had it.
        let text = "{\n    \"dns\" : [\"192.0.2.1\"]\n    \"runtimes\": { \"nvidia\": { \"path\": \"nvidia-container-runtime\", \"runtimeArgs\": [] } }\n}\n";
        let e = parse_daemon_json(text).unwrap_err();
        assert_eq!((e.line, e.column), (3, 5));
        assert_eq!(
            e.message,
            "expected `,` or `}` after the value of \"dns\", found `\"` (is a `,` missing?)"
        );
    }

    #[test]
    fn comments_and_trailing_commas_are_named() {
        let e = parse_daemon_json("{\n  // mirror\n  \"debug\": true\n}\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("no comments"), "{}", e.message);
        // The comma itself is the place to fix.
        let e = parse_daemon_json("{\n  \"debug\": true,\n}\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!((e.line, e.column), (2, 16));
        assert!(e.message.ends_with("remove this comma"), "{}", e.message);
    }

    #[test]
    fn what_dockerd_refuses_is_refused() {
        // Observed with dockerd 20.10.24: a BOM, an empty file and an array of runtimes.
        assert!(
            parse_daemon_json("\u{feff}{\"debug\": true}")
                .unwrap_err()
                .message
                .contains("BOM")
        );
        assert!(
            parse_daemon_json("  \n")
                .unwrap_err()
                .message
                .contains("empty")
        );
        assert!(
            parse_daemon_json("{\"runtimes\": []}")
                .unwrap_err()
                .message
                .contains("an array")
        );
        assert!(parse_daemon_json("{\"runtimes\": null}").is_ok());
        assert!(parse_daemon_json("[1]").is_err());
        assert!(parse_daemon_json("{} {}").is_err());
    }

    #[test]
    fn config_toml_real_and_broken() {
        let real = "disable-require = false\n\n[nvidia-container-cli]\nenvironment = []\nldconfig = \"@/sbin/ldconfig.real\"\nload-kmods = true\nno-cgroups = true\n\n[nvidia-container-runtime]\nlog-level = \"info\"\nmode = \"auto\"\nruntimes = [\"docker-runc\", \"runc\", \"crun\"]\n";
        let v = parse_config_toml(real).unwrap();
        assert_eq!(
            v.pointer("/nvidia-container-cli/no-cgroups"),
            Some(&serde_json::json!(true))
        );
        let e = parse_config_toml("[nvidia-container-cli]\nno-cgroups = yes\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn places_split_back() {
        assert_eq!(
            split_place("3:5: expected `,`"),
            Some((3, 5, "expected `,`"))
        );
        assert_eq!(split_place("nope"), None);
    }
}
