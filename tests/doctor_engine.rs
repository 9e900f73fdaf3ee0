//! doctor against a real private dockerd, and against a socket that never answers.

mod common;
use common::*;
use std::time::{Duration, Instant};

fn doctor_json(d: &Dockerd) -> serde_json::Value {
    let (_, v, _) = run_json(
        nvctk()
            .args(["doctor", "--format", "json"])
            .env("DOCKER_HOST", d.host()),
    );
    v
}

#[test]
fn doctor_reports_the_engines_version_runtimes_and_default() {
    if !dockerd_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let shim = write_runtime_shim(tmp.path());
    let d = Dockerd::start(&format!(
        r#"{{"runtimes": {{"nvidia": {{"path": "{}"}}}}}}"#,
        shim.display()
    ));
    let engine_version = d.info()["ServerVersion"].as_str().unwrap().to_string();
    let v = doctor_json(&d);
    assert_eq!(v["host"]["engine"], format!("Docker {engine_version}"));
    assert_eq!(status(&v, "docker.unreachable"), "ok");
    let rt = check(&v, "docker.runtime-missing");
    assert_eq!(rt["status"], "ok", "{rt}");
    assert!(rt["summary"].as_str().unwrap().contains("nvidia"), "{rt}");
    let def = check(&v, "docker.default-runtime-nvidia");
    assert_eq!(def["status"], "ok");
    assert_eq!(def["summary"], "default runtime is runc");
    // The daemon.json doctor judged is the one this engine was started with.
    assert_eq!(status(&v, "docker.daemon-json-not-applied"), "ok");
    assert!(
        check(&v, "docker.daemon-json-not-applied")["summary"]
            .as_str()
            .unwrap()
            .contains(d.config.to_str().unwrap())
    );
    assert_eq!(status(&v, "docker.runtime-binary-missing"), "ok");
}

#[test]
fn daemon_json_edits_fire_until_the_engine_reloads() {
    if !dockerd_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let shim = write_runtime_shim(tmp.path());
    let d = Dockerd::start("{}\n");
    assert_eq!(
        status(&doctor_json(&d), "docker.daemon-json-not-applied"),
        "ok"
    );

    std::fs::write(
        &d.config,
        format!(
            r#"{{"runtimes": {{"nvidia": {{"path": "{}"}}}}}}"#,
            shim.display()
        ),
    )
    .unwrap();
    let v = doctor_json(&d);
    let c = check(&v, "docker.daemon-json-not-applied");
    assert_eq!(c["status"], "error", "{c}");
    assert!(
        c["details"]
            .to_string()
            .contains(r#"runtime \"nvidia\" is declared"#),
        "{c}"
    );
    // runtime-missing does not pile on: the cause is the missing reload.
    assert_eq!(status(&v, "docker.runtime-missing"), "skip");

    d.reload();
    assert!(
        d.wait_info(|i| i["Runtimes"].get("nvidia").is_some()),
        "engine did not reload:\n{}",
        d.log()
    );
    let v = doctor_json(&d);
    assert_eq!(status(&v, "docker.daemon-json-not-applied"), "ok");
    assert_eq!(status(&v, "docker.runtime-missing"), "ok");
}

#[test]
fn an_engine_with_nvidia_as_default_is_warned_about() {
    if !dockerd_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let shim = write_runtime_shim(tmp.path());
    let d = Dockerd::start(&format!(
        r#"{{"default-runtime": "nvidia", "runtimes": {{"nvidia": {{"path": "{}", "runtimeArgs": []}}}}}}"#,
        shim.display()
    ));
    let v = doctor_json(&d);
    assert_eq!(status(&v, "docker.default-runtime-nvidia"), "warn");
    assert_eq!(status(&v, "docker.daemon-json-not-applied"), "ok");
}

#[test]
fn a_socket_that_never_answers_costs_only_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("hung.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    // Accept and hold connections without ever answering.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming() {
            held.push(c);
        }
    });
    let start = Instant::now();
    let (code, v, _) = run_json(
        nvctk()
            .args(["doctor", "--format", "json", "--timeout", "1"])
            .env("DOCKER_HOST", format!("unix://{}", sock.display())),
    );
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "doctor took {took:?} with a 1 s deadline"
    );
    let c = check(&v, "docker.unreachable");
    assert_eq!(c["status"], "error");
    assert!(
        c["summary"]
            .as_str()
            .unwrap()
            .contains("did not answer in time"),
        "{c}"
    );
    assert_eq!(code, 1);
}

#[test]
fn a_socket_nobody_listens_on_is_a_stopped_engine() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("dead.sock");
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    let (code, v, _) = run_json(
        nvctk()
            .args(["doctor", "--format", "json"])
            .env("DOCKER_HOST", format!("unix://{}", sock.display())),
    );
    let c = check(&v, "docker.unreachable");
    assert_eq!(c["status"], "error");
    assert!(
        c["summary"].as_str().unwrap().contains("not running"),
        "{c}"
    );
    assert_eq!(code, 1);
}
