//! `hyoka rules`.

use std::process::ExitCode;

/// Arguments of `hyoka rules`.
#[derive(clap::Args, Debug)]
pub struct RulesArgs {}

pub fn run(_args: RulesArgs) -> ExitCode {
    crate::output::eprint("hyoka rules: not available yet\n");
    crate::output::usage_error()
}
