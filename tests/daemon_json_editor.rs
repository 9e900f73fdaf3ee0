//! Tests of the daemon.json editor (`nvctk::setup::daemon_json`): a corpus of
//! real-world style files with exact expected bytes or refusals, property tests
//! over generated files, a long random-mutation run (ignored by default), and
//! the unified diff used by `--dry-run`.

use nvctk::setup::daemon_json::{
    EditError, EditErrorKind, Op, Plan, Want, plan, runtime_paths_match, unified_diff, validate,
};
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/daemon_json_corpus")
}

fn add(set_default: bool, cdi: bool) -> Op {
    Op::Add(Want {
        set_default,
        cdi,
        ..Want::default()
    })
}

fn remove(reset_default: bool) -> Op {
    Op::Remove {
        runtime_name: "nvidia".to_string(),
        reset_default,
    }
}

/// `add [default] [cdi] [path=PATH]` or `remove [reset-default]`, as in cases.txt.
fn parse_op(words: &[&str]) -> Result<Op, String> {
    match words.split_first() {
        Some((&"add", flags)) => {
            let mut want = Want::default();
            for f in flags {
                match *f {
                    "default" => want.set_default = true,
                    "cdi" => want.cdi = true,
                    p if p.starts_with("path=") => want.runtime_path = p["path=".len()..].into(),
                    other => return Err(format!("unknown add flag {other:?}")),
                }
            }
            Ok(Op::Add(want))
        }
        Some((&"remove", flags)) => {
            let mut reset_default = false;
            for f in flags {
                match *f {
                    "reset-default" => reset_default = true,
                    other => return Err(format!("unknown remove flag {other:?}")),
                }
            }
            Ok(Op::Remove {
                runtime_name: "nvidia".into(),
                reset_default,
            })
        }
        _ => Err(format!("unknown op {words:?}")),
    }
}

fn parse_json(bytes: &[u8]) -> Value {
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "output does not parse: {e}\n{}",
            String::from_utf8_lossy(bytes)
        )
    })
}

// ---------------------------------------------------------------------------
// Corpus

