// Embeds docs/checks/<id>.md for `nvctk explain`, so the user docs and the binary never drift,
// and records build info for `nvctk --version` (git commit, target, profile).
use std::fmt::Write;

fn main() {
    build_info();
    println!("cargo:rerun-if-changed=docs/checks");
    let dir = std::path::Path::new("docs/checks");
    let mut entries: Vec<String> = std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".md") && n != "README.md")
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    let mut out = String::from("pub const DOCS: &[(&str, &str)] = &[\n");
    for name in entries {
        let id = name.trim_end_matches(".md");
        let _ = writeln!(
            out,
            "    ({id:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/docs/checks/{name}\"))),"
        );
    }
    out.push_str("];\n");
    let dest =
        std::path::Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("check_docs.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}

/// NVCTK_GIT_COMMIT (short hash, `unknown` outside git,
/// e.g. when built from a packaged crate), NVCTK_TARGET and NVCTK_PROFILE.
fn build_info() {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "--short=10", "HEAD"]).unwrap_or_else(|| "unknown".into());
    // Rebuild when HEAD moves: HEAD itself and the branch it points at (a worktree's HEAD
    // lives outside ./.git, so ask git where they are).
    let mut watch = vec!["HEAD".to_string()];
    watch.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for p in watch {
        if let Some(path) = git(&["rev-parse", "--git-path", &p]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rustc-env=NVCTK_GIT_COMMIT={commit}");
    println!(
        "cargo:rustc-env=NVCTK_TARGET={}",
        std::env::var("TARGET").unwrap_or_else(|_| "unknown".into())
    );
    println!(
        "cargo:rustc-env=NVCTK_PROFILE={}",
        std::env::var("PROFILE").unwrap_or_else(|_| "unknown".into())
    );
}
