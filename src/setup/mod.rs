//! `nvctk setup docker`: plan a daemon.json change as data, show it, apply it safely,
//! make the engine read it, prove it through the Engine API, and roll back on failure.
//!
//! Order of work: gather the doctor's facts → find the file and the engine kind
//! (`locate`) → make sure the runtime binary exists (toolkit) → plan (`plan`, using the
//! text-preserving editor in `daemon_json`) → with `--dry-run` show the diff and stop →
//! confirm `--set-as-default` → lock, re-read, re-plan, back up, write atomically
//! (`apply`) → reload or restart and verify (`engine`) → on failure restore the old bytes,
//! reload/restart again and verify the engine is healthy → show doctor's Docker and
//! toolkit checks.

pub mod apply;
pub mod daemon_json;
pub mod engine;
pub mod locate;
pub mod plan;

use crate::checks::{self, Finding};
use crate::facts::Facts;
use crate::host::{Host, LiveOptions};
use crate::probe::{self, Request};
use crate::requirements::Requirements;
use colored::Colorize;
use daemon_json::{EditError, Op, Want};
use locate::{EngineKind, EngineState, Location, Stop};
use plan::Change;
use serde_json::{Value, json};
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Human text or one JSON object, as for doctor.
pub use crate::doctor::Format;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Print only outcomes, warnings and errors (`-q`).
    pub quiet: bool,
    pub dry_run: bool,
    pub set_default: bool,
    /// Answer yes to every confirmation.
    pub yes: bool,
    pub cdi: bool,
    pub undo: bool,
    pub runtime_name: String,
    pub runtime_path: String,
    /// Edit this file instead of the one the engine was found to read.
    pub config: Option<PathBuf>,
    /// Restart the engine even when a reload would do.
    pub restart: bool,
    /// A shell command that restarts the engine (tests, unusual init systems).
    pub restart_command: Option<String>,
    pub install_toolkit: bool,
    /// How long to wait for the lock, a restart and the engine's answer.
    pub timeout: Duration,
    /// Deadline of each probe.
    pub probe_deadline: Duration,
    pub format: Format,
    /// The command line as typed after `nvctk`, for the `sudo …` hint.
    pub invocation: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            quiet: false,
            dry_run: false,
            set_default: false,
            yes: false,
            cdi: false,
            undo: false,
            runtime_name: daemon_json::DEFAULT_RUNTIME_NAME.into(),
            runtime_path: daemon_json::DEFAULT_RUNTIME_PATH.into(),
            config: None,
            restart: false,
            restart_command: None,
            install_toolkit: false,
            timeout: Duration::from_secs(60),
            probe_deadline: Duration::from_secs(5),
            format: Format::Human,
            invocation: "setup docker".into(),
        }
    }
}

/// Exit codes: done or nothing to do.
pub const DONE: i32 = 0;
/// Refused, not confirmed, or the engine did not verify (then rolled back).
pub const REFUSED: i32 = 1;

