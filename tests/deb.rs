//! The .deb as a user installs it: packaging/build-deb.sh packages the binary this test run
//! built, `dpkg -x` unpacks it into a temporary root, and the installed binary, completions
//! and man pages are there and work. Needs cargo-deb and dpkg; under CI their absence fails.

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

fn cargo_deb_available() -> bool {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = Command::new(&cargo)
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
        && which("dpkg-deb").is_some();
    if !ok && std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but cargo-deb or dpkg-deb is missing: cargo install cargo-deb --locked (see .ci/run)"
        );
    }
    if !ok {
        eprintln!("skipping: needs cargo-deb and dpkg-deb");
    }
    ok
}

#[test]
fn deb_installs_binary_completions_and_man_pages() {
    if !cargo_deb_available() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(root.join("packaging/build-deb.sh"))
        .args([
            "--fast",
            "--binary",
            env!("CARGO_BIN_EXE_nvctk"),
            "--output",
        ])
        .arg(out_dir.path())
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build-deb.sh failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let deb = std::fs::read_dir(out_dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("a .deb");
    let name = deb.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with(&format!("nvctk_{}-", env!("CARGO_PKG_VERSION"))),
        "{name}"
    );

    let info = Command::new("dpkg-deb")
        .arg("-f")
        .arg(&deb)
        .args(["Package", "Depends"])
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Package: nvctk"), "{info}");

    let inst = tempfile::tempdir().unwrap();
    let st = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(inst.path())
        .status()
        .unwrap();
    assert!(st.success());
    let r = inst.path();
    for f in [
        "usr/share/bash-completion/completions/nvctk",
        "usr/share/zsh/vendor-completions/_nvctk",
        "usr/share/fish/vendor_completions.d/nvctk.fish",
        "usr/share/man/man1/nvctk.1.gz",
        "usr/share/man/man1/nvctk-preflight.1.gz",
        "usr/share/man/man1/nvctk-report-merge.1.gz",
        "usr/share/doc/nvctk/ci/github-actions.yml",
        "usr/share/doc/nvctk/deploy/nvctk-daemonset.yaml",
    ] {
        assert!(r.join(f).is_file(), "the package lacks /{f}");
    }
    let bin = r.join("usr/bin/nvctk");
    let v = Command::new(&bin).arg("--version").output().unwrap();
    assert!(v.status.success());
    assert!(
        String::from_utf8_lossy(&v.stdout)
            .starts_with(&format!("nvctk {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    let d = Command::new(&bin)
        .args(["doctor", "--snapshot"])
        .arg(root.join("fixtures/C01-toolkit-not-installed"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(d.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&d.stdout)
            .contains("[✗] the NVIDIA Container Toolkit is not installed (toolkit.not-installed)"),
        "{}",
        String::from_utf8_lossy(&d.stdout)
    );
}
