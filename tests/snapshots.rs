//! Snapshot save → replay gives the same findings; saved snapshots are redacted; the human
//! and JSON output of a few fixtures is pinned (insta).

mod common;
use common::*;
use std::path::Path;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn statuses(v: &serde_json::Value) -> Vec<(String, String, String)> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].to_string(),
                c["status"].to_string(),
                c["summary"].to_string(),
            )
        })
        .collect()
}

/// A host mounted at --root (here a fixture's root/) with the fake NVML: save it, replay it.
#[test]
fn saving_then_replaying_gives_the_same_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let host = tmp.path().join("host");
    copy_dir(&fixture("H01-healthy-native").join("root"), &host);
    let lib = fake_nvml(
        &tmp.path().join("lib"),
        &serde_json::json!({"driver_version": "550.90.07", "cuda_driver_version": 12040,
            "devices": [{"index": 0, "name": "NVIDIA GeForce RTX 4090", "uuid": "GPU-5c6a8a1e-1f3b-4c2d-9e8f-0123456789ab",
                         "memory_total_bytes": 25757220864u64, "compute_capability": "8.9"}]}),
    );
    let live = |extra: &[&str]| {
        let mut c = nvctk();
        c.args(["doctor", "--format", "json", "--root"])
            .arg(&host)
            .arg("--nvml-lib")
            .arg(&lib)
            .args(extra);
        run_json(&mut c).1
    };
    let before = live(&[]);
    for dest in ["snap", "snap.tar.gz"] {
        let out = tmp.path().join(dest);
        let saved = nvctk()
            .args(["snapshot", "save"])
            .arg(&out)
            .arg("--root")
            .arg(&host)
            .arg("--nvml-lib")
            .arg(&lib)
            .output()
            .unwrap();
        assert!(
            saved.status.success(),
            "{}",
            String::from_utf8_lossy(&saved.stderr)
        );
        let (_, replay, _) = run_json(
            nvctk()
                .args(["doctor", "--format", "json", "--snapshot"])
                .arg(&out),
        );
        assert_eq!(replay["source"], "snapshot");
        assert_eq!(statuses(&before), statuses(&replay), "{dest}");
        assert_eq!(before["host"], replay["host"], "{dest}");
    }
    // The GPU UUID never reaches the snapshot.
    let nvml = std::fs::read_to_string(tmp.path().join("snap/nvml.json")).unwrap();
    assert!(!nvml.contains("5c6a8a1e"), "{nvml}");
    assert!(nvml.contains("GPU-redacted-0"));
    // Only what doctor read was recorded.
    assert!(tmp.path().join("snap/root/etc/os-release").exists());
    assert!(tmp.path().join("snap/root/etc/docker/daemon.json").exists());
    assert!(!tmp.path().join("snap/root/etc/shadow").exists());
}

#[test]
fn a_live_snapshot_of_this_machine_is_redacted() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("live");
    let saved = nvctk()
        .args(["snapshot", "save"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        saved.status.success(),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    let mut leaks = Vec::new();
    fn walk(p: &Path, needle: &str, leaks: &mut Vec<String>) {
        for e in std::fs::read_dir(p).unwrap().filter_map(|e| e.ok()) {
            if e.path().is_dir() {
                walk(&e.path(), needle, leaks);
            } else if std::fs::read_to_string(e.path())
                .unwrap_or_default()
                .contains(needle)
            {
                leaks.push(e.path().display().to_string());
            }
        }
    }
    if hostname.len() > 2 && hostname != "localhost" {
        walk(&out, &hostname, &mut leaks);
    }
    assert!(
        leaks.is_empty(),
        "host name {hostname} leaked into {leaks:?}"
    );
    // And it replays.
    let (_, v, _) = run_json(
        nvctk()
            .args(["doctor", "--format", "json", "--snapshot"])
            .arg(&out),
    );
    assert_eq!(v["checks"].as_array().unwrap().len(), 38);
}

#[test]
fn broken_snapshots_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = nvctk()
        .args(["doctor", "--snapshot"])
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is it an nvctk snapshot?"));
    std::fs::write(empty.join("nvctk-snapshot.json"), r#"{"format": 2}"#).unwrap();
    let out = nvctk()
        .args(["doctor", "--snapshot"])
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("snapshot format 2 is newer"));
    let bad_tar = tmp.path().join("bad.tar.gz");
    std::fs::write(&bad_tar, b"not a tarball").unwrap();
    let out = nvctk()
        .args(["doctor", "--snapshot"])
        .arg(&bad_tar)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a .tar.gz snapshot"));
}