/// `println!` that ignores a closed stdout: `nvctk setup docker | head` must not panic
/// between writing the file and verifying the engine.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
macro_rules! say_err {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// What the user sees: printed as it happens (human) or gathered into one JSON object.
struct Out {
    json: bool,
    quiet: bool,
    events: Vec<Value>,
    doc: serde_json::Map<String, Value>,
}

impl Out {
    fn new(format: Format, quiet: bool) -> Self {
        Out {
            json: format == Format::Json,
            quiet,
            events: Vec::new(),
            doc: serde_json::Map::new(),
        }
    }

    fn event(&mut self, level: &str, text: &str) {
        self.events.push(json!({"level": level, "text": text}));
        if self.json {
            return;
        }
        match level {
            "error" => say_err!("{} {text}", "error:".red().bold()),
            "warning" => say_err!("{} {text}", "warning:".yellow().bold()),
            "hint" => say_err!("{} {text}", "hint:".bold()),
            "done" => say!("{} {text}", "✓".green().bold()),
            "failed" => say!("{} {text}", "✗".red().bold()),
            _ if self.quiet => {}
            _ => say!("{text}"),
        }
    }
    fn info(&mut self, t: &str) {
        self.event("info", t)
    }
    fn done(&mut self, t: &str) {
        self.event("done", t)
    }
    fn failed(&mut self, t: &str) {
        self.event("failed", t)
    }
    fn warn(&mut self, t: &str) {
        self.event("warning", t)
    }
    fn hint(&mut self, t: &str) {
        self.event("hint", t)
    }
    fn error(&mut self, t: &str) {
        self.event("error", t)
    }
    fn set(&mut self, k: &str, v: impl Into<Value>) {
        self.doc.insert(k.to_string(), v.into());
    }

    fn text_block(&mut self, key: &str, text: &str) {
        self.set(key, text);
        if !self.json && !self.quiet && !text.is_empty() {
            say!("{}", text.strip_suffix('\n').unwrap_or(text));
        }
    }

    fn stop(&mut self, s: &Stop) -> i32 {
        if let Some(e) = &s.error {
            self.error(e);
        }
        for n in &s.notes {
            self.info(n);
        }
        for h in &s.hints {
            self.hint(h);
        }
        s.code
    }

    fn finish(mut self, code: i32) {
        if !self.json {
            return;
        }
        self.doc.insert("exit_code".into(), code.into());
        let mut obj = serde_json::Map::new();
        obj.insert("schema".into(), 1.into());
        obj.insert("command".into(), "setup docker".into());
        obj.append(&mut self.doc);
        obj.insert("events".into(), Value::Array(self.events));
        say!(
            "{}",
            serde_json::to_string_pretty(&Value::Object(obj)).unwrap_or_default()
        );
    }

    /// Yes from `--yes`, or from the user at a terminal; never from a pipe.
    fn confirm(&mut self, question: &str, yes: bool) -> bool {
        if yes {
            return true;
        }
        if !std::io::stdin().is_terminal() {
            return false;
        }
        {
            use std::io::Write as _;
            let mut e = std::io::stderr();
            let _ = write!(e, "{question} [y/N] ");
            let _ = e.flush();
        }
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        matches!(line.trim(), "y" | "Y" | "yes" | "Yes" | "YES")
    }
}

/// Runs `nvctk setup docker`; the exit code (0 done or nothing to do, 1 refused or
/// rolled back). `Err` is nvctk itself failing (exit 2).
pub fn docker(s: &Settings) -> Result<i32, String> {
    let mut out = Out::new(s.format, s.quiet);
    let code = run(s, &mut out);
    match code {
        Ok(code) => {
            out.set("result", result_word(code, &out));
            out.finish(code);
            Ok(code)
        }
        Err(e) => {
            if out.json {
                out.error(&e);
                out.set("result", "failed");
                out.finish(2);
            }
            Err(e)
        }
    }
}

fn result_word(code: i32, out: &Out) -> &'static str {
    let rolled = out.doc.get("rolled_back").and_then(|v| v.as_bool()) == Some(true);
    match (code, rolled) {
        (_, true) => "rolled-back",
        (0, _) if out.doc.get("changed").and_then(|v| v.as_bool()) == Some(true) => "done",
        (0, _) => "nothing-to-do",
        _ => "refused",
    }
}

fn live_host(s: &Settings) -> Host {
    Host::live(&LiveOptions {
        root: PathBuf::from("/"),
        deadline: s.probe_deadline,
        nvml_lib: None,
    })
}

fn gather(host: &Host, s: &Settings) -> Facts {
    probe::gather(
        host,
        &Request {
            deadline: s.probe_deadline,
            ..Default::default()
        },
    )
}

fn euid_is_root() -> bool {
    // SAFETY: geteuid has no failure mode.
    unsafe { libc::geteuid() == 0 }
}

fn user_config_dir() -> String {
    std::env::var("XDG_CONFIG_HOME")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            format!(
                "{}/.config",
                std::env::var("HOME").unwrap_or_else(|_| "/root".into())
            )
        })
}

/// What this run does to the file.
#[derive(Debug, Clone)]
enum Action {
    Add(Want),
    /// `--undo` with a backup: put its bytes back.
    Restore(PathBuf),
    /// `--undo` without a backup: take out only what nvctk adds.
    Remove,
}

