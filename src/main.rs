//! The `hyoka` command line: parses arguments, runs the pipeline of the
//! engine crate and turns its results into text and exit codes.
//!
//! No evaluation logic lives here; this file only wires and prints.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use miette::{GraphicalReportHandler, GraphicalTheme};

use hyoka_engine::{PlanDiagnostic, Severity};

/// Evaluates municipal policy plans against rules written in hyoka's own language.
#[derive(Parser, Debug)]
#[command(name = "hyoka", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load the plans, check them and print diagnostics; exit 1 on errors.
    Check {
        /// Plan files or directories (default: plans/)
        paths: Vec<PathBuf>,
        /// Colour the output: auto (when a terminal), always, never
        #[arg(long, default_value = "auto")]
        color: Color,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths, color } => check(paths, color),
    }
}

fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("plans")]
    } else {
        paths
    }
}

fn handler(color: Color) -> GraphicalReportHandler {
    let colored = match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let theme = if colored {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme).with_width(100)
}

/// Renders diagnostics to text, one after the other.
fn render(diagnostics: &[PlanDiagnostic], handler: &GraphicalReportHandler) -> String {
    let mut out = String::new();
    for d in diagnostics {
        if handler.render_report(&mut out, d).is_err() {
            out.push_str(&format!("{}: {}\n", d.severity, d.message));
        }
        out.push('\n');
    }
    out
}

fn check(paths: Vec<PathBuf>, color: Color) -> ExitCode {
    let paths = default_paths(paths);
    let loaded = hyoka_engine::load(&paths);
    let handler = handler(color);
    let text = render(&loaded.diagnostics, &handler);
    let count = |s| {
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == s)
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    let c = &loaded.corpus;
    let summary = format!(
        "checked {} plan files: {} plans, {} projects, {} indicators; {} errors, {} warnings\n",
        c.files.len(),
        c.plans.len(),
        c.projects.len(),
        c.indicators.len(),
        errors,
        warnings
    );
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.write_all(summary.as_bytes());
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