#[test]
fn corpus() {
    let dir = corpus_dir();
    let manifest = std::fs::read_to_string(dir.join("cases.txt")).expect("cases.txt");
    let mut names = Vec::new();
    let mut failures = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (name, op_words) = words.split_first().expect("a case name");
        let op = parse_op(op_words).unwrap_or_else(|e| panic!("{name}: {e}"));
        names.push(name.to_string());

        let input = std::fs::read(dir.join(format!("{name}.input.json")))
            .unwrap_or_else(|e| panic!("{name}.input.json: {e}"));
        let expected = std::fs::read(dir.join(format!("{name}.expected.json"))).ok();
        let error = std::fs::read_to_string(dir.join(format!("{name}.error.txt"))).ok();
        let got = plan(&input, &op);
        match (expected, error) {
            (Some(expected), None) => match got {
                Ok(p) => {
                    if p.new_text != expected {
                        failures.push(format!(
                            "{name}: output differs\n--- got ---\n{}\n--- expected ---\n{}",
                            String::from_utf8_lossy(&p.new_text),
                            String::from_utf8_lossy(&expected)
                        ));
                        continue;
                    }
                    assert_eq!(p.changed, expected != input, "{name}: changed flag");
                    assert!(!p.actions.is_empty(), "{name}: no actions reported");
                    parse_json(&p.new_text);
                    assert_eq!(validate(&p.new_text), Ok(()), "{name}: output validates");
                    let again = plan(&p.new_text, &op).expect("plan of own output");
                    assert!(!again.changed, "{name}: not idempotent");
                    assert_eq!(again.new_text, p.new_text, "{name}: not idempotent");
                }
                Err(e) => failures.push(format!("{name}: refused: {e}")),
            },
            (None, Some(error)) => match got {
                Ok(p) => failures.push(format!(
                    "{name}: expected refusal {error:?}, got output\n{}",
                    String::from_utf8_lossy(&p.new_text)
                )),
                Err(e) => {
                    assert!(e.line >= 1 && e.column >= 1, "{name}: {e:?}");
                    if e.to_string() != error.trim_end_matches('\n') {
                        failures.push(format!(
                            "{name}: error differs\n got:      {e}\n expected: {}",
                            error.trim_end()
                        ));
                    }
                }
            },
            _ => panic!("{name}: needs exactly one of .expected.json or .error.txt"),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(names.len() >= 25, "corpus has only {} cases", names.len());

    // Every file in the folder belongs to a listed case, so none is silently skipped.
    for entry in std::fs::read_dir(&dir).expect("corpus dir") {
        let file = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        if file == "cases.txt" {
            continue;
        }
        let case = [".input.json", ".expected.json", ".error.txt"]
            .iter()
            .find_map(|suffix| file.strip_suffix(suffix));
        match case {
            Some(case) if names.iter().any(|n| n == case) => {}
            _ => panic!("{file} is not part of a case listed in cases.txt"),
        }
    }
}

// ---------------------------------------------------------------------------
// Specific behaviour

fn run(input: &str, op: &Op) -> Plan {
    plan(input.as_bytes(), op).unwrap_or_else(|e| panic!("refused: {e}\n{input}"))
}

fn refuse(input: &[u8], op: &Op) -> EditError {
    match plan(input, op) {
        Ok(p) => panic!(
            "expected a refusal, got\n{}",
            String::from_utf8_lossy(&p.new_text)
        ),
        Err(e) => e,
    }
}

#[test]
fn c04_missing_comma_names_line_3() {
    let input = "{\n    \"dns\" : [\"192.0.2.1\"]\n    \"runtimes\": { \"nvidia\": { \"path\": \"nvidia-container-runtime\", \"runtimeArgs\": [] } }\n}\n";
    let e = refuse(input.as_bytes(), &add(false, false));
    assert_eq!((e.line, e.column, e.kind), (3, 5, EditErrorKind::Syntax));
    assert!(
        e.message
            .starts_with("expected `,` or `}` after the value of \"dns\""),
        "{e}"
    );
    // validate() gives the same answer without planning a change.
    assert_eq!(validate(input.as_bytes()), Err(e));
}

#[test]
fn default_runtime_is_reported_but_untouched_unless_asked() {
    let input = "{\n    \"default-runtime\": \"runc\"\n}\n";
    let p = run(input, &add(false, false));
    assert!(
        p.actions
            .iter()
            .any(|a| a == "leave default-runtime (runc)"),
        "{:?}",
        p.actions
    );
    assert_eq!(parse_json(&p.new_text)["default-runtime"], "runc");

    let p = run(input, &add(true, false));
    assert_eq!(parse_json(&p.new_text)["default-runtime"], "nvidia");
    assert!(
        p.actions
            .iter()
            .any(|a| a == "set default-runtime to \"nvidia\" (was runc)"),
        "{:?}",
        p.actions
    );
}

#[test]
fn actions_name_the_runtime_and_path() {
    let p = run("{}", &add(false, false));
    assert_eq!(
        p.actions,
        vec![
            "add runtime \"nvidia\" (path nvidia-container-runtime)".to_string(),
            "leave default-runtime (not set: runc)".to_string(),
        ]
    );
    let p = run(
        "{\"runtimes\": {\"nvidia\": {\"path\": \"/usr/bin/nvidia-container-runtime\", \"runtimeArgs\": []}}}",
        &add(false, false),
    );
    assert!(!p.changed);
    assert_eq!(
        p.actions[0],
        "runtime \"nvidia\" is already registered (path /usr/bin/nvidia-container-runtime)"
    );
}

#[test]
fn custom_runtime_name_and_path_are_escaped() {
    let op = Op::Add(Want {
        runtime_name: "nvidia-experimental".into(),
        runtime_path: "/opt/tool kit/\"nvidia\"\\runtime".into(),
        set_default: true,
        cdi: false,
    });
    let p = run("{\n  \"debug\": true\n}\n", &op);
    let v = parse_json(&p.new_text);
    assert_eq!(
        v["runtimes"]["nvidia-experimental"]["path"],
        "/opt/tool kit/\"nvidia\"\\runtime"
    );
    assert_eq!(v["default-runtime"], "nvidia-experimental");
    assert!(!run(std::str::from_utf8(&p.new_text).unwrap(), &op).changed);
}

#[test]
fn remove_undoes_add_byte_for_byte() {
    let input = "{\n\t\"debug\": true,\n\t\"runtimes\": {\"kata\": {\"path\": \"/usr/bin/kata-runtime\"}}\n}";
    let added = run(input, &add(true, false));
    let removed = plan(&added.new_text, &remove(true)).unwrap();
    assert_eq!(String::from_utf8(removed.new_text).unwrap(), input);
}

#[test]
fn remove_keeps_default_runtime_unless_asked() {
    let input = "{\"default-runtime\": \"nvidia\", \"runtimes\": {\"nvidia\": {\"path\": \"nvidia-container-runtime\"}}}";
    let p = run(input, &remove(false));
    assert_eq!(
        String::from_utf8(p.new_text).unwrap(),
        "{\"default-runtime\": \"nvidia\"}"
    );
    let p = run(input, &remove(true));
    assert_eq!(String::from_utf8(p.new_text).unwrap(), "{}");
}

#[test]
fn refusals_carry_kind_and_position() {
    let cases: &[(&[u8], EditErrorKind, (usize, usize))] = &[
        (b"{\"a\": 1} // note\n", EditErrorKind::Comment, (1, 10)),
        (b"{\"a\": [1,]}", EditErrorKind::TrailingComma, (1, 9)),
        (b"{} {}", EditErrorKind::TrailingContent, (1, 4)),
        (b"\"nvidia\"", EditErrorKind::NotAnObject, (1, 1)),
        (b"null", EditErrorKind::NotAnObject, (1, 1)),
        (b"{\"features\": []}", EditErrorKind::WrongType, (1, 14)),
        (b"{\"runtimes\": 1}", EditErrorKind::WrongType, (1, 14)),
        (
            b"{\"default-runtime\": \"a\",\n \"default-runtime\": \"b\"}",
            EditErrorKind::DuplicateKey,
            (2, 2),
        ),
        (b"{\"x\": \"\xC3\x28\"}", EditErrorKind::InvalidUtf8, (1, 8)),
        (b"{\"\xE2\x82\xAC\": tru}", EditErrorKind::Syntax, (1, 7)),
        (b"\xEF\xBB\xBF{}", EditErrorKind::Bom, (1, 1)),
        (b"{\"a\": 1", EditErrorKind::Syntax, (1, 8)),
        (b"{\"a\": \"\\x\"}", EditErrorKind::Syntax, (1, 8)),
        (b"{\"a\": -}", EditErrorKind::Syntax, (1, 8)),
        (b"{\"a\": 1.}", EditErrorKind::Syntax, (1, 9)),
        (b"{\"a\": 1e}", EditErrorKind::Syntax, (1, 9)),
        (b"{\"a\"\n 1}", EditErrorKind::Syntax, (2, 2)),
    ];
    for (input, kind, (line, column)) in cases {
        let e = refuse(input, &add(false, true));
        assert_eq!(
            (e.kind, e.line, e.column),
            (*kind, *line, *column),
            "{}: {e}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn a_bom_is_refused_as_dockerd_refuses_it() {
    let e = plan(BOM, &add(false, false)).unwrap_err();
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.message.contains("byte-order mark"), "{e}");
    assert!(plan(b"\xEF\xBB\xBF{}", &add(false, false)).is_err());
}

#[test]
fn deep_nesting_is_handled_without_recursion() {
    // Far deeper than any recursive parser's stack would allow in a test thread.
    let depth = 200_000;
    let mut input = String::from("{\"deep\": ");
    input.push_str(&"[".repeat(depth));
    input.push_str(&"]".repeat(depth));
    input.push('}');
    let p = plan(input.as_bytes(), &add(false, false)).unwrap();
    assert!(p.changed);
    let mut unbalanced = String::from("{\"deep\": ");
    unbalanced.push_str(&"{\"a\":[".repeat(depth));
    let e = refuse(unbalanced.as_bytes(), &add(false, false));
    assert_eq!(e.kind, EditErrorKind::Syntax);
}

#[test]
fn path_equivalence() {
    assert!(runtime_paths_match(
        "nvidia-container-runtime",
        "/usr/bin/nvidia-container-runtime"
    ));
    assert!(runtime_paths_match(
        "/usr/local/bin/nvidia-container-runtime",
        "nvidia-container-runtime"
    ));
    assert!(!runtime_paths_match(
        "/opt/nvidia/nvidia-container-runtime",
        "nvidia-container-runtime"
    ));
    assert!(!runtime_paths_match(
        "/usr/bin/nvidia-container-runtime",
        "/usr/local/bin/nvidia-container-runtime"
    ));
    assert!(!runtime_paths_match("", "/usr/bin/"));
}

// ---------------------------------------------------------------------------
// unified_diff

#[test]
fn diff_of_a_simple_change() {
    let old = "{\n    \"a\": 1\n}\n";
    let new = "{\n    \"a\": 1,\n    \"b\": 2\n}\n";
    assert_eq!(
        unified_diff("/etc/docker/daemon.json", old.as_bytes(), new.as_bytes()),
        "--- /etc/docker/daemon.json\n\
         +++ /etc/docker/daemon.json\n\
         @@ -1,3 +1,4 @@\n \
         {\n\
         -    \"a\": 1\n\
         +    \"a\": 1,\n\
         +    \"b\": 2\n \
         }\n"
    );
}

#[test]
fn diff_of_an_unchanged_file_is_empty() {
    assert_eq!(unified_diff("f", b"{}\n", b"{}\n"), "");
}

#[test]
fn diff_splits_distant_changes_into_hunks() {
    let old: String = (1..=20).map(|i| format!("l{i}\n")).collect();
    let new = old.replace("l2\n", "X\n").replace("l18\n", "Y\n");
    assert_eq!(
        unified_diff("f", old.as_bytes(), new.as_bytes()),
        "--- f\n+++ f\n\
         @@ -1,5 +1,5 @@\n l1\n-l2\n+X\n l3\n l4\n l5\n\
         @@ -15,6 +15,6 @@\n l15\n l16\n l17\n-l18\n+Y\n l19\n l20\n"
    );
}

#[test]
fn diff_marks_a_missing_final_newline() {
    assert_eq!(
        unified_diff("f", b"a\nb", b"a\nc"),
        "--- f\n+++ f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"
    );
}

#[test]
fn diff_from_an_absent_file() {
    assert_eq!(
        unified_diff("f", b"", b"{\n}\n"),
        "--- f\n+++ f\n@@ -0,0 +1,2 @@\n+{\n+}\n"
    );
    assert_eq!(
        unified_diff("f", b"x\n", b""),
        "--- f\n+++ f\n@@ -1 +0,0 @@\n-x\n"
    );
}

#[test]
fn diff_of_corpus_edits_applies_back() {
    // Rebuild the new text from the old one and the diff's own lines: every
    // hunk's context and removed lines must be in the old text, in order.
    let dir = corpus_dir();
    for name in ["kata-runtime", "crlf", "crun-default", "remove-keeps-kata"] {
        let old = std::fs::read(dir.join(format!("{name}.input.json"))).unwrap();
        let new = std::fs::read(dir.join(format!("{name}.expected.json"))).unwrap();
        let diff = unified_diff("daemon.json", &old, &new);
        assert_eq!(apply_diff(&old, &diff), new, "{name}\n{diff}");
    }
}

/// A minimal patch applier for diffs whose lines end in `\n`.
fn apply_diff(old: &[u8], diff: &str) -> Vec<u8> {
    let old = String::from_utf8(old.to_vec()).unwrap();
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut next_old = 0; // index of the next old line not yet copied
    for line in diff.split_inclusive('\n').skip(2) {
        if let Some(header) = line.strip_prefix("@@ -") {
            let range = header.split(' ').next().unwrap();
            let (start, len) = match range.split_once(',') {
                Some((s, l)) => (s.parse::<usize>().unwrap(), l.parse::<usize>().unwrap()),
                None => (range.parse().unwrap(), 1),
            };
            let first = if len == 0 { start } else { start - 1 };
            for l in &old_lines[next_old..first] {
                out.push_str(l);
            }
            next_old = first;
            continue;
        }
        match line.split_at(1) {
            (" ", text) => {
                assert_eq!(old_lines[next_old], text);
                out.push_str(text);
                next_old += 1;
            }
            ("-", text) => {
                assert_eq!(old_lines[next_old], text);
                next_old += 1;
            }
            ("+", text) => out.push_str(text),
            _ => panic!("unexpected diff line {line:?}"),
        }
    }
    for l in &old_lines[next_old..] {
        out.push_str(l);
    }
    out.into_bytes()
}

// ---------------------------------------------------------------------------
// Property tests over generated files

/// How a generated file is written.
#[derive(Debug, Clone)]
struct Style {
    /// None: everything on one line.
    indent: Option<String>,
    eol: &'static str,
    colon: &'static str,
    /// Objects and arrays at this depth and deeper are written on one line.
    inline_depth: usize,
    final_newline: bool,
    bom: bool,
}

fn style() -> impl Strategy<Value = Style> {
    (
        prop_oneof![
            Just(None),
            Just(Some("  ".to_string())),
            Just(Some("    ".to_string())),
            Just(Some("\t".to_string())),
            Just(Some("   ".to_string())),
        ],
        prop_oneof![Just("\n"), Just("\r\n")],
        prop_oneof![Just(": "), Just(":"), Just(" : ")],
        1usize..4,
        any::<bool>(),
        // dockerd refuses a BOM, and so does the editor (see a_bom_is_refused_…).
        Just(false),
    )
        .prop_map(
            |(indent, eol, colon, inline_depth, final_newline, bom)| Style {
                indent,
                eol,
                colon,
                inline_depth,
                final_newline,
                bom,
            },
        )
}

fn write_value(v: &Value, st: &Style, depth: usize, out: &mut String) {
    let multi = st.indent.is_some() && depth < st.inline_depth;
    let indent = st.indent.clone().unwrap_or_default();
    let sep = if st.colon.ends_with(' ') { ", " } else { "," };
    let (open, close, items): (char, char, Vec<(Option<&String>, &Value)>) = match v {
        Value::Object(m) if !m.is_empty() => {
            ('{', '}', m.iter().map(|(k, v)| (Some(k), v)).collect())
        }
        Value::Array(a) if !a.is_empty() => ('[', ']', a.iter().map(|v| (None, v)).collect()),
        other => {
            out.push_str(&serde_json::to_string(other).unwrap());
            return;
        }
    };
    out.push(open);
    for (i, (k, v)) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(if multi { "," } else { sep });
        }
        if multi {
            out.push_str(st.eol);
            out.push_str(&indent.repeat(depth + 1));
        }
        if let Some(k) = k {
            out.push_str(&serde_json::to_string(k).unwrap());
            out.push_str(st.colon);
        }
        write_value(v, st, depth + 1, out);
    }
    if multi {
        out.push_str(st.eol);
        out.push_str(&indent.repeat(depth));
    }
    out.push(close);
}

