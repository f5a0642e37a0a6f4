//! `hyoka test`.

use std::process::ExitCode;

/// Arguments of `hyoka test`.
#[derive(clap::Args, Debug)]
pub struct TestArgs {}

pub fn run(_args: TestArgs) -> ExitCode {
    crate::output::eprint("hyoka test: not available yet\n");
    crate::output::usage_error()
}
