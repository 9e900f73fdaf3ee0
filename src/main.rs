//! Thin entry point: parse, dispatch, exit code (0 fine, 1 problems found, 2 nvctk failed).

mod cli;

use clap::Parser;
use cli::{Cli, Command, SetupCmd, SnapshotCmd};
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
        Command::Setup(SetupCmd::Docker(args)) => nvctk::setup::docker(&args.settings()?),
        Command::Test(args) => {
            let settings = args.settings(cli.quiet)?;
            let outcome =
                nvctk::gputest::run::run_with_doctor(&settings, &args.doctor_settings()?)?;
            output::print(&nvctk::gputest::render(args.format(), &outcome))?;
            Ok(i32::from(outcome.failed()))
        }
        Command::Explain { id, list } => explain(id, list),
    }
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
