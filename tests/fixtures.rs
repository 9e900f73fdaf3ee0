//! Every fixture in fixtures/ (a host snapshot with expected.json) through the real binary:
//! exactly the expected ids fire at warn or error, with the expected exit code.

mod common;
use common::*;
use std::path::Path;

#[test]
fn every_fixture_fires_exactly_its_expected_ids() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut failures = Vec::new();
    let mut seen = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let exp_path = dir.join("expected.json");
        if !exp_path.exists() {
            continue;
        }
        seen += 1;
        let exp: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&exp_path).unwrap()).unwrap();
        let args: Vec<String> = exp["args"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let (code, v, out) = run_json(
            nvctk()
                .args(["doctor", "--format", "json", "--snapshot"])
                .arg(&dir)
                .args(&args),
        );
        let mut want: Vec<String> = exp["fire"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect();
        want.sort();
        let got = fired(&v);
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if got != want || Some(code as i64) != exp["exit"].as_i64() {
            failures.push(format!(
                "{name}: fired {got:?} exit {code}, expected {want:?} exit {}",
                exp["exit"]
            ));
        }
        assert!(
            out.stderr.is_empty(),
            "{name}: stderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(v["source"], "snapshot");
    }
    assert!(seen >= 36, "only {seen} fixtures found");
    assert!(
        failures.is_empty(),
        "{} fixture(s) disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every case in ../shared/cases has a fixture, and every catalog id that can warn or
/// error fires in at least one fixture.
#[test]
fn fixtures_cover_every_case_and_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut fired_anywhere = std::collections::BTreeSet::new();
    let mut names = Vec::new();
    for e in std::fs::read_dir(&root).unwrap().filter_map(|e| e.ok()) {
        names.push(e.file_name().to_string_lossy().to_string());
        if let Ok(t) = std::fs::read_to_string(e.path().join("expected.json")) {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            for id in v["fire"].as_array().unwrap() {
                fired_anywhere.insert(id.as_str().unwrap().to_string());
            }
        }
        if e.path().join("expected.json").exists() {
            assert!(
                e.path().join("README.md").exists(),
                "{} has no README",
                e.path().display()
            );
        }
    }
    for case in [
        "C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08", "C09", "C10", "C11", "C12", "C13",
        "C14", "H01", "H02",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(case)),
            "no fixture for case {case}"
        );
    }
    let out = nvctk().args(["explain", "--list"]).output().unwrap();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut w = line.split_whitespace();
        let (id, sev) = (w.next().unwrap(), w.next().unwrap());
        if sev != "info" {
            assert!(fired_anywhere.contains(id), "no fixture fires {id}");
        }
    }
}