/// What `--undo` does: restore the newest backup, unless the file was edited by hand since
/// nvctk's change (then only nvctk's runtime is taken out, so those edits stay). The second
/// value names the backup that was passed over.
fn undo_action(s: &Settings, target: &Path, current: Option<&[u8]>) -> (Action, Option<PathBuf>) {
    let Some(backup) = apply::backups(target).pop() else {
        return (Action::Remove, None);
    };
    let Ok(before) = std::fs::read(&backup) else {
        return (Action::Restore(backup), None);
    };
    let without_nvctk = |text: &[u8]| {
        daemon_json::plan(
            text,
            &Op::Remove {
                runtime_name: s.runtime_name.clone(),
                reset_default: true,
            },
        )
        .ok()
        .map(|p| p.new_text)
    };
    // Outside nvctk's own keys, the file should still be what the backup holds.
    match (
        without_nvctk(current.unwrap_or(b"")),
        without_nvctk(&before),
    ) {
        (Some(now), Some(then)) if now != then => (Action::Remove, Some(backup)),
        _ => (Action::Restore(backup), None),
    }
}

fn read_file(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn make_change(
    s: &Settings,
    action: &Action,
    path: &str,
    old: Option<&[u8]>,
) -> Result<Result<Change, EditError>, String> {
    Ok(match action {
        Action::Add(want) => plan::plan(path, old, &Op::Add(want.clone())),
        Action::Remove => plan::plan(
            path,
            old,
            &Op::Remove {
                runtime_name: s.runtime_name.clone(),
                reset_default: true,
            },
        ),
        Action::Restore(backup) => {
            let bytes = std::fs::read(backup)
                .map_err(|e| format!("cannot read the backup {}: {e}", backup.display()))?;
            Ok(plan::change(
                path,
                old,
                bytes,
                vec![format!("restore {}", backup.display())],
            ))
        }
    })
}

fn refuse_edit(out: &mut Out, path: &str, e: &EditError) -> i32 {
    out.error(&format!("{path}:{}:{}: {}", e.line, e.column, e.message));
    out.set(
        "parse_error",
        json!({"line": e.line, "column": e.column, "message": e.message}),
    );
    out.info(&format!("{path} was not changed."));
    out.hint(&format!(
        "fix line {} of {path} by hand, then run nvctk setup docker again",
        e.line
    ));
    REFUSED
}

fn needs_root(out: &mut Out, s: &Settings, path: &str) -> i32 {
    out.error(&format!("writing {path} needs root"));
    out.hint(&format!("sudo nvctk {}", s.invocation));
    REFUSED
}

fn run(s: &Settings, out: &mut Out) -> Result<i32, String> {
    let host = live_host(s);
    let facts = gather(&host, s);
    let want = Want {
        runtime_name: s.runtime_name.clone(),
        runtime_path: s.runtime_path.clone(),
        set_default: s.set_default,
        cdi: s.cdi,
    };
    let mut directives = Vec::new();
    if !s.undo {
        directives.push("runtimes");
        if s.set_default {
            directives.push("default-runtime");
        }
        if s.cdi {
            directives.push("features");
        }
    }
    let config = s.config.as_ref().map(|p| p.to_string_lossy().into_owned());
    let loc = match locate::locate(&facts, config.as_deref(), &directives, &user_config_dir()) {
        Ok(l) => l,
        Err(stop) => return Ok(out.stop(&stop)),
    };
    out.set("config", loc.path.as_str());
    out.set("engine", loc.kind.as_str());
    out.set("endpoint", loc.endpoint.as_str());
    out.info(&format!(
        "{} engine at {}; it reads {} ({})",
        loc.kind.as_str(),
        loc.endpoint,
        loc.path,
        loc.why
    ));
    if s.config.is_some() && matches!(loc.kind, EngineKind::Desktop | EngineKind::Snap) {
        out.warn(&format!(
            "the engine is {}; it may not read {} (editing it because --config asked)",
            loc.kind.as_str(),
            loc.path
        ));
    }

    if s.cdi && !s.undo {
        let version = facts
            .engine()
            .and_then(|e| e.version.get("Version"))
            .and_then(|v| v.as_str())
            .and_then(crate::version::Version::parse);
        let min = &crate::requirements::Requirements::get().docker_cdi_min;
        if let Some(v) = version.filter(|v| v.lt(min)) {
            out.warn(&format!(
                "Docker {v} ignores \"features\": {{\"cdi\": true}}: CDI devices need Docker {min} or newer; the setting is written but does nothing until the engine is upgraded"
            ));
        }
    }
    if !s.undo {
        if let Some(code) = ensure_runtime_binary(s, &host, &facts, out)? {
            return Ok(code);
        }
    }

    let target = apply::resolve(Path::new(&loc.path))
        .map_err(|e| format!("cannot follow {}: {e}", loc.path))?;
    if target != Path::new(&loc.path) {
        out.info(&format!(
            "{} is a link to {}; nvctk writes the target and keeps the link",
            loc.path,
            target.display()
        ));
    }
    let old = match read_file(&target) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && !euid_is_root() => {
            return Ok(needs_root(out, s, &loc.path));
        }
        Err(e) => return Err(format!("cannot read {}: {e}", target.display())),
    };

    let mut action = if s.undo {
        let (a, edited) = undo_action(s, &target, old.as_deref());
        if let Some(b) = edited {
            out.warn(&format!(
                "{} was edited since nvctk's change; restoring {} would lose those edits, so nvctk removes only what it adds (the backup stays)",
                loc.path,
                b.display()
            ));
        }
        a
    } else {
        Action::Add(want)
    };
    let change = match make_change(s, &action, &loc.path, old.as_deref())? {
        Ok(c) => c,
        Err(e) => return Ok(refuse_edit(out, &loc.path, &e)),
    };
    if let (Action::Remove, true) = (&action, apply::backups(&target).is_empty()) {
        out.info(&format!(
            "no nvctk backup of {} found; removing only the `{}` runtime nvctk adds (and default-runtime if it names it)",
            loc.path, s.runtime_name
        ));
    }

    if s.dry_run {
        out.set("dry_run", true);
        out.set("changed", change.changed);
        out.set("actions", change.actions.clone());
        if change.changed {
            out.text_block("diff", &change.diff);
            for a in &change.actions {
                out.info(&format!("  would {a}"));
            }
            out.info("dry run: nothing was written.");
        } else {
            out.set("diff", "");
            out.done(&format!("{} needs no change", loc.path));
        }
        return Ok(DONE);
    }

    let pid = engine::dockerd_pid(&host, loc.kind);
    let reload_ok = plan::reloadable(&change.old, &change.new);
    let will_restart = s.restart || !reload_ok || pid.is_none();

    if change.changed {
        let keys = plan::changed_keys(&change.old, &change.new);
        if s.set_default && keys.iter().any(|k| k == "default-runtime") {
            out.warn(&format!(
                "default-runtime {} sends every container and every `docker build` on this engine through the NVIDIA runtime: builds can pick up the GPU libraries, and images that work here may fail on hosts without a GPU. Per-container `--gpus all` or `--runtime {}` is the portable choice.",
                s.runtime_name, s.runtime_name
            ));
            if !out.confirm(
                &format!("Make {} the default runtime?", s.runtime_name),
                s.yes,
            ) {
                out.error("not confirmed; nothing was changed");
                out.hint(&format!("nvctk {} --yes", s.invocation));
                return Ok(REFUSED);
            }
        }
        if will_restart && loc.state == EngineState::Up {
            let running = facts
                .engine()
                .and_then(|e| e.info.get("ContainersRunning"))
                .and_then(|v| v.as_u64())
                .unwrap_or(0);
            let live_restore = facts
                .engine()
                .and_then(|e| e.info.get("LiveRestoreEnabled"))
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            let why = if !reload_ok {
                format!(
                    "changing {} needs an engine restart",
                    plan::changed_keys(&change.old, &change.new).join(", ")
                )
            } else {
                "nvctk cannot find the dockerd process to reload".to_string()
            };
            if running > 0 && !live_restore {
                out.warn(&format!(
                    "{why}, which stops the {running} running container(s)"
                ));
                if !out.confirm("Restart the engine?", s.yes) {
                    out.error("not confirmed; nothing was changed");
                    out.hint(&format!(
                        "nvctk {} --yes    # accepts that running containers stop (or set \"live-restore\": true first)",
                        s.invocation
                    ));
                    return Ok(REFUSED);
                }
            } else {
                out.info(&format!("{why}."));
            }
        }
    }

    let mut written: Option<Written> = None;
    let mut final_change = change;
    let _lock;
    if final_change.changed {
        if !apply::writable(&target) {
            if !euid_is_root() {
                return Ok(needs_root(out, s, &loc.path));
            }
            out.error(&format!(
                "cannot write {} (read-only file system?)",
                target.display()
            ));
            return Ok(REFUSED);
        }
        if let Some(dir) = target.parent() {
            if !dir.exists() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
        }
        _lock = match apply::lock(&target, s.timeout) {
            Ok(Some(l)) => l,
            Ok(None) => {
                let lp = apply::lock_path(&target).unwrap_or_default();
                out.error(&format!(
                    "another nvctk is changing {} (it holds {})",
                    loc.path,
                    lp.display()
                ));
                out.hint("wait for it to finish, then run nvctk setup docker again");
                return Ok(REFUSED);
            }
            Err(e) => return Err(format!("cannot lock {}: {e}", target.display())),
        };
        // Another nvctk may have written while we waited: plan again on what is there now,
        // and an undo takes the newest backup as it is now, not as it was before the lock.
        if s.undo {
            let current = read_file(&target).ok().flatten();
            action = undo_action(s, &target, current.as_deref()).0;
        }
        let now =
            read_file(&target).map_err(|e| format!("cannot read {}: {e}", target.display()))?;
        final_change = match make_change(s, &action, &loc.path, now.as_deref())? {
            Ok(c) => c,
            Err(e) => return Ok(refuse_edit(out, &loc.path, &e)),
        };
        if final_change.changed {
            // Docker 23+ can judge the whole new file; older engines answer "unknown flag".
            if let Some(dockerd) = host
                .fs
                .which("dockerd")
                .filter(|_| host.fs.root() == Path::new("/"))
            {
                if let engine::Validation::Invalid(why) =
                    engine::validate_with_dockerd(&dockerd, &final_change.new, s.probe_deadline)
                {
                    out.error(&format!("dockerd would refuse the new {}: {why}", loc.path));
                    out.hint(&format!(
                        "fix what dockerd names in {} (nvctk changed nothing), then run nvctk setup docker again",
                        loc.path
                    ));
                    return Ok(REFUSED);
                }
            }
            written = Some(write(
                s,
                out,
                &action,
                &target,
                &final_change,
                now.is_some(),
            )?);
        }
    }
    out.set("changed", written.is_some());
    out.set("actions", final_change.actions.clone());
    if written.is_none() {
        out.set("diff", "");
        out.done(&format!(
            "{} already says what is wanted; nothing to change",
            loc.path
        ));
    }

    let code = apply_to_engine(
        s,
        out,
        &host,
        &facts,
        &loc,
        &target,
        &action,
        &final_change,
        written.as_ref(),
        will_restart,
    )?;
    if code == DONE && loc.state == EngineState::Up {
        doctor_summary(s, out);
    }
    Ok(code)
}

