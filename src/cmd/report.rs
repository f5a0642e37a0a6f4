//! `hyoka report`.

use std::process::ExitCode;

/// Arguments of `hyoka report`.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {}

pub fn run(_args: ReportArgs) -> ExitCode {
    crate::output::eprint("hyoka report: not available yet\n");
    crate::output::usage_error()
}
