//! Thin entry point: parse, dispatch, exit code (0 fine, 1 problems found, 2 nvctk failed).

mod cli;

use clap::{CommandFactory, Parser};
use cli::{Cli, Command, OutFormat, ReportCmd, SetupCmd, SnapshotCmd};
use colored::Colorize;
use nvctk::output;

fn main() {
    let cli = Cli::parse();
    output::apply_color(cli.color.into());
    let code = match run(cli) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("{} {msg}", "error:".red().bold());
            2
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> Result<i32, String> {
    match cli.command {
        Command::Doctor(args) => {
            let settings = args.settings(cli.verbose, cli.quiet)?;
            let outcome = nvctk::doctor::run(&settings)?;
            output::print(&nvctk::doctor::render(&settings, &outcome))?;
            Ok(nvctk::doctor::exit_code(&settings, &outcome))
        }
        Command::Snapshot(SnapshotCmd::Save { path, host, note }) => {
            let opts = nvctk::host::LiveOptions {
                root: host.root.clone(),
                deadline: cli::deadline(host.timeout)?,
                nvml_lib: host.nvml_lib.clone(),
            };
            let saved =
                nvctk::host::snapshot::save(&opts, &path, &note).map_err(|e| e.to_string())?;
            if !cli.quiet {
                eprintln!(
                    "{} {} ({} files; user names, host names, IPv4 addresses and GPU UUIDs redacted)",
                    "saved".green().bold(),
                    path.display(),
                    saved
                );
                eprintln!(
                    "{} replay it with: nvctk doctor --snapshot {}",
                    "hint:".bold(),
                    path.display()
                );
            }
            Ok(0)
        }
        Command::Setup(SetupCmd::Docker(args)) => nvctk::setup::docker(&args.settings(cli.quiet)?),
        Command::Preflight(args) => preflight(args.settings(cli.verbose, cli.quiet)?),
        Command::Report(ReportCmd::Merge { files, format }) => {
            let loaded = nvctk::report::fleet::load(&files)?;
            let fleet = &loaded.fleet;
            output::print(&match format {
                OutFormat::Human => nvctk::report::fleet::render_human(fleet),
                OutFormat::Json => nvctk::report::fleet::render_json(fleet),
            })?;
            for w in &loaded.skipped {
                eprintln!("{} skipped {w}", "warning:".yellow().bold());
            }
            if !loaded.skipped.is_empty() {
                eprintln!(
                    "{} the fleet above leaves out {} file{}; collect each again with `nvctk doctor --format json > NODE.json`, or remove it from the folder",
                    "hint:".bold(),
                    loaded.skipped.len(),
                    if loaded.skipped.len() == 1 { "" } else { "s" },
                );
                return Ok(1);
            }
            Ok(nvctk::report::fleet::exit_code(fleet))
        }
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "nvctk", &mut buf);
            output::print(&String::from_utf8_lossy(&buf))?;
            Ok(0)
        }
        Command::Man { dir } => man(dir, cli.quiet),
        Command::Test(args) => {
            let settings = args.settings(cli.quiet)?;
            let outcome =
                nvctk::gputest::run::run_with_doctor(&settings, &args.doctor_settings()?)?;
            output::print(&nvctk::gputest::render(args.format(), &outcome, cli.quiet))?;
            Ok(i32::from(outcome.failed()))
        }
        Command::Explain { id, list } => explain(id, list),
    }
}

fn preflight(settings: nvctk::preflight::Settings) -> Result<i32, String> {
    use nvctk::preflight;
    let start = std::time::Instant::now();
    let outcome = match preflight::run_bounded(&settings) {
        Ok(o) => o,
        Err(e) => {
            // The job could not finish: the CI system still gets a report that says why.
            let seconds = start.elapsed().as_secs_f64();
            output::print(&preflight::render_error(&settings, &e, seconds))?;
            if let Err(w) = preflight::write_error_side_files(&settings, &e, seconds) {
                eprintln!("{} {w}", "error:".red().bold());
            }
            return Err(e);
        }
    };
    output::print(&preflight::render(&settings, &outcome))?;
    preflight::write_side_files(&settings, &outcome)?;
    Ok(outcome.exit_code())
}

/// One page for nvctk, and with --dir one per subcommand (nvctk-doctor.1, nvctk-setup-docker.1 …).
fn man(dir: Option<std::path::PathBuf>, quiet: bool) -> Result<i32, String> {
    let render = |cmd: clap::Command| -> Result<Vec<u8>, String> {
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut buf)
            .map_err(|e| format!("cannot render the man page: {e}"))?;
        Ok(buf)
    };
    let root = Cli::command();
    let Some(dir) = dir else {
        output::print(&String::from_utf8_lossy(&render(root)?))?;
        return Ok(0);
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut pages = vec![("nvctk".to_string(), root.clone())];
    fn walk(prefix: &str, cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let name = format!("{prefix}-{}", sub.get_name());
            // A handful of short names for a process about to exit: leaking them is fine.
            let page = sub
                .clone()
                .name(name.clone().leak() as &str)
                .version(cli::VERSION);
            out.push((name.clone(), page));
            walk(&name, sub, out);
        }
    }
    walk("nvctk", &root, &mut pages);
    for (name, cmd) in pages {
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, render(cmd)?)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        if !quiet {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(0)
}

fn explain(id: Option<String>, list: bool) -> Result<i32, String> {
    use nvctk::checks::catalog::{self, CATALOG};
    if list || id.is_none() {
        let mut s = String::new();
        for c in CATALOG {
            s.push_str(&format!(
                "{:<38} {:<6} {}\n",
                c.id,
                c.severity.as_str(),
                c.title
            ));
        }
        output::print(&s)?;
        return Ok(0);
    }
    let id = id.unwrap_or_default();
    if let Some(section) = nvctk::preflight::doc_section(&id) {
        // Preflight's own verdicts are documented with preflight, one section per id.
        output::print(&section)?;
        return Ok(0);
    }
    match (catalog::get(&id), catalog::doc(&id)) {
        (Some(_), Some(doc)) => {
            output::print(doc)?;
            Ok(0)
        }
        (Some(c), None) => {
            output::print(&format!(
                "{}\n\n{} ({})\n",
                c.id,
                c.title,
                c.severity.as_str()
            ))?;
            Ok(0)
        }
        (None, _) => {
            let near: Vec<&str> = CATALOG
                .iter()
                .map(|c| c.id)
                .filter(|c| {
                    c.contains(id.as_str()) || id.split('.').any(|p| p.len() > 2 && c.contains(p))
                })
                .collect();
            let hint = if near.is_empty() {
                "run `nvctk explain --list` for every id".to_string()
            } else {
                format!("did you mean {}?", near.join(", "))
            };
            Err(format!(
                "no check has the id `{id}`\n{} {hint}",
                "hint:".bold()
            ))
        }
    }
}