/// What was written, to undo it if the engine does not take it.
struct Written {
    backup: Option<PathBuf>,
    /// `--undo`'s copy of what it replaced.
    undone: Option<PathBuf>,
    old: Option<Vec<u8>>,
}

fn write(
    _s: &Settings,
    out: &mut Out,
    action: &Action,
    target: &Path,
    change: &Change,
    existed: bool,
) -> Result<Written, String> {
    let old = existed.then(|| change.old.clone());
    let (backup, undone) =
        match (action, &old) {
            (Action::Add(_), Some(bytes)) => (
                Some(apply::backup(target, bytes).map_err(|e| {
                    format!("cannot write a backup beside {}: {e}", target.display())
                })?),
                None,
            ),
            (Action::Restore(_) | Action::Remove, Some(bytes)) => {
                let kept = apply::save_undone(target, bytes)
                    .map_err(|e| format!("cannot save {} before undoing: {e}", target.display()))?;
                out.info(&format!("kept the current file as {}", kept.display()));
                (None, Some(kept))
            }
            _ => (None, None),
        };
    apply::write_atomic(target, &change.new).map_err(|e| {
        format!(
            "cannot write {}: {e} (the file is unchanged)",
            target.display()
        )
    })?;
    out.text_block("diff", &change.diff);
    for a in &change.actions {
        out.info(&format!("  {a}"));
    }
    match &backup {
        Some(b) => {
            out.done(&format!("wrote {} (backup: {})", change.path, b.display()));
            out.set("backup", b.to_string_lossy().into_owned());
        }
        None => out.done(&format!("wrote {}", change.path)),
    }
    Ok(Written {
        backup,
        undone,
        old,
    })
}

