//! `hyoka generate`.

use std::process::ExitCode;

/// Arguments of `hyoka generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {}

pub fn run(_args: GenerateArgs) -> ExitCode {
    crate::output::eprint("hyoka generate: not available yet\n");
    crate::output::usage_error()
}