fn render(doc: &Map<String, Value>, st: &Style) -> Vec<u8> {
    let mut s = String::new();
    write_value(&Value::Object(doc.clone()), st, 0, &mut s);
    if st.final_newline {
        s.push_str(st.eol);
    }
    let mut out = Vec::new();
    if st.bom {
        out.extend_from_slice(BOM);
    }
    out.extend_from_slice(s.as_bytes());
    out
}

const EDITED: [&str; 3] = ["runtimes", "default-runtime", "features"];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,12}",
        "\\PC{0,8}",
        "[\"\\\\/\\x00-\\x1f a-z]{0,6}",
    ]
    .prop_filter("not a key the editor owns", |k| {
        !EDITED.iter().any(|e| k.eq_ignore_ascii_case(e))
    })
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e9f64..1.0e9).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
        "[\"\\\\/\\x00-\\x1f a-z]{0,6}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A daemon.json without an nvidia runtime: random members, maybe other
/// runtimes, a default-runtime and features, in random places.
fn document() -> impl Strategy<Value = Map<String, Value>> {
    let runtimes = prop::collection::vec(
        (
            prop_oneof![Just("kata"), Just("crun"), Just("runsc"), Just("youki")],
            "/usr/(local/)?bin/[a-z-]{1,10}",
        ),
        1..3,
    )
    .prop_map(|rs| {
        let m: Map<String, Value> = rs
            .into_iter()
            .map(|(name, path)| (name.to_string(), serde_json::json!({ "path": path })))
            .collect();
        Value::Object(m)
    });
    let features = (any::<bool>(), prop::option::of(any::<bool>())).prop_map(|(bk, cdi)| {
        let mut m = Map::new();
        m.insert("buildkit".into(), Value::Bool(bk));
        if let Some(cdi) = cdi {
            m.insert("cdi".into(), Value::Bool(cdi));
        }
        Value::Object(m)
    });
    (
        prop::collection::vec((key(), value()), 0..8),
        prop::option::of(runtimes),
        prop::option::of(prop_oneof![Just("runc"), Just("crun")]),
        prop::option::of(features),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(members, runtimes, default, features, i1, i2, i3)| {
            let mut members: Vec<(String, Value)> = members;
            let mut place = |k: &str, v: Value, at: prop::sample::Index| {
                let i = at.index(members.len() + 1);
                members.insert(i, (k.to_string(), v));
            };
            if let Some(r) = runtimes {
                place("runtimes", r, i1);
            }
            if let Some(d) = default {
                place("default-runtime", Value::from(d), i2);
            }
            if let Some(f) = features {
                place("features", f, i3);
            }
            members.into_iter().collect()
        })
}