fn human(name: &str, extra: &[&str]) -> String {
    let out = nvctk()
        .args(["doctor", "--snapshot"])
        .arg(fixture(name))
        .args(extra)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pinned_human_output() {
    insta::assert_snapshot!("h01_human", human("H01-healthy-native", &[]));
    insta::assert_snapshot!("c03_human", human("C03-wsl2-daemon-json-not-applied", &[]));
    insta::assert_snapshot!(
        "c04_human_quiet",
        human("C04-daemon-json-missing-comma", &["-q"])
    );
    insta::assert_snapshot!("c02_human_verbose", human("C02-no-nvidia-gpu", &["-v"]));
}

#[test]
fn pinned_json_output() {
    let (_, mut v, _) = run_json(
        nvctk()
            .args(["doctor", "--format", "json", "--cuda", "12.8", "--snapshot"])
            .arg(fixture("C09-driver-too-old-for-cuda")),
    );
    v["nvctk_version"] = serde_json::json!("[version]");
    insta::assert_json_snapshot!("c09_json", v);
}

#[test]
fn damaged_recordings_are_refused_not_judged() {
    let tmp = tempfile::tempdir().unwrap();
    for (file, body, says) in [
        (
            "docker.json",
            r#"{"endpoint": 5}"#,
            "docker.json has a non-text `endpoint`",
        ),
        (
            "docker.json",
            r#"{"endpoint": "unix:///x"}"#,
            "docker.json needs `version` and `info`",
        ),
        (
            "nvml.json",
            r#"{"driver_version": 550}"#,
            "nvml.json does not match snapshot format 1",
        ),
    ] {
        let dir = tmp.path().join(file.replace('.', "-"));
        copy_dir(&fixture("H01-healthy-native"), &dir);
        std::fs::write(dir.join(file), body).unwrap();
        let out = nvctk()
            .args(["doctor", "--snapshot"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{file}: {body}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }
}

/// When dpkg owns the docker binary on PATH, its package version is the CLI's version and
/// the CLI is not started (it costs more than everything else doctor does).
#[test]
fn the_cli_version_comes_from_the_package_that_owns_the_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("h01");
    copy_dir(&fixture("H01-healthy-native"), &dir);
    std::fs::remove_file(dir.join("commands/docker-client.json")).unwrap();
    let dpkg = std::fs::read_to_string(dir.join("root/var/lib/dpkg/status")).unwrap();
    let cli_version = dpkg
        .split("\n\n")
        .find(|s| s.starts_with("Package: docker-ce-cli\n"))
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Version: ")))
        .unwrap()
        .to_string();
    let info = dir.join("root/var/lib/dpkg/info");
    std::fs::create_dir_all(&info).unwrap();
    std::fs::write(
        info.join("docker-ce-cli.list"),
        "/.\n/usr\n/usr/bin\n/usr/bin/docker\n",
    )
    .unwrap();
    let (_, v, _) = run_json(
        nvctk()
            .args(["doctor", "--format", "json", "--snapshot"])
            .arg(&dir),
    );
    let upstream = cli_version
        .split_once(':')
        .map(|x| x.1)
        .unwrap_or(&cli_version);
    let upstream = upstream.rsplit_once('-').map(|x| x.0).unwrap_or(upstream);
    assert_eq!(
        check(&v, "docker.not-installed")["summary"],
        format!("Docker CLI {upstream} installed")
    );
    assert_eq!(status(&v, "docker.client-too-old"), "ok");
}
