//! `hyoka check`: load the plans, run the rule packs, print the findings as
//! diagnostics pointing into the plan files; exit 0 when clean, 1 when there
//! is an error-severity finding or load error, 2 on usage or rule-pack
//! errors.

use std::path::PathBuf;
use std::process::ExitCode;

use hyoka_engine::schema::PlanSchema;
use hyoka_engine::Severity;

use crate::output::{self, Color};
use crate::setup;

/// Arguments of `hyoka check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Plan files or directories (default: plans/)
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub rules: setup::RuleOptions,
    /// Evaluation year (default: the configured year, else the latest year with actuals)
    #[arg(long)]
    pub year: Option<i32>,
    /// Least severity of the findings shown (the others are counted only)
    #[arg(long, default_value = "warning")]
    pub show: ShowLevel,
    /// Colour the output: auto (when a terminal), always, never
    #[arg(long, default_value = "auto")]
    pub color: Color,
}

/// Which findings are printed in full.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq, PartialOrd, Ord)]
pub enum ShowLevel {
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

/// The plan paths, `plans/` when none are given.
pub fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("plans")]
    } else {
        paths
    }
}

pub fn run(args: CheckArgs) -> ExitCode {
    let paths = default_paths(args.paths);
    let handler = output::handler(args.color);
    let schema = PlanSchema::new();
    let rules = match setup::rules(&paths, &args.rules, &schema) {
        Ok(r) => r,
        Err(e) => return output::setup_failed(e, &handler),
    };
    let loaded = hyoka_engine::load(&paths);
    let c = &loaded.corpus;
    let year = args
        .year
        .or(rules.config.year)
        .or_else(|| hyoka_engine::eval::latest_actual_year(c))
        .unwrap_or(0);
    let evaluation = hyoka_engine::eval::evaluate(c, &schema, &rules.program, year);

    let mut out = String::new();
    let mut counts = [0usize; 3];
    for d in &loaded.diagnostics {
        counts[d.severity as usize] += 1;
        output::render_one(d, &handler, &mut out);
    }
    for f in &evaluation.findings {
        counts[f.severity as usize] += 1;
        if args.show.shows(f.severity) {
            output::render_one(&f.to_diagnostic(c), &handler, &mut out);
        }
    }
    for failure in &evaluation.failures {
        counts[Severity::Error as usize] += 1;
        output::render_one(&failure.error, &handler, &mut out);
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
    output::eprint(&out);
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