fn want() -> impl Strategy<Value = Want> {
    (
        prop_oneof![
            Just("nvidia-container-runtime"),
            Just("/usr/bin/nvidia-container-runtime"),
            Just("/opt/nvidia/toolkit/nvidia-container-runtime"),
        ],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(path, set_default, cdi)| Want {
            runtime_path: path.to_string(),
            set_default,
            cdi,
            ..Want::default()
        })
}

fn object(v: &Value) -> &Map<String, Value> {
    v.as_object().expect("an object")
}

proptest! {
    #[test]
    fn add_keeps_everything_else_and_is_idempotent(doc in document(), st in style(), want in want()) {
        let input = render(&doc, &st);
        let op = Op::Add(want.clone());
        let p = plan(&input, &op).map_err(|e| TestCaseError::fail(format!("refused: {e}")))?;
        prop_assert_eq!(p.changed, p.new_text != input);
        prop_assert_eq!(p.new_text.starts_with(BOM), st.bom);
        prop_assert_eq!(p.new_text.ends_with(st.eol.as_bytes()), st.final_newline);
        // Line breaks follow the file's; one without any gets LF.
        if !input.windows(2).any(|w| w == b"\r\n") {
            prop_assert!(!p.new_text.windows(2).any(|w| w == b"\r\n"), "LF file got CRLF");
        } else {
            let lf = p.new_text.iter().filter(|b| **b == b'\n').count();
            let crlf = p.new_text.windows(2).filter(|w| *w == b"\r\n").count();
            prop_assert_eq!(lf, crlf);
        }

        let before = object(&parse_json(&input)).clone();
        let after_v = parse_json(&p.new_text);
        let after = object(&after_v);

        // Existing keys keep their order (new ones only come after them).
        let kept: Vec<&String> = after.keys().filter(|k| before.contains_key(*k)).collect();
        prop_assert_eq!(kept, before.keys().collect::<Vec<_>>());
        let new_keys: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
        prop_assert!(new_keys.iter().all(|k| EDITED.contains(&k.as_str())), "{:?}", new_keys);
        for (k, v) in &before {
            if !EDITED.contains(&k.as_str()) {
                prop_assert_eq!(Some(v), after.get(k), "key {:?} changed", k);
            }
        }

        // runtimes: ours is there with an equivalent path; the others unchanged.
        let runtimes = object(&after["runtimes"]);
        let path = runtimes["nvidia"]["path"].as_str().unwrap();
        prop_assert!(runtime_paths_match(path, &want.runtime_path));
        if let Some(old) = before.get("runtimes") {
            for (name, rt) in object(old) {
                prop_assert_eq!(Some(rt), runtimes.get(name));
            }
        }
        // default-runtime only when asked.
        if want.set_default {
            prop_assert_eq!(&after["default-runtime"], "nvidia");
        } else {
            prop_assert_eq!(before.get("default-runtime"), after.get("default-runtime"));
        }
        // features: cdi when asked, the rest kept.
        if want.cdi {
            let f = object(&after["features"]);
            prop_assert_eq!(&f["cdi"], &Value::Bool(true));
            if let Some(old) = before.get("features") {
                for (k, v) in object(old) {
                    if k != "cdi" {
                        prop_assert_eq!(Some(v), f.get(k));
                    }
                }
            }
        } else {
            prop_assert_eq!(before.get("features"), after.get("features"));
        }

        prop_assert_eq!(validate(&p.new_text), Ok(()));
        let again = plan(&p.new_text, &op).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert!(!again.changed);
        prop_assert_eq!(again.new_text, p.new_text);
    }

    #[test]
    fn remove_after_add_restores_the_file(doc in document(), st in style(), want in want()) {
        let input = render(&doc, &st);
        // Only what Remove can know it added: default-runtime where there was
        // none (it cannot restore a previous value), never features.cdi.
        let want = Want {
            set_default: want.set_default && !doc.contains_key("default-runtime"),
            cdi: false,
            ..want
        };
        let added = plan(&input, &Op::Add(want)).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let removed = plan(&added.new_text, &remove(true)).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(parse_json(&removed.new_text), parse_json(&input));
        prop_assert_eq!(
            String::from_utf8_lossy(&removed.new_text),
            String::from_utf8_lossy(&input)
        );
        let again = plan(&removed.new_text, &remove(true)).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert!(!again.changed);
    }

    #[test]
    fn validate_agrees_with_serde_json_on_generated_text(doc in document(), st in style()) {
        let input = render(&doc, &st);
        prop_assert_eq!(validate(&input), Ok(()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), want in want()) {
        check_no_panic(&bytes, &Op::Add(want));
        check_no_panic(&bytes, &remove(true));
    }
}

/// Plans `op` on any bytes: an error names a real position; an output is a
/// file the editor accepts and leaves alone the second time.
fn check_no_panic(bytes: &[u8], op: &Op) {
    match plan(bytes, op) {
        Err(e) => {
            assert!(e.line >= 1 && e.column >= 1, "{e:?}");
            let lines = bytes.iter().filter(|b| **b == b'\n').count() + 1;
            assert!(e.line <= lines, "line {} of {lines}: {e}", e.line);
            assert!(!e.message.is_empty());
            // Refusals about what the JSON says come from valid JSON; all
            // others are the scanner's, which validate() shares.
            let about_content = matches!(
                e.kind,
                EditErrorKind::WrongType | EditErrorKind::DuplicateKey | EditErrorKind::KeyCase
            );
            if about_content {
                assert_eq!(validate(bytes), Ok(()));
            } else {
                assert_eq!(validate(bytes), Err(e));
            }
        }
        Ok(p) => {
            assert_eq!(validate(&p.new_text), Ok(()));
            let again = plan(&p.new_text, op).expect("own output accepted");
            assert!(
                !again.changed,
                "not idempotent on {:?}",
                String::from_utf8_lossy(bytes)
            );
            let _ = unified_diff("daemon.json", bytes, &p.new_text);
        }
    }
}

// ---------------------------------------------------------------------------
// Long random-mutation run: `cargo test --test daemon_json_editor -- --ignored`
// with NVCTK_FUZZ_SECS (default 60) and NVCTK_FUZZ_SEED.

/// xorshift64*: a small, seedable generator so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    // Bytes that matter to JSON (and to its common mistakes) are favoured.
    const INTERESTING: &[u8] =
        b"{}[],:\"\\/*\n\r\t 0123456789-+.eEtrufalsn\xEF\xBB\xBF\xC3\xA9\xFF\x00";
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            1 => {
                let i = rng.below(len + 1);
                out.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                out.drain(i..i + n);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(32));
                let chunk = out[i..i + n].to_vec();
                let at = rng.below(out.len() + 1);
                out.splice(at..at, chunk);
            }
            4 => {
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let n = 1 + rng.below((other.len() - i).min(64));
                    let at = rng.below(out.len() + 1);
                    out.splice(at..at, other[i..i + n].iter().copied());
                }
            }
            _ if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.next() as u8;
            }
            _ => {}
        }
    }
    out
}

