//! `hyoka explain RULE ENTITY`: how one rule (or derived value) evaluated on
//! one entity, step by step with the values: `rate = actual 238 ÷ target
//! 300 = 79.3 %`, which band a grade fell in, which condition kept a rule
//! from firing, the group a group rule saw. The explanation is printed to
//! standard output; exit 2 when the rule or the entity is not found.

use std::path::PathBuf;
use std::process::ExitCode;

use hyoka_engine::explain::{self, ExplainError, RuleText};
use hyoka_engine::schema::PlanSchema;

use crate::output::{self, Color};
use crate::setup;

/// Arguments of `hyoka explain`.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The rule (`review.target_met_early`) or derived value (`grades.grade`, `rate`)
    pub rule: String,
    /// The entity: `plan-id/entity-id` (`plan-id/kind:entity-id` when an id is shared), or `plan-id`
    pub entity: String,
    /// Plan files or directories (default: plans/)
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub rules: setup::RuleOptions,
    /// Evaluation year (default: the configured year, else the latest year with actuals)
    #[arg(long)]
    pub year: Option<i32>,
    /// Colour the diagnostics: auto (when a terminal), always, never
    #[arg(long, default_value = "auto")]
    pub color: Color,
}

pub fn run(args: ExplainArgs) -> ExitCode {
    let paths = crate::cmd::check::default_paths(args.paths);
    let handler = output::handler(args.color);
    let schema = PlanSchema::new();
    let rules = match setup::rules(&paths, &args.rules, &schema) {
        Ok(r) => r,
        Err(e) => return output::setup_failed(e, &handler),
    };
    let program = &rules.program;
    let targets = match explain::resolve_target(program, &args.rule) {
        Ok(t) => t,
        Err(e) => return not_found(&e),
    };
    let loaded = hyoka_engine::load(&paths);
    if loaded.has_errors() {
        let mut out = String::new();
        for d in loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == hyoka_engine::Severity::Error)
        {
            output::render_one(d, &handler, &mut out);
        }
        out.push_str("the plans have load errors; the explanation is of what did load\n");
        output::eprint(&out);
    }
    let corpus = &loaded.corpus;
    let kinds: Vec<_> = targets
        .iter()
        .map(|t| explain::target_kind(program, *t))
        .collect();
    let obj = match explain::find_entity(corpus, &schema, &args.entity, &kinds) {
        Ok(o) => o,
        Err(e) => return not_found(&e.for_target(&args.rule)),
    };
    let Some(target) = targets
        .into_iter()
        .find(|t| explain::target_kind(program, *t) == obj.kind)
    else {
        return output::usage_error();
    };
    let year = args
        .year
        .or(rules.config.year)
        .or_else(|| hyoka_engine::eval::latest_actual_year(corpus))
        .unwrap_or(0);
    let evaluation = hyoka_engine::eval::evaluate(corpus, &schema, program, year);
    let text = RuleText::new(program);
    let explanation = explain::explain(program, &text, &evaluation.data, year, target, obj);
    print!("{explanation}");
    ExitCode::SUCCESS
}

fn not_found(e: &ExplainError) -> ExitCode {
    output::eprint(&format!("error: {e}\n"));
    output::usage_error()
}
