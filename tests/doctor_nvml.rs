//! NVML through the real dlopen path, answered by our fake libnvidia-ml.

mod common;
use common::*;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

/// A host root with a loaded 550.40.07 kernel module and matching libraries.
fn host_root(dir: &Path, module: &str) {
    let w = |p: &str, t: &str| {
        let f = dir.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, t).unwrap();
    };
    w(
        "etc/os-release",
        "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\n",
    );
    w("proc/sys/kernel/osrelease", "6.5.0-35-generic\n");
    w(
        "proc/modules",
        "nvidia 56823808 1 nvidia_uvm, Live 0x0000000000000000 (POE)\n",
    );
    w(
        "proc/driver/nvidia/version",
        &format!(
            "NVRM version: NVIDIA UNIX x86_64 Kernel Module  {module}  Fri May 31 09:35:42 UTC 2024\n"
        ),
    );
    w(
        &format!("usr/lib/x86_64-linux-gnu/libnvidia-ml.so.{module}"),
        "",
    );
    w("dev/nvidia0", "");
    w("dev/nvidiactl", "");
}

fn doctor(root: &Path, lib: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let (code, v, _) = run_json(
        nvctk()
            .args(["doctor", "--format", "json", "--root"])
            .arg(root)
            .arg("--nvml-lib")
            .arg(lib)
            .args(extra),
    );
    (code, v)
}

#[test]
fn driver_cuda_and_gpus_come_from_nvml() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    host_root(&root, "550.144.03");
    let lib = fake_nvml(
        &tmp.path().join("lib"),
        &json!({"driver_version": "550.144.03", "cuda_driver_version": 12040,
                "devices": [{"index": 0, "name": "NVIDIA GeForce RTX 4090", "uuid": "GPU-1", "memory_total_bytes": 25757220864u64, "compute_capability": "8.9"},
                            {"index": 1, "name": "NVIDIA L4", "uuid": "GPU-2", "memory_total_bytes": 24152899584u64, "compute_capability": "8.9"}]}),
    );
    let (_, v) = doctor(&root, &lib, &[]);
    assert_eq!(v["host"]["driver"], "550.144.03");
    assert_eq!(
        v["host"]["gpus"],
        json!(["NVIDIA GeForce RTX 4090", "NVIDIA L4"])
    );
    assert_eq!(status(&v, "gpu.none"), "ok");
    assert_eq!(status(&v, "driver.nvml-unavailable"), "ok");
    assert_eq!(
        check(&v, "driver.nvml-unavailable")["summary"],
        "NVML answers: driver 550.144.03, 2 GPUs"
    );
    let cuda = check(&v, "driver.cuda-unsupported");
    assert_eq!(cuda["status"], "info");
    assert!(
        cuda["summary"].as_str().unwrap().contains("CUDA 12.4"),
        "{cuda}"
    );

    // C09: the same driver asked for CUDA 12.8.
    let (code, v) = doctor(&root, &lib, &["--cuda", "12.8"]);
    let cuda = check(&v, "driver.cuda-unsupported");
    assert_eq!(cuda["status"], "error", "{cuda}");
    assert!(cuda["details"].to_string().contains("570.26"), "{cuda}");
    assert_eq!(code, 1);
    assert_eq!(status(&v, "driver.too-old"), "ok");
}

#[test]
fn nvml_error_modes_map_to_their_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    host_root(&root, "550.40.07");
    let cases = [
        ("lib-rm-version-mismatch", "driver.library-mismatch"),
        ("driver-not-loaded", "driver.nvml-unavailable"),
        ("no-permission", "driver.nvml-unavailable"),
    ];
    for (i, (kind, id)) in cases.iter().enumerate() {
        let lib = fake_nvml(
            &tmp.path().join(format!("lib{i}")),
            &json!({"error": {"kind": kind, "message": "from the fake"}}),
        );
        let (code, v) = doctor(&root, &lib, &[]);
        assert_eq!(status(&v, id), "error", "{kind} should fire {id}: {v}");
        assert_eq!(code, 1);
        assert_eq!(
            status(&v, "gpu.none"),
            "ok",
            "{kind}: a GPU with a loaded module is still a GPU"
        );
        if *id == "driver.library-mismatch" {
            assert_eq!(
                status(&v, "driver.nvml-unavailable"),
                "skip",
                "no pile-up on a mismatch"
            );
        }
    }
}

#[test]
fn a_hung_nvml_costs_only_the_deadline() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    host_root(&root, "550.144.03");
    let lib = fake_nvml(
        &tmp.path().join("lib"),
        &json!({"driver_version": "550.144.03", "cuda_driver_version": 12040, "devices": [], "hang_ms": 20000}),
    );
    let start = Instant::now();
    let (_, v) = doctor(&root, &lib, &["--timeout", "1"]);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    let c = check(&v, "driver.nvml-unavailable");
    assert_eq!(c["status"], "error");
    assert!(c["summary"].as_str().unwrap().contains("deadline"), "{c}");
}
