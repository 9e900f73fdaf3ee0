// Embeds docs/checks/<id>.md for `nvctk explain`, so the user docs and the binary never drift.
use std::fmt::Write;

fn main() {
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
