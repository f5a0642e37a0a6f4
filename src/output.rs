//! Terminal output shared by the commands: the miette handler (colour only
//! on a terminal), rendering diagnostics to text, and exit codes.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use miette::{GraphicalReportHandler, GraphicalTheme};

/// When to colour the output.
#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
pub enum Color {
    #[default]
    Auto,
    Always,
    Never,
}

/// The diagnostic renderer for `color`.
pub fn handler(color: Color) -> GraphicalReportHandler {
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

/// Renders one diagnostic, followed by a blank line.
pub fn render_one(d: &dyn miette::Diagnostic, handler: &GraphicalReportHandler, out: &mut String) {
    if handler.render_report(out, d).is_err() {
        out.push_str(&format!("{d}\n"));
    }
    out.push('\n');
}

/// Writes text to standard error (diagnostics and summaries go there;
/// standard output is for machine-readable results).
pub fn eprint(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Exit code 2: a usage, configuration or rule-pack error.
pub fn usage_error() -> ExitCode {
    ExitCode::from(2)
}

/// Prints why the rules could not be made ready and returns exit code 2.
pub fn setup_failed(e: crate::setup::SetupError, handler: &GraphicalReportHandler) -> ExitCode {
    let mut out = String::new();
    let count = match e {
        crate::setup::SetupError::Config(d) => {
            render_one(d.as_ref(), handler, &mut out);
            1
        }
        crate::setup::SetupError::Compile(errors) => {
            for e in &errors {
                render_one(e, handler, &mut out);
            }
            errors.len()
        }
    };
    out.push_str(&format!(
        "the rule packs have {count} errors; nothing was evaluated\n"
    ));
    eprint(&out);
    usage_error()
}
