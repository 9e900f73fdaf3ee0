//! docs/deploy/nvctk-daemonset.yaml: valid Kubernetes (kubernetes-validate, a schema-aware
//! validator from PyPI, when installed; .ci/run installs it) and the fields that make it
//! nvctk's fleet doctor (GPU nodes only, host root read-only at /host, doctor --root /host).

mod common;
use common::which;
use std::path::Path;
use std::process::Command;

fn manifest_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/deploy/nvctk-daemonset.yaml")
}

#[test]
fn daemonset_mounts_the_host_read_only_and_runs_doctor_on_gpu_nodes() {
    let text = std::fs::read_to_string(manifest_path()).unwrap();
    let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let ds = docs
        .iter()
        .find(|d| d["kind"] == "DaemonSet")
        .expect("a DaemonSet");
    assert_eq!(ds["apiVersion"], "apps/v1");
    let spec = &ds["spec"];
    assert_eq!(
        spec["selector"]["matchLabels"],
        spec["template"]["metadata"]["labels"]
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["nodeSelector"]["nvidia.com/gpu.present"], "true");
    assert!(
        pod["tolerations"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|t| t["key"] == "nvidia.com/gpu")
    );
    let volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|v| v["hostPath"]["path"] == "/")
        .expect("the host root as a hostPath volume");
    let c = &pod["containers"][0];
    let mount = c["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| m["name"] == volume["name"])
        .expect("the host root is mounted");
    assert_eq!(mount["mountPath"], "/host");
    assert_eq!(mount["readOnly"], true);
    let sc = &c["securityContext"];
    assert_eq!(sc["privileged"], false);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    let script = c["args"][0].as_str().unwrap();
    assert!(
        script.contains("nvctk doctor --root /host --format json"),
        "{script}"
    );
    assert!(c["resources"]["limits"]["memory"].is_string());
}

#[test]
fn daemonset_validates_against_the_kubernetes_schemas() {
    let Some(tool) = which("kubernetes-validate") else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "CI is set but kubernetes-validate is missing: pip install kubernetes-validate (see .ci/run)"
            );
        }
        eprintln!("skipping: kubernetes-validate is not installed");
        return;
    };
    let run = |path: &Path| {
        Command::new(&tool)
            .args(["--strict", "--no-warn"])
            .arg(path)
            .output()
            .unwrap()
    };
    let out = run(&manifest_path());
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The validator does catch a wrong field: a misspelt readOnly must fail.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    let text = std::fs::read_to_string(manifest_path()).unwrap();
    std::fs::write(&broken, text.replace("readOnly: true", "readonly: true")).unwrap();
    assert!(!run(&broken).status.success());
}
