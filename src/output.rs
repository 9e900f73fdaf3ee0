//! The one place that decides colour, and writes to stdout without panicking on a closed pipe.

use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// NO_COLOR (any value) turns colour off, CLICOLOR_FORCE turns it on, `--color` beats both;
/// otherwise colour only when stdout is a terminal.
pub fn decide_color(choice: ColorChoice) -> bool {
    let env_set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if env_set("NO_COLOR") => false,
        ColorChoice::Auto
            if std::env::var("CLICOLOR_FORCE").is_ok_and(|v| !v.is_empty() && v != "0") =>
        {
            true
        }
        ColorChoice::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true)
        }
    }
}

pub fn apply_color(choice: ColorChoice) {
    colored::control::set_override(decide_color(choice));
}

/// Writes to stdout; a reader that went away (`nvctk doctor | head -1`) is not an error,
/// any other write failure (a full disk) is.
pub fn print(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write the report: {e}")),
    }
}
