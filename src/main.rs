//! The `hyoka` command line: parses arguments and hands each subcommand to
//! its module under `cmd/`. No evaluation logic lives here or there; the
//! commands wire the engine's stages and print.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod alloc;
mod cmd;
mod output;
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
    /// Load the plans, run the rule packs and report findings (exit 0 clean, 1 findings, 2 bad input)
    Check(cmd::check::CheckArgs),
    /// Write the annual review report (Markdown, HTML, CSV, JSON)
    Report(cmd::report::ReportArgs),
    /// Format rule files (`--check` only reports files that are not formatted)
    Fmt(cmd::fmt::FmtArgs),
    /// Run the rule tests of rule packs, with coverage
    Test(cmd::test::TestArgs),
    /// Explain, step by step, how a rule or derived value evaluates on one entity
    Explain(cmd::explain::ExplainArgs),
    /// List the rules of the configured packs, or write their reference
    Rules(cmd::rules::RulesArgs),
    /// What a change to the plans does: grades, rates, outcomes and findings that differ
    Diff(cmd::diff::DiffArgs),
    /// Write a generated corpus of realistic plan files (for benchmarks)
    Generate(cmd::generate::GenerateArgs),
}

fn main() -> ExitCode {
    alloc::tune();
    let cli = Cli::parse();
    match cli.command {
        Command::Check(a) => cmd::check::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Fmt(a) => cmd::fmt::run(a),
        Command::Test(a) => cmd::test::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Rules(a) => cmd::rules::run(a),
        Command::Diff(a) => cmd::diff::run(a),
        Command::Generate(a) => cmd::generate::run(a),
    }
}
