//! `nvctk report merge` over doctor reports of six fixture hosts, as a fleet operator runs it
//! after collecting one report per node.

mod common;
use common::*;
use std::path::Path;

const NODES: [(&str, &str); 6] = [
    ("gpu-a1", "C01-toolkit-not-installed"),
    ("gpu-a2", "C03-wsl2-daemon-json-not-applied"),
    ("gpu-b1", "C06-snap-docker-no-runtime"),
    ("gpu-b2", "C14-default-runtime-nvidia"),
    ("gpu-c1", "H01-healthy-native"),
    ("gpu-c2", "C12-driver-library-mismatch"),
];

/// Doctor JSON for each node, written as NODE.json into a temp folder.
fn reports() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for (node, fixture) in NODES {
        let out = nvctk()
            .args(["doctor", "--format", "json", "--snapshot"])
            .arg(fixtures.join(fixture))
            .output()
            .unwrap();
        std::fs::write(dir.path().join(format!("{node}.json")), &out.stdout).unwrap();
    }
    dir
}

#[test]
fn merge_prints_the_fleet_table() {
    let dir = reports();
    let out = nvctk()
        .args(["report", "merge"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "some node has an error");
    assert!(out.stderr.is_empty());
    insta::assert_snapshot!("fleet_table", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn merge_json_names_which_nodes_fail_which_checks() {
    let dir = reports();
    let files: Vec<_> = NODES
        .iter()
        .map(|(n, _)| dir.path().join(format!("{n}.json")))
        .collect();
    let (code, v, _) = run_json(
        nvctk()
            .args(["report", "merge", "--format", "json"])
            .args(&files),
    );
    assert_eq!(code, 1);
    assert_eq!(
        v["totals"],
        serde_json::json!({"nodes": 6, "error": 3, "warn": 2, "ok": 1})
    );
    let row = |id: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no row {id}"))
            .clone()
    };
    assert_eq!(
        row("toolkit.vulnerable")["nodes"],
        serde_json::json!(["gpu-a2", "gpu-b2"])
    );
    assert_eq!(
        row("driver.library-mismatch")["nodes"],
        serde_json::json!(["gpu-c2"])
    );
    assert_eq!(row("docker.default-runtime-nvidia")["status"], "warn");
    let first_row = &v["checks"][0];
    assert_eq!(first_row["status"], "error", "errors come first");
    let nodes: Vec<&str> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        nodes,
        ["gpu-a1", "gpu-a2", "gpu-c2", "gpu-b1", "gpu-b2", "gpu-c1"]
    );
    // The temp folder differs per run: keep only the file name.
    let mut v = v;
    for n in v["nodes"].as_array_mut().unwrap() {
        let f = n["file"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        n["file"] = f.into();
    }
    insta::assert_json_snapshot!("fleet_json", v);
}

#[test]
fn merge_rejects_what_is_not_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("node-x.json");
    std::fs::write(&bad, "{\"hello\": 1}").unwrap();
    let out = nvctk()
        .args(["report", "merge"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ")
            && err.contains("node-x.json: not an nvctk doctor report with schema 1"),
        "{err}"
    );
    let out = nvctk()
        .args(["report", "merge"])
        .arg(dir.path().join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: cannot read "));
}

#[test]
fn a_bad_file_in_a_folder_is_skipped_with_a_warning_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let healthy = fixtures.join("H01-healthy-native");
    let doctor = nvctk()
        .args(["doctor", "--format", "json", "--snapshot"])
        .arg(&healthy)
        .output()
        .unwrap();
    std::fs::write(dir.path().join("gpu-c1.json"), &doctor.stdout).unwrap();
    // A CI runner's preflight report is a node too.
    let empty = tempfile::tempdir().unwrap();
    let pre = nvctk()
        .args(["preflight", "--format", "json", "--no-config", "--snapshot"])
        .arg(&healthy)
        .current_dir(empty.path())
        .output()
        .unwrap();
    assert_eq!(pre.status.code(), Some(0));
    std::fs::write(dir.path().join("ci-runner.json"), &pre.stdout).unwrap();

    // Only ready nodes: exit 0.
    let out = nvctk()
        .args(["report", "merge", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["totals"]["nodes"], 2, "{v}");

    // One truncated upload: the rest is still merged, the file is named, exit 1.
    let bad = dir.path().join("gpu-z9.json");
    std::fs::write(&bad, "{\"schema\": 1, \"chec").unwrap();
    let out = nvctk()
        .args(["report", "merge", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["totals"]["nodes"], 2, "{v}");
    let names: Vec<&str> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["name"].as_str())
        .collect();
    assert_eq!(names, ["ci-runner", "gpu-c1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("warning: skipped {}: not JSON (", bad.display())),
        "{err}"
    );
    assert!(
        err.contains("\nhint: the fleet above leaves out 1 file; "),
        "{err}"
    );

    // Named on the command line, the same file is an error.
    let out = nvctk()
        .args(["report", "merge"])
        .arg(dir.path().join("gpu-c1.json"))
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with(&format!("error: {}: not JSON (", bad.display())),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // --help says a preflight report is accepted.
    let out = nvctk()
        .args(["report", "merge", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("A preflight JSON report"), "{help}");
}
