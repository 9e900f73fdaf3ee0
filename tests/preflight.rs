//! `nvctk preflight` as a CI job sees it: strict exit codes and the allow-list (flags and
//! .nvctk.toml), JUnit XML checked by a strict parser, GitHub annotations and job summary,
//! JSON against its schema, the global time limit, and a real private dockerd.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Output;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Runs preflight in an empty folder (no .nvctk.toml) unless `cwd` is given.
fn preflight(cwd: Option<&Path>, args: &[&str]) -> Output {
    let empty = tempfile::tempdir().unwrap();
    nvctk()
        .arg("preflight")
        .args(args)
        .current_dir(cwd.unwrap_or(empty.path()))
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn warnings_fail_unless_allowed_by_flag_or_config_file() {
    let c14 = fixture("C14-default-runtime-nvidia");
    let snap = c14.to_str().unwrap();
    // doctor passes this host (warnings only) ...
    let doctor = nvctk()
        .args(["doctor", "--snapshot", snap])
        .output()
        .unwrap();
    assert_eq!(doctor.status.code(), Some(0));
    // ... preflight does not: strict by default.
    let out = preflight(None, &["--snapshot", snap]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("preflight failed: 3 problems: os.unsupported-distro (warn), docker.default-runtime-nvidia (warn), toolkit.vulnerable (warn)"),
        "{text}"
    );
    assert!(
        text.contains("hint: a warning you accept can be allowed with --allow ID"),
        "{text}"
    );

    // Two allowed: still failing on the third.
    let out = preflight(
        None,
        &[
            "--snapshot",
            snap,
            "--allow",
            "os.unsupported-distro,toolkit.vulnerable",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("preflight failed: 1 problem: docker.default-runtime-nvidia (warn) · allowed: os.unsupported-distro (warn), toolkit.vulnerable (warn)"), "{}", stdout(&out));

    // The repository's .nvctk.toml allows two, the flag the third: lists are joined.
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(
        repo.path().join(".nvctk.toml"),
        "[preflight]\nallow = [\"os.unsupported-distro\", \"toolkit.vulnerable\"]\n",
    )
    .unwrap();
    let out = preflight(Some(repo.path()), &["--snapshot", snap]);
    assert_eq!(out.status.code(), Some(1));
    let out = preflight(
        Some(repo.path()),
        &[
            "--snapshot",
            snap,
            "--allow",
            "docker.default-runtime-nvidia",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("preflight passed · allowed: "),
        "{}",
        stdout(&out)
    );
    // --no-config ignores the file; --config reads another.
    let out = preflight(
        Some(repo.path()),
        &[
            "--snapshot",
            snap,
            "--no-config",
            "--allow",
            "docker.default-runtime-nvidia",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let elsewhere = tempfile::tempdir().unwrap();
    let cfg = repo.path().join(".nvctk.toml");
    let out = preflight(
        Some(elsewhere.path()),
        &[
            "--snapshot",
            snap,
            "--config",
            cfg.to_str().unwrap(),
            "--allow",
            "docker.default-runtime-nvidia",
        ],
    );
    assert_eq!(out.status.code(), Some(0));

    // An error fails as well, and the healthy fixture passes with nothing to allow.
    let out = preflight(
        None,
        &[
            "--snapshot",
            fixture("C01-toolkit-not-installed").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = preflight(
        None,
        &[
            "--snapshot",
            fixture("H01-healthy-native").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("preflight passed"));
}

#[test]
fn mistakes_in_flags_and_config_are_nvctk_failures_with_a_reason() {
    let snap = fixture("H01-healthy-native");
    let snap = snap.to_str().unwrap();
    let out = preflight(None, &["--snapshot", snap, "--allow", "docker.runtime"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: `--allow docker.runtime` names no check"),
        "{err}"
    );
    assert!(
        err.contains("hint: did you mean docker.runtime-missing"),
        "{err}"
    );

    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join(".nvctk.toml"), "[preflight]\nalow = []\n").unwrap();
    let out = preflight(Some(repo.path()), &["--snapshot", snap]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("error: ") && err.contains(".nvctk.toml: line 2: unknown field `alow`"),
        "{err}"
    );

    std::fs::write(
        repo.path().join(".nvctk.toml"),
        "[preflight]\napi = \"metal\"\n",
    )
    .unwrap();
    let out = preflight(Some(repo.path()), &["--snapshot", snap]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`api` in ") && stderr(&out).contains("unknown API `metal`"),
        "{}",
        stderr(&out)
    );

    let out = preflight(None, &["--snapshot", snap, "--timeout", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: --timeout 0 must be more than 0 and at most 86400 seconds\n"
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_bad_timeout_mode_or_pull_in_the_config_file_names_the_key_value_and_file() {
    let snap = fixture("H01-healthy-native");
    let snap = snap.to_str().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let cfg = repo.path().join(".nvctk.toml");
    for (text, want) in [
        (
            "[preflight]\ntimeout = 0\n",
            format!(
                "error: `timeout = 0` in {}: must be more than 0 and at most 86400 seconds\n",
                cfg.display()
            ),
        ),
        (
            "[preflight]\nmode = \"gpu\"\n",
            format!(
                "error: `mode = \"gpu\"` in {}: unknown GPU request mode `gpu`; expected gpus, runtime or cdi\n",
                cfg.display()
            ),
        ),
        (
            "[preflight]\npull = \"sometimes\"\n",
            format!(
                "error: `pull = \"sometimes\"` in {}: unknown pull policy `sometimes`; expected missing, always or never\n",
                cfg.display()
            ),
        ),
    ] {
        std::fs::write(&cfg, text).unwrap();
        let out = preflight(Some(repo.path()), &["--snapshot", snap]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert_eq!(stderr(&out), want);
        assert!(stdout(&out).is_empty());
    }
    // A flag wins over the file's bad value.
    std::fs::write(&cfg, "[preflight]\ntimeout = 0\n").unwrap();
    let out = preflight(Some(repo.path()), &["--snapshot", snap, "--timeout", "30"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Asserts the JUnit structure strictly and returns (testcase name → outcome) pairs.
fn junit(xml: &str) -> Vec<(String, String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let num = |n: roxmltree::Node, a: &str| -> usize {
        n.attribute(a)
            .unwrap_or_else(|| panic!("<{}> lacks {a}", n.tag_name().name()))
            .parse()
            .unwrap_or_else(|_| panic!("{a} is not a count"))
    };
    let time = |n: roxmltree::Node| {
        let t: f64 = n
            .attribute("time")
            .expect("time")
            .parse()
            .expect("time is a number");
        assert!(t >= 0.0);
    };
    time(root);
    let mut cases = Vec::new();
    let (mut total, mut failed, mut skipped) = (0, 0, 0);
    for suite in root.children().filter(|n| n.is_element()) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        assert!(["doctor", "requirements", "api"].contains(&suite.attribute("name").unwrap()));
        time(suite);
        let (mut t, mut f, mut s) = (0, 0, 0);
        for case in suite.children().filter(|n| n.is_element()) {
            match case.tag_name().name() {
                "properties" => {
                    for p in case.children().filter(|n| n.is_element()) {
                        assert_eq!(p.tag_name().name(), "property");
                        assert!(p.attribute("name").is_some() && p.attribute("value").is_some());
                    }
                    continue;
                }
                "testcase" => {}
                other => panic!("unexpected <{other}> in <testsuite>"),
            }
            t += 1;
            time(case);
            let classname = case.attribute("classname").expect("classname");
            assert!(classname.starts_with("nvctk."), "{classname}");
            let name = case.attribute("name").expect("name").to_string();
            let children: Vec<_> = case.children().filter(|n| n.is_element()).collect();
            assert!(children.len() <= 1, "{name}: more than one child");
            let outcome = match children.first() {
                None => "pass".to_string(),
                Some(c) => match c.tag_name().name() {
                    "failure" => {
                        f += 1;
                        assert!(!c.attribute("message").unwrap_or("").is_empty());
                        let ty = c.attribute("type").expect("failure type");
                        assert!(ty == "warn" || ty == "error", "{ty}");
                        assert!(
                            c.text().unwrap_or("").contains("\n"),
                            "the failure body has details"
                        );
                        format!("failure:{ty}")
                    }
                    "skipped" => {
                        s += 1;
                        assert!(c.attribute("message").is_some());
                        "skipped".into()
                    }
                    "system-out" => {
                        assert!(c.text().unwrap_or("").starts_with("allowed "));
                        "allowed".into()
                    }
                    other => panic!("unexpected <{other}> in <testcase>"),
                },
            };
            cases.push((suite.attribute("name").unwrap().to_string(), name, outcome));
        }
        assert_eq!(num(suite, "tests"), t);
        assert_eq!(num(suite, "failures"), f);
        assert_eq!(num(suite, "skipped"), s);
        assert_eq!(num(suite, "errors"), 0);
        total += t;
        failed += f;
        skipped += s;
    }
    assert_eq!(num(root, "tests"), total);
    assert_eq!(num(root, "failures"), failed);
    assert_eq!(num(root, "skipped"), skipped);
    cases
}

#[test]
fn junit_has_one_testcase_per_check_and_api_and_parses_strictly() {
    let snap = fixture("C14-default-runtime-nvidia");
    let out = preflight(
        None,
        &[
            "--snapshot",
            snap.to_str().unwrap(),
            "--format",
            "junit",
            "--api",
            "cuda,vulkan",
            "--require-runtime",
            "nvidia",
            "--allow",
            "toolkit.vulnerable",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let cases = junit(&stdout(&out));
    let doctor: Vec<_> = cases.iter().filter(|c| c.0 == "doctor").collect();
    assert_eq!(doctor.len(), 38, "one testcase per catalog check");
    let outcome = |name: &str| {
        cases
            .iter()
            .find(|c| c.1 == name)
            .map(|c| c.2.as_str())
            .unwrap_or_else(|| panic!("no testcase {name}"))
    };
    assert_eq!(outcome("docker.default-runtime-nvidia"), "failure:warn");
    assert_eq!(outcome("os.unsupported-distro"), "failure:warn");
    assert_eq!(outcome("toolkit.vulnerable"), "allowed");
    assert_eq!(outcome("docker.runtime-missing"), "pass");
    assert_eq!(outcome("wsl.version-1"), "skipped");
    assert_eq!(outcome("preflight.require-runtime"), "pass");
    // A snapshot has no engine to run containers on: the API tests are skipped, not passed.
    assert_eq!(outcome("api.cuda"), "skipped");
    assert_eq!(outcome("api.vulkan"), "skipped");

    // Markup in a finding cannot break the XML: C04's parse error quotes daemon.json.
    let out = preflight(
        None,
        &[
            "--snapshot",
            fixture("C04-daemon-json-missing-comma").to_str().unwrap(),
            "--format",
            "junit",
        ],
    );
    let cases = junit(&stdout(&out));
    assert!(
        cases
            .iter()
            .any(|c| c.1 == "docker.daemon-json-invalid" && c.2 == "failure:error")
    );
}

#[test]
fn junit_file_is_written_beside_the_human_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    let out = preflight(
        None,
        &[
            "--snapshot",
            fixture("C01-toolkit-not-installed").to_str().unwrap(),
            "--junit-file",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("[✗] the NVIDIA Container Toolkit is not installed"));
    let cases = junit(&std::fs::read_to_string(&file).unwrap());
    assert!(
        cases
            .iter()
            .any(|c| c.1 == "toolkit.not-installed" && c.2 == "failure:error")
    );
}

#[test]
fn github_format_prints_escaped_annotations_and_appends_a_summary_table() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let snap = fixture("C03-wsl2-daemon-json-not-applied");
    let out = nvctk()
        .args([
            "preflight",
            "--format",
            "github",
            "--allow",
            "toolkit.vulnerable",
            "--snapshot",
        ])
        .arg(&snap)
        .current_dir(dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let annotations: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("::"))
        .collect();
    assert_eq!(annotations.len(), 3, "{text}");
    for a in &annotations {
        // ::cmd title=VALUE::MESSAGE, with `:` and `,` escaped in VALUE and no raw newline.
        let rest = a.strip_prefix("::").unwrap();
        let (cmd, rest) = rest.split_once(' ').unwrap();
        assert!(["error", "warning", "notice"].contains(&cmd), "{a}");
        let (props, message) = rest.split_once("::").expect("properties::message");
        let title = props.strip_prefix("title=").expect("a title");
        assert!(!title.contains(':') && !title.contains(','), "{title}");
        assert!(title.starts_with("nvctk preflight%3A "), "{title}");
        assert!(!message.is_empty() && !message.contains('\r'));
    }
    assert!(
        annotations.iter().any(|a| a.starts_with(
            "::error title=nvctk preflight%3A docker.daemon-json-not-applied::the running engine has not loaded"
        ) && a.contains("%0Afix: ")),
        "{text}"
    );
    assert!(
        annotations
            .iter()
            .any(|a| a
                .starts_with("::warning title=nvctk preflight%3A docker.default-runtime-nvidia::")),
        "{text}"
    );
    assert!(
        annotations
            .iter()
            .any(|a| a
                .starts_with("::notice title=nvctk preflight%3A toolkit.vulnerable (allowed)::")),
        "{text}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("preflight failed: 2 problems"),
        "{text}"
    );

    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("# earlier step\n## ❌ nvctk preflight failed: 2 problems\n"),
        "{md}"
    );
    let table: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| Result |"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(table[0], "| Result | Check | What | Fix |");
    assert_eq!(table[1], "|---|---|---|---|");
    assert_eq!(table.len(), 2 + 3, "{md}");
    for row in &table[2..] {
        assert_eq!(
            row.matches(" | ").count(),
            3,
            "4 cells, pipes escaped: {row}"
        );
    }
    assert!(
        table
            .iter()
            .any(|r| r.starts_with("| ❌ error | `docker.daemon-json-not-applied` |")),
        "{md}"
    );
    assert!(
        table
            .iter()
            .any(|r| r.starts_with("| ☑️ allowed | `toolkit.vulnerable` |")),
        "{md}"
    );
    assert!(md.contains("<details><summary>All 38 results</summary>"));

    // Without GITHUB_STEP_SUMMARY nothing is written anywhere, and the job still reports.
    let out = preflight(
        None,
        &["--format", "github", "--snapshot", snap.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn json_follows_its_schema_and_embeds_a_valid_doctor_report() {
    let load = |p: &str| -> jsonschema::Validator {
        let raw = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap();
        jsonschema::validator_for(&serde_json::from_str(&raw).unwrap()).unwrap()
    };
    let (pre, doc) = (
        load("docs/schema/preflight-v1.json"),
        load("docs/schema/doctor-v1.json"),
    );
    for (name, extra) in [
        (
            "C14-default-runtime-nvidia",
            vec!["--require-runtime", "nvidia", "--api", "all"],
        ),
        (
            "C02-no-nvidia-gpu",
            vec!["--require-runtime", "nvidia", "--allow", "gpu.none"],
        ),
        ("H01-healthy-native", vec![]),
    ] {
        let snap = fixture(name);
        let (code, v, _) = run_json(
            nvctk()
                .args(["preflight", "--format", "json", "--no-config", "--snapshot"])
                .arg(&snap)
                .args(&extra),
        );
        let errors: Vec<String> = pre
            .iter_errors(&v)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        let errors: Vec<String> = doc
            .iter_errors(&v["doctor"])
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{name} doctor: {errors:#?}");
        assert_eq!(v["exit_code"], code);
        assert_eq!(v["status"], if code == 0 { "pass" } else { "fail" });
    }
}

#[test]
fn the_whole_job_is_bounded_by_timeout() {
    // An engine socket that accepts and never answers: each probe waits its own deadline,
    // the job gives up at --timeout and says what it was doing.
    let dir = tempfile::Builder::new()
        .prefix("nvh")
        .tempdir_in("/tmp")
        .unwrap();
    let sock = dir.path().join("s");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let start = std::time::Instant::now();
    let out = nvctk()
        .args([
            "preflight",
            "--no-config",
            "--timeout",
            "1",
            "--probe-timeout",
            "30",
            "--format",
            "github",
        ])
        .env("DOCKER_HOST", format!("unix://{}", sock.display()))
        .output()
        .unwrap();
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
    let err = stderr(&out);
    assert!(err.starts_with("error: preflight did not finish within 1 s (--timeout); it was still inspecting the host"), "{err}");
    assert!(err.contains("hint: raise --timeout"), "{err}");
    assert!(
        stdout(&out)
            .starts_with("::error title=nvctk preflight::preflight did not finish within 1 s"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn require_runtime_against_a_real_engine() {
    if !dockerd_available() {
        return;
    }
    let plain = Dockerd::start("{}");
    let run = |d: &Dockerd, extra: &[&str]| {
        run_json(
            nvctk()
                .args([
                    "preflight",
                    "--no-config",
                    "--format",
                    "json",
                    "--require-runtime",
                    "nvidia",
                ])
                .args(extra)
                .env("DOCKER_HOST", d.host()),
        )
    };
    let (_, v, _) = run(&plain, &[]);
    let req = &v["requirements"][0];
    assert_eq!(req["id"], "preflight.require-runtime");
    assert_eq!(req["status"], "error", "{req}");
    assert!(
        req["summary"]
            .as_str()
            .unwrap()
            .contains("requires runtime nvidia but the engine does not have it")
    );
    // This machine has no GPU: allow what doctor finds here, so only the runtime is judged.
    let mut allow: Vec<String> = v["doctor"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "warn" || c["status"] == "error")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    allow.sort();
    let allow = allow.join(",");
    let (code, v, _) = run(&plain, &["--allow", &allow]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        v["failures"],
        serde_json::json!(["preflight.require-runtime"])
    );
    drop(plain);

    let bin = tempfile::tempdir().unwrap();
    let shim = write_runtime_shim(bin.path());
    let with = Dockerd::start(&format!(
        "{{\"runtimes\": {{\"nvidia\": {{\"path\": \"{}\"}}}}}}",
        shim.display()
    ));
    let (code, v, _) = run(&with, &["--allow", &allow]);
    assert_eq!(
        v["requirements"][0]["status"], "ok",
        "{}",
        v["requirements"]
    );
    assert_eq!(
        v["requirements"][0]["summary"],
        "the engine has runtime nvidia; its binary exists"
    );
    assert_eq!(code, 0, "{v}");
    let (_, v, _) = run(&with, &["--allow", &allow, "--require-runtime", "runc"]);
    assert_eq!(
        v["requirements"][0]["summary"],
        "the engine has runtimes nvidia, runc; their binaries exist"
    );
    // A runtime nvctk does not manage gets its own fix, not `nvctk setup docker`.
    let (code, v, _) = run(&with, &["--allow", &allow, "--require-runtime", "kata"]);
    assert_eq!(code, 1);
    let req = &v["requirements"][0];
    assert_eq!(
        req["summary"],
        "the pipeline requires runtime kata but the engine does not have it"
    );
    assert_eq!(
        req["remediation"]["text"],
        "Register kata in daemon.json `runtimes` (\"runtimes\": {\"kata\": {\"path\": \"/path/to/its/binary\"}}), then restart or reload the engine."
    );
    assert_eq!(
        req["remediation"]["commands"],
        serde_json::json!(["sudo systemctl reload docker"])
    );
    let out = nvctk()
        .args([
            "preflight",
            "--no-config",
            "--require-runtime",
            "nvidia,kata",
            "--allow",
            &allow,
        ])
        .env("DOCKER_HOST", with.host())
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("  [✗] the pipeline requires runtime kata but the engine does not have it (preflight.require-runtime)\n      engine runtimes: "),
        "{text}"
    );
    assert!(
        text.contains("      fix: Register kata in daemon.json `runtimes`"),
        "{text}"
    );
    assert!(!text.contains("nvctk setup docker"), "{text}");
    // The same run as JUnit parses strictly and shows the requirement passing.
    let out = nvctk()
        .args([
            "preflight",
            "--no-config",
            "--format",
            "junit",
            "--require-runtime",
            "nvidia",
            "--allow",
            &allow,
        ])
        .env("DOCKER_HOST", with.host())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let cases = junit(&stdout(&out));
    assert!(
        cases
            .iter()
            .any(|c| c.1 == "preflight.require-runtime" && c.2 == "pass")
    );
}

#[test]
fn every_ci_recipe_command_runs_as_written() {
    // The nvctk command of each recipe in docs/ci, against a healthy fixture host.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci");
    let gha: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root.join("github-actions.yml")).unwrap())
            .unwrap();
    let steps = gha["jobs"]["preflight"]["steps"].as_sequence().unwrap();
    let gha_cmd = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|r| r.contains("nvctk preflight"))
        .unwrap()
        .to_string();
    assert!(
        gha["jobs"]["preflight"]["runs-on"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|l| l == "self-hosted")
    );
    assert_eq!(gha["jobs"]["build"]["needs"], "preflight");
    let gl: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(root.join("gitlab-ci.yml")).unwrap())
            .unwrap();
    let job = &gl["gpu-preflight"];
    assert_eq!(job["stage"], ".pre");
    assert_eq!(job["artifacts"]["reports"]["junit"], "nvctk-preflight.xml");
    let gl_cmd = job["script"][0].as_str().unwrap().to_string();
    let jenkins = std::fs::read_to_string(root.join("Jenkinsfile")).unwrap();
    let jk_cmd = jenkins
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("sh '")
                .filter(|c| c.starts_with("nvctk preflight"))
        })
        .unwrap()
        .trim_end_matches('\'')
        .to_string();
    assert!(jenkins.contains("testResults: 'nvctk-preflight.xml'"));

    let toml_example = std::fs::read_to_string(root.join("nvctk.toml.example")).unwrap();
    for (name, cmd) in [("github", gha_cmd), ("gitlab", gl_cmd), ("jenkins", jk_cmd)] {
        let work = tempfile::tempdir().unwrap();
        std::fs::write(work.path().join(".nvctk.toml"), &toml_example).unwrap();
        let args: Vec<&str> = cmd.split_whitespace().collect();
        assert_eq!(&args[..2], ["nvctk", "preflight"], "{name}: {cmd}");
        let out = nvctk()
            .args(&args[1..])
            .arg("--snapshot")
            .arg(fixture("H01-healthy-native"))
            .current_dir(work.path())
            .env("GITHUB_STEP_SUMMARY", work.path().join("summary.md"))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}\n{}",
            stdout(&out),
            stderr(&out)
        );
        if cmd.contains("--junit-file") {
            junit(&std::fs::read_to_string(work.path().join("nvctk-preflight.xml")).unwrap());
        }
    }
}

/// A socket that accepts and never answers: doctor's engine probe hangs its deadline.
fn hanging_engine() -> (tempfile::TempDir, std::os::unix::net::UnixListener, String) {
    let dir = tempfile::Builder::new()
        .prefix("nvh")
        .tempdir_in("/tmp")
        .unwrap();
    let sock = dir.path().join("s");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let host = format!("unix://{}", sock.display());
    (dir, listener, host)
}

/// The single `<error>` testcase of a job that could not finish: (message, type, body).
fn junit_error(xml: &str) -> (String, String, String) {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("1"), "{xml}");
    assert_eq!(root.attribute("errors"), Some("1"), "{xml}");
    let cases: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 1, "{xml}");
    assert_eq!(cases[0].attribute("classname"), Some("nvctk.preflight"));
    let err = cases[0]
        .children()
        .find(|n| n.has_tag_name("error"))
        .unwrap_or_else(|| panic!("no <error> in {xml}"));
    (
        err.attribute("message").unwrap_or_default().to_string(),
        err.attribute("type").unwrap_or_default().to_string(),
        err.text().unwrap_or_default().to_string(),
    )
}

#[test]
fn a_job_that_cannot_finish_still_reports_why_in_junit_and_github() {
    let (dir, _listener, host) = hanging_engine();
    let file = dir.path().join("report.xml");
    let base = |format: &str| {
        let mut c = nvctk();
        c.args([
            "preflight",
            "--no-config",
            "--timeout",
            "1",
            "--probe-timeout",
            "30",
            "--format",
            format,
            "--junit-file",
        ])
        .arg(&file)
        .env("DOCKER_HOST", &host)
        .env_remove("GITHUB_STEP_SUMMARY");
        c
    };
    let out = base("junit").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: preflight did not finish within 1 s (--timeout)"),
        "{}",
        stderr(&out)
    );
    for xml in [stdout(&out), std::fs::read_to_string(&file).unwrap()] {
        let (message, kind, body) = junit_error(&xml);
        assert_eq!(
            message,
            "preflight did not finish within 1 s (--timeout); it was still inspecting the host (doctor)"
        );
        assert_eq!(kind, "timeout");
        assert!(body.contains("hint: raise --timeout"), "{body}");
    }

    // GitHub: one ::error line, and the job summary says the job could not finish.
    std::fs::remove_file(&file).unwrap();
    let summary = dir.path().join("summary.md");
    let out = base("github")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("::error title=nvctk preflight::preflight did not finish within 1 s (--timeout); it was still inspecting the host (doctor)%0Ahint: raise --timeout"),
        "{text}"
    );
    junit_error(&std::fs::read_to_string(&file).unwrap());
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with(
            "## ❌ nvctk preflight could not finish\n\npreflight did not finish within 1 s"
        ),
        "{md}"
    );
}

#[test]
fn ctrl_c_still_writes_the_junit_report_and_exits_2() {
    let (dir, _listener, host) = hanging_engine();
    let file = dir.path().join("report.xml");
    let child = nvctk()
        .args([
            "preflight",
            "--no-config",
            "--timeout",
            "60",
            "--probe-timeout",
            "60",
            "--format",
            "junit",
            "--junit-file",
        ])
        .arg(&file)
        .env("DOCKER_HOST", &host)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let start = std::time::Instant::now();
    // SAFETY: kill(2) on the child we just started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "error: preflight was interrupted (Ctrl-C or SIGTERM) while it was still inspecting the host (doctor)\n"
    );
    for xml in [stdout(&out), std::fs::read_to_string(&file).unwrap()] {
        let (message, kind, _) = junit_error(&xml);
        assert_eq!(
            message,
            "preflight was interrupted (Ctrl-C or SIGTERM) while it was still inspecting the host (doctor)"
        );
        assert_eq!(kind, "interrupted");
    }
}

#[test]
fn a_report_that_cannot_be_written_is_exit_2_naming_the_file() {
    let snap = fixture("H01-healthy-native");
    let snap = snap.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A folder where a file is expected: not writable, even as root.
    let bad = dir.path().join("not-a-file");
    std::fs::create_dir(&bad).unwrap();
    let out = preflight(
        None,
        &["--snapshot", snap, "--junit-file", bad.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(&format!(
            "error: cannot write the JUnit report {}: ",
            bad.display()
        )),
        "{}",
        stderr(&out)
    );
    let empty = tempfile::tempdir().unwrap();
    let out = nvctk()
        .args(["preflight", "--snapshot", snap, "--format", "github"])
        .current_dir(empty.path())
        .env("GITHUB_STEP_SUMMARY", &bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "error: cannot append the job summary to {} (GITHUB_STEP_SUMMARY): ",
            bad.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: make the file writable, or unset GITHUB_STEP_SUMMARY"),
        "{err}"
    );
    // The annotations were still printed before the failure.
    assert!(
        stdout(&out).contains("preflight passed"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn quiet_shows_only_problems_and_marks_allowed_findings_as_allowed() {
    let snap = fixture("C01-toolkit-not-installed");
    let snap = snap.to_str().unwrap();
    // An allowed error: marked [~], no failure sentence, no empty headings.
    let out = preflight(
        None,
        &[
            "-q",
            "--snapshot",
            snap,
            "--api",
            "cuda",
            "--allow",
            "toolkit.not-installed",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let (body, last) = text.trim_end().rsplit_once('\n').unwrap();
    assert_eq!(
        body,
        "Container Toolkit\n  [~] the NVIDIA Container Toolkit is not installed (toolkit.not-installed, allowed error)\n\n1 allowed · 21 ok, 1 note, 16 skipped (-v shows why)"
    );
    assert!(
        last.starts_with("preflight passed · allowed: toolkit.not-installed (error) · "),
        "{last}"
    );
    assert!(!text.contains("[✗]") && !text.contains("GPU containers will not work"));

    // Not allowed: the error with its fix, the counts line right above the verdict.
    let out = preflight(None, &["-q", "--snapshot", snap, "--api", "cuda"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.starts_with("Container Toolkit\n  [✗] the NVIDIA Container Toolkit is not installed (toolkit.not-installed)\n"),
        "{text}"
    );
    assert!(
        !text.contains("Requirements") && !text.contains("API tests"),
        "{text}"
    );
    assert!(
        text.contains("\n\n1 error · 21 ok, 1 note, 16 skipped (-v shows why)\nGPU containers will not work on this host until the errors above are fixed.\npreflight failed: 1 problem: toolkit.not-installed (error) · "),
        "{text}"
    );
}
