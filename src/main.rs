//! The `hyoka` command line: parses arguments, runs the pipeline of the
//! engine crate and turns its results into text and exit codes.
//!
//! No evaluation logic lives here; this file only wires and prints.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use miette::{GraphicalReportHandler, GraphicalTheme};

use hyoka_engine::schema::PlanSchema;
use hyoka_engine::{PlanDiagnostic, Severity};

mod setup;

/// Evaluates municipal policy plans against rules written in hyoka's own language.
#[derive(Parser, Debug)]
#[command(name = "hyoka", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load the plans, run the rule packs and print diagnostics; exit 1 on errors.
    Check {
        /// Plan files or directories (default: plans/)
        paths: Vec<PathBuf>,
        #[command(flatten)]
        rules: setup::RuleOptions,
        /// Evaluation year (default: the configured year, else the latest year with actuals)
        #[arg(long)]
        year: Option<i32>,
        /// Least severity of the findings shown (fewer are counted only)
        #[arg(long, default_value = "warning")]
        show: ShowLevel,
        /// Colour the output: auto (when a terminal), always, never
        #[arg(long, default_value = "auto")]
        color: Color,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq, PartialOrd, Ord)]
enum ShowLevel {
    Error,
    Warning,
    Info,
}

impl ShowLevel {
    fn shows(self, s: Severity) -> bool {
        match self {
            ShowLevel::Error => s == Severity::Error,
            ShowLevel::Warning => s != Severity::Info,
            ShowLevel::Info => true,
        }
    }
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
        Command::Check {
            paths,
            rules,
            year,
            show,
            color,
        } => check(paths, &rules, year, show, color),
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

/// Renders any miette diagnostic.
fn render_one(d: &dyn miette::Diagnostic, handler: &GraphicalReportHandler, out: &mut String) {
    if handler.render_report(out, d).is_err() {
        out.push_str(&format!("{d}\n"));
    }
    out.push('\n');
}

/// Prints why the rules could not be compiled and returns exit code 2.
fn setup_failed(e: setup::SetupError, handler: &GraphicalReportHandler) -> ExitCode {
    let mut out = String::new();
    let count = match e {
        setup::SetupError::Config(d) => {
            render_one(&d, handler, &mut out);
            1
        }
        setup::SetupError::Compile(errors) => {
            for e in &errors {
                render_one(e, handler, &mut out);
            }
            errors.len()
        }
    };
    out.push_str(&format!("the rule packs have {count} errors; nothing was evaluated\n"));
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
    ExitCode::from(2)
}

fn check(
    paths: Vec<PathBuf>,
    opts: &setup::RuleOptions,
    year: Option<i32>,
    show: ShowLevel,
    color: Color,
) -> ExitCode {
    let paths = default_paths(paths);
    let handler = handler(color);
    let schema = PlanSchema::new();
    let rules = match setup::rules(&paths, opts, &schema) {
        Ok(r) => r,
        Err(e) => return setup_failed(e, &handler),
    };
    let loaded = hyoka_engine::load(&paths);
    let c = &loaded.corpus;
    let year = year
        .or(rules.config.year)
        .or_else(|| hyoka_engine::eval::latest_actual_year(c))
        .unwrap_or(0);
    let evaluation = hyoka_engine::eval::evaluate(c, &schema, &rules.program, year);

    let mut out = render(&loaded.diagnostics, &handler);
    let mut counts = [0usize; 3];
    for d in &loaded.diagnostics {
        counts[d.severity as usize] += 1;
    }
    for f in &evaluation.findings {
        counts[f.severity as usize] += 1;
        if show.shows(f.severity) {
            render_one(&f.to_diagnostic(c), &handler, &mut out);
        }
    }
    for failure in &evaluation.failures {
        counts[Severity::Error as usize] += 1;
        render_one(&failure.error, &handler, &mut out);
    }
    let [errors, warnings, infos] = counts;
    out.push_str(&format!(
        "checked {} plan files ({} plans, {} projects, {} indicators) with {} rules for {}: {} errors, {} warnings, {} infos\n",
        c.files.len(),
        c.plans.len(),
        c.projects.len(),
        c.indicators.len(),
        rules.program.rules().len(),
        year,
        errors,
        warnings,
        infos
    ));
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
