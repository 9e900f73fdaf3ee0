//! What makes nvctk a good citizen on a workstation or a package: completions and man pages
//! for every command, --version with build info, and the same -q/-v/--color on every command.

mod common;
use common::*;

/// Every subcommand, as `nvctk help` lists it (so a new one is checked without editing this).
fn subcommands() -> Vec<String> {
    let out = nvctk().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let names: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|n| n != "help")
        .collect();
    for expected in [
        "doctor",
        "preflight",
        "report",
        "setup",
        "snapshot",
        "explain",
        "completions",
        "man",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in {names:?}"
        );
    }
    names
}

#[test]
fn completions_cover_every_subcommand_in_each_shell() {
    let subs = subcommands();
    for shell in ["bash", "zsh", "fish"] {
        let out = nvctk().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        for s in &subs {
            assert!(script.contains(s.as_str()), "{shell} completion lacks {s}");
        }
        // Nested commands and preflight's flags complete too.
        for word in ["merge", "require-runtime", "allow", "junit", "github"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let bash = nvctk().args(["completions", "bash"]).output().unwrap();
    if which("bash").is_some() {
        // The bash script at least parses.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("nvctk.bash");
        std::fs::write(&f, &bash.stdout).unwrap();
        let st = std::process::Command::new("bash")
            .arg("-n")
            .arg(&f)
            .status()
            .unwrap();
        assert!(st.success());
    }
    let bad = nvctk().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("error: "));
}

#[test]
fn man_pages_document_every_subcommand() {
    let subs = subcommands();
    let out = nvctk().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH nvctk 1"),
        "{page}"
    );
    for s in &subs {
        assert!(
            page.contains(&format!("nvctk\\-{s}")) || page.contains(s.as_str()),
            "man page lacks {s}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = nvctk()
        .args(["-q", "man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "-q keeps man --dir silent");
    for s in &subs {
        let p = dir.path().join(format!("nvctk-{s}.1"));
        let text = std::fs::read_to_string(&p).unwrap_or_else(|_| panic!("no {}", p.display()));
        assert!(
            text.contains(".TH nvctk\\-") || text.contains(".TH nvctk-"),
            "{}",
            p.display()
        );
    }
    for nested in [
        "nvctk.1",
        "nvctk-report-merge.1",
        "nvctk-setup-docker.1",
        "nvctk-snapshot-save.1",
    ] {
        assert!(dir.path().join(nested).exists(), "{nested}");
    }
    let preflight = std::fs::read_to_string(dir.path().join("nvctk-preflight.1")).unwrap();
    assert!(preflight.contains("require\\-runtime") && preflight.contains(".nvctk.toml"));
}

#[test]
fn version_carries_build_info() {
    let out = nvctk().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = String::from_utf8_lossy(&out.stdout);
    let line = v.trim();
    let want = format!("nvctk {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&want), "{line}");
    assert!(
        line.contains("-linux-")
            && (line.ends_with("debug build)") || line.ends_with("release build)")),
        "{line}"
    );
    let commit = line
        .split("(commit ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    assert!(
        commit == "unknown" || commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{commit}"
    );
    // Subcommands answer --version the same way.
    let sub = nvctk().args(["preflight", "--version"]).output().unwrap();
    assert!(String::from_utf8_lossy(&sub.stdout).contains(&want[6..]));
}

#[test]
fn quiet_verbose_and_colour_flags_work_on_every_command() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/C14-default-runtime-nvidia");
    let f = fixture.to_str().unwrap();
    for cmd in [
        vec!["doctor", "--snapshot", f],
        vec!["preflight", "--no-config", "--snapshot", f],
    ] {
        let q = nvctk().args(&cmd).arg("-q").output().unwrap();
        let n = nvctk().args(&cmd).output().unwrap();
        let v = nvctk().args(&cmd).arg("--verbose").output().unwrap();
        let (q, n, v) = (q.stdout.len(), n.stdout.len(), v.stdout.len());
        assert!(
            q < n && n < v,
            "{cmd:?}: quiet {q} < normal {n} < verbose {v}"
        );
        let both = nvctk().args(&cmd).args(["-q", "-v"]).output().unwrap();
        assert_eq!(both.status.code(), Some(2), "-q and -v conflict");
        assert!(String::from_utf8_lossy(&both.stderr).starts_with("error: "));
        let coloured = nvctk()
            .args(&cmd)
            .args(["--color", "always"])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&coloured.stdout).contains('\u{1b}'),
            "{cmd:?}"
        );
        let plain = nvctk()
            .args(&cmd)
            .env_remove("NO_COLOR")
            .env("CLICOLOR_FORCE", "1")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&plain.stdout).contains('\u{1b}'),
            "NO_COLOR wins over CLICOLOR_FORCE"
        );
    }
    // Machine formats never carry colour, even when forced.
    let junit = nvctk()
        .args([
            "--color",
            "always",
            "preflight",
            "--no-config",
            "--format",
            "junit",
            "--snapshot",
            f,
        ])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&junit.stdout).contains('\u{1b}'));
}

#[test]
fn completions_offer_api_names_and_check_ids() {
    let out = nvctk().args(["completions", "zsh"]).output().unwrap();
    let zsh = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = |needle: &str| {
        zsh.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} in the zsh script"))
            .to_string()
    };
    assert!(
        line("*--api=[APIs to prove").ends_with(":API:(cuda opengl vulkan opencl video all)' \\"),
        "{}",
        line("*--api=[APIs to prove")
    );
    assert!(
        line("*--api=[Run these API tests").contains(":LIST:(cuda opengl vulkan opencl video all)")
    );
    for needle in ["*--allow=[", "::id -- A check id"] {
        let l = line(needle);
        for id in [
            "docker.runtime-missing",
            "toolkit.not-installed",
            "preflight.require-runtime",
            "api.vulkan",
        ] {
            assert!(l.contains(id), "{needle}: no {id} in {l}");
        }
    }
    let out = nvctk().args(["completions", "bash"]).output().unwrap();
    let bash = String::from_utf8_lossy(&out.stdout);
    assert!(bash.contains("compgen -W \"cuda opengl vulkan opencl video all\""));
    assert!(bash.contains("docker.runtime-missing"));
    // Completion lists the ids; an unknown one still gets nvctk's own did-you-mean.
    let out = nvctk().args(["explain", "docker.runtim"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: no check has the id `docker.runtim`\nhint: did you mean "),
        "{err}"
    );
    // --help does not drown in the id list.
    let out = nvctk().args(["preflight", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.contains("toolkit.not-installed"), "{help}");
    assert!(help.contains("--api <LIST>"), "{help}");
}

#[test]
fn explain_prints_the_section_of_a_preflight_id_not_the_whole_page() {
    for (id, must) in [
        ("preflight.require-runtime", "sudo nvctk setup docker"),
        ("api.cuda", "nvidia-smi"),
        ("api.vulkan", "llvmpipe"),
        ("api.opengl", "eglinfo"),
        ("api.opencl", "clinfo"),
        ("api.video", "libnvidia-encode.so.1"),
    ] {
        let out = nvctk().args(["explain", id]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{id}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with(&format!("### {id}\n\n")), "{id}: {text}");
        assert!(text.contains(must), "{id}: {text}");
        assert!(!text.contains("# nvctk preflight"), "{id}: {text}");
        assert_eq!(text.matches("### ").count(), 1, "{id}: {text}");
    }
}