fn flagged(facts: &Facts, s: &Settings) -> (Option<String>, bool) {
    let flags = &facts.docker.dockerd_flags;
    let default = flags.iter().find_map(|f| {
        f.flag
            .strip_prefix("--default-runtime=")
            .map(str::to_string)
    });
    let name = flags.iter().any(|f| {
        f.flag
            .strip_prefix("--add-runtime=")
            .is_some_and(|v| v.split('=').next() == Some(s.runtime_name.as_str()))
    });
    (default, name)
}

#[allow(clippy::too_many_arguments)]
fn apply_to_engine(
    s: &Settings,
    out: &mut Out,
    host: &Host,
    facts: &Facts,
    loc: &Location,
    target: &Path,
    action: &Action,
    change: &Change,
    written: Option<&Written>,
    will_restart: bool,
) -> Result<i32, String> {
    match &loc.state {
        EngineState::Up => {}
        EngineState::Down(msg) => {
            out.warn(&format!(
                "the engine is not running ({msg}); it reads {} when it starts",
                loc.path
            ));
            out.hint(match loc.kind {
                EngineKind::Rootless => "systemctl --user start docker",
                _ => "sudo systemctl start docker",
            });
            return Ok(DONE);
        }
        EngineState::Unreachable { .. } | EngineState::NotInstalled if written.is_some() => {
            out.warn(&format!(
                "nvctk could not reach the engine, so it could not verify the change: {}",
                message_of(&loc.state)
            ));
            return Ok(DONE);
        }
        _ => return Ok(DONE),
    }
    let (flag_default, name_flagged) = flagged(facts, s);
    let expect = plan::expect(
        &change.new,
        &s.runtime_name,
        flag_default.as_deref(),
        name_flagged,
    );
    out.set(
        "expect",
        serde_json::to_value(&expect).unwrap_or(Value::Null),
    );
    let check = |info: &Value| plan::verify(info, &expect);

    if written.is_none() {
        // The file is right; is the engine? Asked now, not from the facts gathered before
        // the lock: a concurrent nvctk may just have reloaded it.
        if let Ok(info) = host.engine.get_json("/info") {
            if check(&info).is_ok() {
                out.done(&format!(
                    "the engine already reports it ({})",
                    engine::describe(&info)
                ));
                return Ok(DONE);
            }
        }
        out.info("the engine has not read this file yet");
    }

    let restart =
        will_restart || written.is_none() && engine::dockerd_pid(host, loc.kind).is_none();
    let outcome = make_engine_read(s, out, host, loc, restart, &check);
    let failure = match outcome {
        Ok(info) => {
            let d = engine::describe(&info);
            out.done(&format!("the engine reports {d}"));
            out.set("engine_reports", d);
            if let (Some(_), Action::Restore(b)) = (written, action) {
                // The restored backup is the file now; the next --undo goes one further back.
                let _ = std::fs::remove_file(b);
            }
            return Ok(DONE);
        }
        Err(why) => why,
    };
    out.failed(&format!("the engine did not take the change: {failure}"));
    out.set("failure", failure.as_str());
    let Some(w) = written else {
        out.hint(&format!("nvctk {} --restart", s.invocation));
        return Ok(REFUSED);
    };

    // Roll back: the old bytes (or no file), then the same way of applying, then health.
    let restored = match &w.old {
        Some(bytes) => apply::write_atomic(target, bytes),
        None => std::fs::remove_file(target),
    };
    out.set("rolled_back", true);
    if let Err(e) = restored {
        out.error(&format!(
            "rolling back failed: cannot restore {}: {e}",
            target.display()
        ));
        if let Some(b) = &w.backup {
            out.hint(&format!("sudo cp {} {}", b.display(), target.display()));
        }
        return Ok(REFUSED);
    }
    match &w.backup {
        Some(b) => out.done(&format!(
            "rolled back: restored {} from {}",
            loc.path,
            b.display()
        )),
        None if w.old.is_none() => out.done(&format!(
            "rolled back: removed {} (it did not exist before)",
            loc.path
        )),
        None => out.done(&format!("rolled back: restored {}", loc.path)),
    }
    let health = make_engine_read(s, out, host, loc, restart, &|_: &Value| Ok(()));
    match health {
        Ok(info) => {
            let d = engine::describe(&info);
            out.done(&format!("the engine is healthy again ({d})"));
            out.set("engine_after_rollback", d);
            // The file is the old one again: a backup or undo copy of it would only
            // make the next --undo a no-op.
            for p in w.backup.iter().chain(w.undone.iter()) {
                let _ = std::fs::remove_file(p);
            }
        }
        // The restart itself may be what failed while the engine kept running untouched:
        // then it still runs the configuration the restored file holds.
        Err(why) if host.engine.get_json("/info").is_ok() => {
            out.error(&format!(
                "could not restart the engine ({why}); it still runs its previous configuration, which the restored file matches"
            ));
        }
        Err(why) => {
            out.error(&format!(
                "the engine is still not healthy after the rollback: {why}"
            ));
            out.hint(match loc.kind {
                EngineKind::Rootless => "journalctl --user -u docker -e",
                _ => "sudo journalctl -u docker -e",
            });
        }
    }
    Ok(REFUSED)
}

