//! `hyoka fmt`.

use std::process::ExitCode;

/// Arguments of `hyoka fmt`.
#[derive(clap::Args, Debug)]
pub struct FmtArgs {}

pub fn run(_args: FmtArgs) -> ExitCode {
    crate::output::eprint("hyoka fmt: not available yet\n");
    crate::output::usage_error()
}
