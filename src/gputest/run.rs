//! Runs the plans through the Engine API: resolve tags, pull (with per-layer progress), then
//! one locked-down container per API, concurrently; every container is removed on success,
//! failure, timeout and Ctrl-C.

use super::plan::{self, Plan};
use super::registry::{self, Registry};
use super::verify::{self, Judgement};
use super::{ApiResult, Mode, Outcome, Pull, Settings, Verdict};
use crate::facts::Facts;
use crate::host::docker::{Endpoint, EngineApi, LiveEngine, error_message};
use crate::host::fs::FsRoot;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Ctrl-C (and SIGTERM) only raise a flag; the waits below see it, kill and remove their
/// containers, and `run` returns an error. Callers with their own wait (preflight) install
/// it first and poll `interrupted()`; the flag is never cleared, so a Ctrl-C that came
/// before the tests started still stops them.
pub fn install_interrupt_handler() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigint as *const () as libc::sighandler_t;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
    }
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Asks a running `run` to stop as Ctrl-C would: its waits kill and remove their
/// containers and it returns. For callers with their own deadline (preflight).
pub fn stop() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Splits a multiplexed log stream (8-byte headers: stream, 0, 0, 0, big-endian size);
/// a stream without headers (TTY) is returned as is.
pub fn demux(raw: &[u8]) -> String {
    let looks_muxed = raw.len() >= 8 && matches!(raw[0], 0..=2) && raw[1..4] == [0, 0, 0];
    if !looks_muxed {
        return String::from_utf8_lossy(raw).into_owned();
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i + 8 <= raw.len() {
        let size = u32::from_be_bytes([raw[i + 4], raw[i + 5], raw[i + 6], raw[i + 7]]) as usize;
        let end = (i + 8 + size).min(raw.len());
        out.extend_from_slice(&raw[i + 8..end]);
        i = end;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Engines {
    short: LiveEngine,
    long: LiveEngine,
}

fn engines(facts: &Facts, s: &Settings) -> Engines {
    let endpoint = Endpoint {
        url: facts
            .docker
            .endpoint
            .clone()
            .unwrap_or_else(|| "unix:///var/run/docker.sock".into()),
        context: facts
            .docker
            .context
            .clone()
            .unwrap_or_else(|| "default".into()),
    };
    let fs = FsRoot::new(std::path::Path::new("/"));
    Engines {
        short: LiveEngine::new(
            endpoint.clone(),
            &fs,
            s.deadline.max(Duration::from_secs(10)),
        ),
        long: LiveEngine::new(endpoint, &fs, Duration::from_secs(3600)),
    }
}

pub fn run(s: &Settings) -> Result<Outcome, String> {
    run_with_doctor(
        s,
        &crate::doctor::Settings {
            deadline: s.deadline,
            ..Default::default()
        },
    )
}

/// Like `run`, with the doctor settings given (e.g. `--nvml-lib`).
pub fn run_with_doctor(s: &Settings, d: &crate::doctor::Settings) -> Result<Outcome, String> {
    let start = Instant::now();
    let facts = crate::doctor::run(d)?.facts;
    let mut o = run_with_facts(s, &facts)?;
    o.seconds = start.elapsed().as_secs_f64();
    Ok(o)
}

fn result(p: &Plan, j: Judgement, seconds: f64) -> ApiResult {
    ApiResult {
        api: p.api,
        image: p.image.clone(),
        mode: Some(p.mode),
        verdict: j.verdict,
        device: j.device,
        seconds,
        cause: j.cause,
        check_id: j.check_id,
        fix: j.fix,
    }
}

pub fn run_with_facts(s: &Settings, facts: &Facts) -> Result<Outcome, String> {
    let start = Instant::now();
    let mut plans = plan::plans(s, facts)?;
    if let Some(err) = facts.docker.engine.as_ref().and_then(|e| e.err_message()) {
        let j = Judgement {
            check_id: Some("docker.unreachable".into()),
            fix: Some("start the engine or fix the socket permission; run `nvctk doctor`".into()),
            ..Judgement::fail(format!("the Docker engine cannot be reached: {err}"))
        };
        return Ok(Outcome {
            results: plans.iter().map(|p| result(p, j.clone(), 0.0)).collect(),
            seconds: start.elapsed().as_secs_f64(),
        });
    }
    install_interrupt_handler();
    let eng = engines(facts, s);
    let mut notes: BTreeMap<usize, Judgement> = BTreeMap::new();

    // 1. Tags matched to the driver.
    let driver_cuda = facts
        .nvml
        .as_ref()
        .and_then(|n| n.ok())
        .and_then(|n| n.cuda_driver_version);
    let mut resolved: BTreeMap<String, Result<String, String>> = BTreeMap::new();
    for (i, p) in plans.iter_mut().enumerate() {
        if p.skip.is_some() {
            continue;
        }
        let Some(policy) = p.resolve.clone() else {
            continue;
        };
        let repo = p.image.clone();
        let chosen = resolved
            .entry(repo.clone())
            .or_insert_with(|| resolve_tag(&eng.short, &repo, &policy, driver_cuda, s))
            .clone();
        match chosen {
            Ok(tag) => p.image = format!("{repo}:{tag}"),
            Err(e) => {
                p.image = format!("{repo}:{}", policy.fallback);
                if s.pull == Pull::Never {
                    notes.insert(i, Judgement::fail(e));
                }
            }
        }
    }

    // 2. Images, each pulled once.
    let mut pulled: BTreeMap<String, Result<(), String>> = BTreeMap::new();
    for p in plans.iter().filter(|p| p.skip.is_none()) {
        if pulled.contains_key(&p.image) {
            continue;
        }
        let r = ensure_image(&eng, &p.image, s);
        if interrupted() {
            return Err("interrupted; no test container was left behind".into());
        }
        pulled.insert(p.image.clone(), r);
    }

    // 3. The containers, concurrently.
    let run_id = format!("{}-{}", std::process::id(), now_millis());
    let created: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let results: Vec<ApiResult> = std::thread::scope(|scope| {
        let handles: Vec<_> = plans
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let note = notes.get(&i).cloned();
                let pull = pulled.get(&p.image).cloned();
                let (eng, created, run_id) = (&eng, &created, &run_id);
                scope.spawn(move || {
                    let start = Instant::now();
                    let j = if let Some(reason) = &p.skip {
                        Judgement::skip(reason.clone())
                    } else if let Some(j) = note {
                        j
                    } else if let Some(Err(e)) = pull {
                        verify::known_failure(&e, facts).unwrap_or_else(|| Judgement::fail(e))
                    } else {
                        run_one(eng, p, s, facts, run_id, created)
                    };
                    result(p, j, start.elapsed().as_secs_f64())
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(plans.iter())
            .map(|(h, p)| {
                h.join()
                    .unwrap_or_else(|_| result(p, Judgement::fail("nvctk's runner panicked"), 0.0))
            })
            .collect()
    });
    // A last sweep: nothing of this run stays, whatever happened above.
    let left: Vec<String> = created.lock().map(|v| v.clone()).unwrap_or_default();
    for id in left {
        let _ = eng.short.delete(&format!("/containers/{id}?force=1&v=1"));
    }
    if interrupted() {
        return Err("interrupted; the test containers were removed".into());
    }
    Ok(Outcome {
        results: blame_host(results, facts),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// A failure without a diagnosis gets one: problems with the image or the clock get their
/// own fix (with the host's blocking fault as context), and a container that ran but found
/// no GPU is put down to the host's first blocking doctor finding (no GPU, driver, WSL).
fn blame_host(mut results: Vec<ApiResult>, facts: &Facts) -> Vec<ApiResult> {
    const BLOCKING: [&str; 3] = ["gpu.", "driver.", "wsl."];
    let findings = crate::checks::run_all(facts, crate::requirements::Requirements::get());
    let blocker = findings.iter().find(|f| {
        f.status == crate::checks::Status::Error && BLOCKING.iter().any(|p| f.id.starts_with(p))
    });
    // A failure with its own diagnosis (a check id or a fix) keeps it.
    for r in results
        .iter_mut()
        .filter(|r| r.verdict == Verdict::Fail && r.check_id.is_none() && r.fix.is_none())
    {
        let cause = r.cause.clone().unwrap_or_else(|| "failed".into());
        let own_fix = if cause.contains("not present locally") {
            Some(format!(
                "pull it first (`docker pull {}`), or run with --pull missing",
                r.image
            ))
        } else if cause.contains("no nvidia/cuda tag") {
            Some("pull a CUDA base image the driver supports (e.g. `docker pull nvidia/cuda:12.4.1-base-ubuntu22.04`), or pass --image".into())
        } else if cause.starts_with("pulling ") {
            Some("check the registry and the network (or a mirror with --registry), or load the image offline with `docker load`".into())
        } else if cause.contains("did not finish within") {
            Some("raise --timeout; a tool that hangs on the GPU can also mean a wedged driver (see `nvctk doctor`)".into())
        } else {
            None
        };
        match (own_fix, blocker) {
            (Some(fix), Some(b)) => {
                r.cause = Some(format!(
                    "{cause} (this host also has: {}, see {})",
                    b.summary, b.id
                ));
                r.fix = Some(fix);
            }
            (Some(fix), None) => r.fix = Some(fix),
            (None, Some(b)) => {
                r.cause = Some(format!("{cause} (and the host itself: {})", b.summary));
                r.check_id = Some(b.id.to_string());
                r.fix = b.remediation.as_ref().map(|m| m.text.clone());
            }
            (None, None) => {}
        }
    }
    results
}

fn now_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// Tags from the registry, or from local images when pulls are off.
fn resolve_tag(
    eng: &LiveEngine,
    repo: &str,
    policy: &super::catalog::TagPolicy,
    driver_cuda: Option<i32>,
    s: &Settings,
) -> Result<String, String> {
    let tags: Vec<String> = if s.pull == Pull::Never {
        let filter = serde_json::json!({"reference": [repo]}).to_string();
        let v = eng
            .get_json(&format!("/images/json?filters={}", enc(&filter)))
            .map_err(|e| e.message)?;
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i.get("RepoTags").and_then(|t| t.as_array()))
            .flatten()
            .filter_map(|t| t.as_str())
            .filter_map(|t| t.strip_prefix(repo).and_then(|r| r.strip_prefix(':')))
            .map(str::to_string)
            .collect()
    } else {
        let (host, path, _) = registry::split_reference(repo);
        Registry::new(&host, s.deadline.max(Duration::from_secs(15))).tags(&path)?
    };
    registry::choose_cuda_tag(&tags, policy, driver_cuda).ok_or_else(|| {
        let cuda = driver_cuda
            .map(|v| format!("CUDA {}.{}", v / 1000, (v % 1000) / 10))
            .unwrap_or_else(|| "any CUDA".into());
        format!(
            "no {repo} tag ({}-{}{}) for {cuda}{}",
            policy.flavors.join("|"),
            policy.os,
            "<version>",
            if s.pull == Pull::Never {
                " among local images (--pull never)"
            } else {
                ""
            }
        )
    })
}

fn ensure_image(eng: &Engines, image: &str, s: &Settings) -> Result<(), String> {
    let present = eng
        .short
        .get_json(&crate::host::docker::image_inspect_path(image))
        .is_ok();
    match (s.pull, present) {
        (Pull::Never, true) | (Pull::Missing, true) => return Ok(()),
        (Pull::Never, false) => {
            return Err(format!(
                "{image} is not present locally and --pull never forbids pulling"
            ));
        }
        _ => {}
    }
    pull(&eng.long, image, s.progress)
}

/// POST /images/create, one progress bar per layer on a terminal, plain lines otherwise.
pub fn pull(eng: &LiveEngine, image: &str, progress: bool) -> Result<(), String> {
    let (name, tag) = match image.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (image, "latest"),
    };
    let path = format!("/images/create?fromImage={}&tag={}", enc(name), enc(tag));
    let tty = std::io::stderr().is_terminal();
    let multi = indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template(
        "{prefix:>12} {msg:<16} [{bar:30}] {bytes}/{total_bytes}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ");
    let mut bars: BTreeMap<String, indicatif::ProgressBar> = BTreeMap::new();
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    let mut error: Option<String> = None;
    if progress {
        eprintln!("pulling {image}");
    }
    let status = eng
        .post_lines(&path, &mut |line| {
            let Ok(v) = serde_json::from_slice::<Value>(line) else {
                return !interrupted();
            };
            // A stream reports `error`; a refused request answers `{"message": …}`.
            if let Some(e) = v
                .get("error")
                .or_else(|| v.get("message"))
                .and_then(|e| e.as_str())
            {
                error = Some(e.to_string());
                return false;
            }
            let id = v.get("id").and_then(|i| i.as_str()).unwrap_or("");
            let st = v.get("status").and_then(|i| i.as_str()).unwrap_or("");
            if !progress || id.is_empty() || id == tag {
                return !interrupted();
            }
            if tty {
                let bar = bars.entry(id.to_string()).or_insert_with(|| {
                    let b = multi.add(indicatif::ProgressBar::new(0));
                    b.set_style(style.clone());
                    b.set_prefix(id.to_string());
                    b
                });
                if let (Some(cur), Some(total)) = (
                    v.pointer("/progressDetail/current")
                        .and_then(|c| c.as_u64()),
                    v.pointer("/progressDetail/total").and_then(|c| c.as_u64()),
                ) {
                    bar.set_length(total);
                    bar.set_position(cur);
                }
                bar.set_message(st.to_string());
                if st == "Pull complete" || st == "Already exists" {
                    bar.finish();
                }
            } else if last.get(id).map(String::as_str) != Some(st) {
                eprintln!("  {id}: {st}");
                last.insert(id.to_string(), st.to_string());
            }
            !interrupted()
        })
        .map_err(|e| e.message)?;
    for b in bars.values() {
        b.finish();
    }
    if let Some(e) = error {
        return Err(format!("pulling {image} failed: {e}"));
    }
    if !(200..300).contains(&status) {
        return Err(format!("pulling {image} failed: engine answered {status}"));
    }
    if interrupted() {
        return Err("interrupted".into());
    }
    if progress {
        eprintln!("pulled {image}");
    }
    Ok(())
}

fn run_one(
    eng: &Engines,
    p: &Plan,
    s: &Settings,
    facts: &Facts,
    run_id: &str,
    created: &Mutex<Vec<String>>,
) -> Judgement {
    let name = format!("nvctk-test-{}-{run_id}", p.api.as_str());
    let body = plan::create_body(p, run_id);
    let (status, resp) = match eng.short.post(
        &format!("/containers/create?name={}", enc(&name)),
        Some(&body),
    ) {
        Ok(r) => r,
        Err(e) => return Judgement::fail(format!("creating the container failed: {}", e.message)),
    };
    if !(200..300).contains(&status) {
        let msg = error_message(&resp);
        return verify::known_failure(&msg, facts).unwrap_or_else(|| Judgement::fail(msg));
    }
    let Some(id) = serde_json::from_slice::<Value>(&resp)
        .ok()
        .and_then(|v| v.get("Id").and_then(|i| i.as_str()).map(str::to_string))
    else {
        return Judgement::fail("the engine created a container but named no id");
    };
    if let Ok(mut v) = created.lock() {
        v.push(id.clone());
    }
    let j = start_and_judge(eng, p, s, facts, &id);
    // Removed on every path; the final sweep in run_with_facts retries.
    if let Ok((st, _)) = eng.short.delete(&format!("/containers/{id}?force=1&v=1")) {
        if (200..300).contains(&st) || st == 404 {
            if let Ok(mut v) = created.lock() {
                v.retain(|x| x != &id);
            }
        }
    }
    j
}

fn start_and_judge(eng: &Engines, p: &Plan, s: &Settings, facts: &Facts, id: &str) -> Judgement {
    match eng.short.post(&format!("/containers/{id}/start"), None) {
        Ok((st, _)) if (200..300).contains(&st) => {}
        Ok((_, body)) => {
            let msg = error_message(&body);
            return verify::known_failure(&msg, facts).unwrap_or_else(|| Judgement::fail(msg));
        }
        Err(e) => return Judgement::fail(format!("starting the container failed: {}", e.message)),
    }
    let deadline = Instant::now() + s.timeout;
    let mut delay = Duration::from_millis(10);
    let exit_code = loop {
        if interrupted() {
            let _ = eng.short.post(&format!("/containers/{id}/kill"), None);
            return Judgement::fail("interrupted");
        }
        match eng.short.get_json(&format!("/containers/{id}/json")) {
            Ok(v) => {
                let state = v.pointer("/State/Status").and_then(|x| x.as_str());
                if matches!(state, Some("exited") | Some("dead")) {
                    break v
                        .pointer("/State/ExitCode")
                        .and_then(|x| x.as_i64())
                        .unwrap_or(-1);
                }
            }
            Err(e) => {
                return Judgement::fail(format!("the engine lost the container: {}", e.message));
            }
        }
        if Instant::now() >= deadline {
            let _ = eng.short.post(&format!("/containers/{id}/kill"), None);
            return Judgement::fail(format!(
                "{} did not finish within {}s (--timeout)",
                p.tool,
                s.timeout.as_secs_f64()
            ));
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(100));
    };
    let output = match eng
        .short
        .get(&format!("/containers/{id}/logs?stdout=1&stderr=1"))
    {
        Ok((st, raw)) if (200..300).contains(&st) => demux(&raw),
        Ok((_, raw)) => {
            return Judgement::fail(format!("reading the logs failed: {}", error_message(&raw)));
        }
        Err(e) => return Judgement::fail(format!("reading the logs failed: {}", e.message)),
    };
    let mut j = verify::judge(p.api, &p.tool, exit_code, &output, facts);
    if j.verdict == Verdict::Fail && j.check_id.is_none() && p.mode == Mode::Runtime {
        // Plain runc ran the container: the nvidia runtime injected nothing.
        j.fix.get_or_insert_with(|| "run `nvctk doctor`".into());
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_without_a_diagnosis_are_put_down_to_the_host() {
        let r = |fix: Option<&str>| ApiResult {
            api: crate::gputest::Api::Vulkan,
            image: "x".into(),
            mode: None,
            verdict: Verdict::Fail,
            device: None,
            seconds: 0.0,
            cause: Some("image missing".into()),
            check_id: None,
            fix: fix.map(str::to_string),
        };
        // An empty host: no NVIDIA GPU, so gpu.none is the blocking finding.
        let mut ran = r(None);
        ran.cause = Some("nvidia-smi printed no GPU".into());
        let out = blame_host(
            vec![ran, r(Some("grant graphics")), r(None)],
            &Facts::default(),
        );
        assert_eq!(out[0].check_id.as_deref(), Some("gpu.none"));
        assert!(out[0].cause.as_deref().unwrap().contains("no NVIDIA GPU"));
        assert_eq!(out[1].check_id, None, "a failure with its own fix keeps it");
        assert_eq!(out[1].fix.as_deref(), Some("grant graphics"));
        // A missing image gets the pull fix; the host's fault is only context.
        let mut missing = r(None);
        missing.cause = Some("x is not present locally and --pull never forbids pulling".into());
        let out = blame_host(vec![missing], &Facts::default());
        assert_eq!(out[0].check_id, None);
        assert!(out[0].fix.as_deref().unwrap().contains("docker pull x"));
        assert!(out[0].cause.as_deref().unwrap().contains("see gpu.none"));
    }

    #[test]
    fn demux_splits_stdout_and_stderr_frames() {
        let mut raw = vec![1, 0, 0, 0, 0, 0, 0, 6];
        raw.extend_from_slice(b"hello\n");
        raw.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 4]);
        raw.extend_from_slice(b"err\n");
        assert_eq!(demux(&raw), "hello\nerr\n");
        assert_eq!(demux(b"plain tty output\n"), "plain tty output\n");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            enc("127.0.0.1:5000/nvidia/cuda"),
            "127.0.0.1%3A5000%2Fnvidia%2Fcuda"
        );
    }
}
