//! `hyoka explain`.

use std::process::ExitCode;

/// Arguments of `hyoka explain`.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {}

pub fn run(_args: ExplainArgs) -> ExitCode {
    crate::output::eprint("hyoka explain: not available yet\n");
    crate::output::usage_error()
}
