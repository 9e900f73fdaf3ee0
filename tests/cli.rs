//! The binary as users meet it: the live verdict here, the JSON contract, explain, exit codes.

mod common;
use common::*;

fn schema() -> jsonschema::Validator {
    let raw = include_str!("../docs/schema/doctor-v1.json");
    let v: serde_json::Value = serde_json::from_str(raw).unwrap();
    jsonschema::validator_for(&v).expect("schema compiles")
}

#[test]
fn live_doctor_on_this_machine_is_calm_and_correct() {
    // This machine (and CI's) has no NVIDIA GPU: doctor must say so once and exit 1.
    let out = nvctk()
        .args(["doctor"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("[✗] no NVIDIA GPU found on this host (gpu.none)"),
        "{text}"
    );
    // The driver checks chain off gpu.none instead of piling on.
    assert!(!text.contains("(driver."), "{text}");
    assert!(text.contains("fix:"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "NO_COLOR must mean no escape codes"
    );
    assert!(
        out.stderr.is_empty(),
        "nothing on stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn live_json_validates_against_the_documented_schema() {
    let (code, v, out) = run_json(nvctk().args(["doctor", "--format", "json"]));
    assert_eq!(code, 1);
    let validator = schema();
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(v["source"], "live");
    assert!(out.stderr.is_empty());
    // Every catalog id appears exactly once.
    let ids: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let mut dedup = ids.clone();
    dedup.dedup();
    assert_eq!(ids.len(), 38);
    assert_eq!(ids, dedup);
}

#[test]
fn colour_follows_flags_and_no_color() {
    let forced = nvctk()
        .args(["--color", "always", "doctor"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&forced.stdout).contains('\u{1b}'));
    let piped = nvctk()
        .args(["doctor"])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&piped.stdout).contains('\u{1b}'),
        "not a terminal, no colour"
    );
    let clicolor = nvctk()
        .args(["doctor"])
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&clicolor.stdout).contains('\u{1b}'));
}

#[test]
fn explain_prints_the_docs_page_and_rejects_unknown_ids() {
    let out = nvctk()
        .args(["explain", "docker.default-runtime-nvidia"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("# docker.default-runtime-nvidia"),
        "{text}"
    );
    let bad = nvctk()
        .args(["explain", "docker.runtime"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.starts_with("error: no check has the id `docker.runtime`"),
        "{err}"
    );
    assert!(
        err.contains("did you mean") && err.contains("docker.runtime-missing"),
        "{err}"
    );
    let list = nvctk().args(["explain", "--list"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 38);
}

#[test]
fn every_check_id_has_a_docs_page() {
    let out = nvctk().args(["explain", "--list"]).output().unwrap();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let id = line.split_whitespace().next().unwrap();
        let page =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("docs/checks/{id}.md"));
        assert!(page.exists(), "missing {}", page.display());
    }
}

#[test]
fn a_closed_pipe_is_not_a_crash() {
    use std::process::Stdio;
    let mut child = nvctk()
        .args(["doctor", "-v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_arguments_are_nvctk_failures() {
    let out = nvctk()
        .args(["doctor", "--cuda", "twelve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with("error: `--cuda twelve` is not a CUDA version")
    );
    let out = nvctk()
        .args(["doctor", "--snapshot", "/nonexistent/snap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no snapshot at /nonexistent/snap"));
}
