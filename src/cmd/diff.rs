//! `hyoka diff`.

use std::process::ExitCode;

/// Arguments of `hyoka diff`.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {}

pub fn run(_args: DiffArgs) -> ExitCode {
    crate::output::eprint("hyoka diff: not available yet\n");
    crate::output::usage_error()
}