#[test]
#[ignore = "long run; see the comment above"]
fn fuzz_corpus_mutations() {
    let secs: u64 = std::env::var("NVCTK_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("NVCTK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            corpus.push(std::fs::read(path).unwrap());
        }
    }
    let ops = [
        add(false, false),
        add(true, true),
        Op::Add(Want {
            runtime_path: "/usr/bin/nvidia-container-runtime".into(),
            cdi: true,
            ..Want::default()
        }),
        remove(false),
        remove(true),
    ];
    let mut rng = Rng(seed | 1);
    let start = std::time::Instant::now();
    let (mut cases, mut accepted, mut agreed) = (0u64, 0u64, 0u64);
    while start.elapsed().as_secs() < secs {
        let base = &corpus[rng.below(corpus.len())];
        let input = mutate(&mut rng, base, &corpus);
        let op = &ops[rng.below(ops.len())];
        check_no_panic(&input, op);
        // Differential check of the scanner against serde_json on what both
        // should judge alike (serde_json knows no BOM, limits nesting to 128
        // and rejects lone surrogates and out-of-range numbers; dockerd too
        // rejects the last, and nvctk leaves that to dockerd).
        let ours = validate(&input).is_ok();
        let theirs = serde_json::from_slice::<Value>(&input);
        let exponent = input
            .windows(2)
            .any(|w| w[0].is_ascii_digit() && (w[1] == b'e' || w[1] == b'E'));
        let comparable = !input.starts_with(BOM)
            && !exponent
            && !input.windows(2).any(|w| w == b"\\u")
            && input.iter().filter(|b| **b == b'[' || **b == b'{').count() < 100;
        if comparable {
            let theirs_ok = matches!(&theirs, Ok(Value::Object(_)));
            let empty = input.iter().all(|b| b" \t\r\n".contains(b));
            if !empty {
                assert_eq!(
                    ours,
                    theirs_ok,
                    "scanner and serde_json disagree on {:?} (serde_json: {:?})",
                    String::from_utf8_lossy(&input),
                    theirs.err()
                );
                agreed += 1;
            }
        }
        if plan(&input, op).is_ok() {
            accepted += 1;
        }
        cases += 1;
    }
    eprintln!(
        "fuzz: {cases} cases in {:.1}s (seed {seed}), {accepted} accepted, {agreed} compared with serde_json",
        start.elapsed().as_secs_f64()
    );
    assert!(cases > 0);
}