fn message_of(state: &EngineState) -> String {
    match state {
        EngineState::Unreachable { message, .. } => message.clone(),
        EngineState::Down(m) => m.clone(),
        EngineState::NotInstalled => "no engine".into(),
        EngineState::Up => String::new(),
    }
}

/// Reload (SIGHUP) or restart, then wait for `check` to accept `/info`.
fn make_engine_read(
    s: &Settings,
    out: &mut Out,
    host: &Host,
    loc: &Location,
    restart: bool,
    check: &dyn Fn(&Value) -> Result<(), String>,
) -> Result<Value, String> {
    if !restart {
        if let Some(pid) = engine::dockerd_pid(host, loc.kind) {
            out.info(&format!("reloading dockerd (SIGHUP to pid {pid})"));
            engine::reload(pid)?;
            // A reload is applied in milliseconds or refused (dockerd logs why).
            return engine::wait_for(host, s.timeout.min(Duration::from_secs(15)), check);
        }
    }
    let custom = s
        .restart_command
        .clone()
        .or_else(|| std::env::var(engine::RESTART_ENV).ok());
    let argv = engine::restart_argv(host, loc.kind, custom.as_deref())?;
    let shown = match &custom {
        Some(c) => c.clone(),
        None => argv.join(" "),
    };
    out.info(&format!("restarting the engine: {shown}"));
    engine::run_restart(&argv, s.timeout)?;
    engine::wait_for(host, s.timeout, check)
}

/// Makes sure the runtime binary exists; `Some(code)` stops the run.
fn ensure_runtime_binary(
    s: &Settings,
    host: &Host,
    facts: &Facts,
    out: &mut Out,
) -> Result<Option<i32>, String> {
    if host.fs.which(&s.runtime_path).is_some() {
        return Ok(None);
    }
    let cmds = crate::install::toolkit_commands(&facts.os);
    let known = crate::install::family(&facts.os) != crate::install::Family::Unknown;
    let wsl_note = "on WSL2 the GPU driver comes from Windows: install only the toolkit, never a Linux NVIDIA driver in this distro";
    if s.dry_run {
        out.warn(&format!(
            "{} is not installed (the NVIDIA Container Toolkit provides it); install it before applying:",
            s.runtime_path
        ));
        for c in &cmds {
            out.hint(c);
        }
        if facts.is_wsl2() {
            out.hint(wsl_note);
        }
        return Ok(None);
    }
    if !s.install_toolkit || !known {
        out.error(&format!(
            "{} is not installed: the NVIDIA Container Toolkit is missing, and a runtime without its binary fails every container that asks for it",
            s.runtime_path
        ));
        out.info(&format!(
            "Install it from NVIDIA's repository ({}):",
            facts.os.pretty_name.as_deref().unwrap_or("this distro")
        ));
        for c in &cmds {
            out.hint(c);
        }
        if facts.is_wsl2() {
            out.hint(wsl_note);
        }
        if known {
            out.hint("or let nvctk run them: sudo nvctk setup docker --install-toolkit");
        }
        return Ok(Some(REFUSED));
    }
    if facts.is_wsl2() {
        out.info(wsl_note);
    }
    out.info("nvctk will install the NVIDIA Container Toolkit with:");
    for c in &cmds {
        out.info(&format!("  $ {c}"));
    }
    if !out.confirm("Run these commands?", s.yes) {
        out.error("not confirmed; nothing was installed or changed");
        out.hint(&format!("nvctk {} --yes", s.invocation));
        return Ok(Some(REFUSED));
    }
    for c in &cmds {
        // As root, sudo is redundant and may not even exist (containers, minimal hosts).
        let line = if euid_is_root() {
            c.replace("sudo ", "")
        } else {
            c.clone()
        };
        let res =
            crate::host::command::run_with_deadline(&["sh", "-c", &line], Duration::from_secs(600));
        match res {
            Ok(o) if o.status == Some(0) => out.done(&format!("$ {c}")),
            Ok(o) => {
                out.error(&format!("`{c}` failed: {}", o.stderr.trim()));
                return Ok(Some(REFUSED));
            }
            Err(e) => {
                out.error(&format!("`{c}` could not run: {e:?}"));
                return Ok(Some(REFUSED));
            }
        }
    }
    if host.fs.which(&s.runtime_path).is_none() {
        out.error(&format!(
            "the toolkit is installed but {} is still missing",
            s.runtime_path
        ));
        return Ok(Some(REFUSED));
    }
    Ok(None)
}

/// doctor's Docker and toolkit checks, on a fresh look at the host.
fn doctor_summary(s: &Settings, out: &mut Out) {
    let host = live_host(s);
    let facts = gather(&host, s);
    let findings: Vec<Finding> = checks::run_all(&facts, Requirements::get())
        .into_iter()
        .filter(|f| matches!(f.area, "docker" | "toolkit" | "cdi"))
        .collect();
    out.set(
        "doctor",
        findings
            .iter()
            .map(|f| json!({"id": f.id, "status": f.status.as_str(), "summary": f.summary}))
            .collect::<Vec<_>>(),
    );
    if out.json || out.quiet {
        return;
    }
    use crate::checks::Status;
    use crate::report::human::mark;
    say!("\n{}", "doctor: Docker, toolkit and CDI checks".bold());
    for f in findings.iter().filter(|f| f.status != Status::Skip) {
        let problem = matches!(f.status, Status::Error | Status::Warn);
        if problem {
            say!("  {} {} ({})", mark(f.status), f.summary, f.id);
            for d in &f.details {
                say!("      {d}");
            }
            if let Some(r) = &f.remediation {
                say!("      {} {}", "fix:".bold(), r.text);
                for c in &r.commands {
                    say!("        $ {c}");
                }
            }
        } else {
            say!("  {} {}", mark(f.status), f.summary);
        }
    }
    let problems = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Error | Status::Warn))
        .count();
    if problems > 0 {
        say!("{problems} problem(s) remain; `nvctk doctor` shows every check.");
    } else {
        say!("no Docker or toolkit problems; `nvctk doctor` shows every check.");
    }
}
