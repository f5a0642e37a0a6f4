//! `hyoka test`: runs the rule tests of rule packs (`<pack>/tests/*.toml`,
//! docs/rule-tests.md) and prints the failures, with expected and actual
//! values, the diagnostics of findings nobody expected and an explanation
//! of each miss, then each pack's coverage. Exit 0 when every case passes
//! (and coverage reaches `--min-coverage`), 1 otherwise, 2 on usage errors.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use hyoka_engine::config::PackFiles;
use hyoka_engine::ruletest::{
    self, CaseResult, Coverage, CoverageKind, Failure, Resolver, RunOptions,
};
use hyoka_engine::PlanDiagnostic;
use miette::GraphicalReportHandler;

use crate::output::{self, Color};
use crate::setup;

/// Arguments of `hyoka test`.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Rule pack directories, or directories of packs (default: rules/)
    pub packs: Vec<PathBuf>,
    /// Run only the cases whose `file › name` contains this text
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Fail when a pack's coverage is below this percentage (e.g. 90 or 90%)
    #[arg(long, value_name = "PCT", value_parser = parse_percent)]
    pub min_coverage: Option<f64>,
    /// List every case, not only the failing ones
    #[arg(long, short)]
    pub verbose: bool,
    /// Colour the output: auto (when a terminal), always, never
    #[arg(long, default_value = "auto")]
    pub color: Color,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%').trim();
    match t.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a percentage from 0 to 100")),
    }
}

fn standard(name: &str) -> Option<Result<PackFiles, Box<PlanDiagnostic>>> {
    setup::standard_pack(name)
}

pub fn run(args: TestArgs) -> ExitCode {
    let handler = output::handler(args.color);
    let dirs = if args.packs.is_empty() {
        vec![PathBuf::from("rules")]
    } else {
        args.packs.clone()
    };
    let packs = match ruletest::discover(&dirs) {
        Ok(p) => p,
        Err(d) => {
            let mut out = String::new();
            output::render_one(d.as_ref(), &handler, &mut out);
            output::eprint(&out);
            return output::usage_error();
        }
    };
    let opts = RunOptions {
        filter: args.filter.clone(),
        resolver: Resolver {
            fallback: Some(&standard),
        },
    };
    let mut report = ruletest::run(&packs, &opts);
    report
        .cases
        .sort_by(|a, b| (&a.pack, &a.file).cmp(&(&b.pack, &b.file)));
    let text = render(&report, &args, &handler);
    print!("{text}");
    let below = args
        .min_coverage
        .is_some_and(|min| report.coverage.iter().any(|c| c.percent() + 1e-9 < min));
    if report.failed() > 0 || below {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The whole output of a run.
fn render(
    report: &ruletest::TestReport,
    args: &TestArgs,
    handler: &GraphicalReportHandler,
) -> String {
    let mut out = String::new();
    // Cases, grouped by pack.
    let mut pack = None;
    for c in &report.cases {
        if pack != Some(&c.pack) {
            pack = Some(&c.pack);
            let n = report.cases.iter().filter(|x| x.pack == c.pack).count();
            let failed = report
                .cases
                .iter()
                .filter(|x| x.pack == c.pack && !x.passed())
                .count();
            let _ = writeln!(
                out,
                "{}: {n} case{}, {failed} failed",
                c.pack,
                if n == 1 { "" } else { "s" }
            );
        }
        if args.verbose || !c.passed() {
            let _ = writeln!(
                out,
                "  {} {}",
                if c.passed() { "ok  " } else { "FAIL" },
                case_label(c)
            );
        }
    }
    let failing: Vec<&CaseResult> = report.cases.iter().filter(|c| !c.passed()).collect();
    if !failing.is_empty() {
        out.push_str("\nfailures:\n");
        for c in failing {
            let _ = writeln!(out, "\n── {} › {}", c.file, c.name);
            for f in &c.failures {
                render_failure(f, handler, &mut out);
            }
        }
    }
    // Coverage.
    out.push_str("\ncoverage:\n");
    for cov in &report.coverage {
        render_coverage(cov, args.min_coverage, &mut out);
    }
    let passed = report.cases.iter().filter(|c| c.passed()).count();
    let _ = writeln!(
        out,
        "\nhyoka test: {passed} passed, {} failed",
        report.failed()
    );
    out
}

fn case_label(c: &CaseResult) -> String {
    let file = std::path::Path::new(&c.file)
        .file_name()
        .map_or(c.file.clone(), |f| f.to_string_lossy().into_owned());
    format!("{file} › {}", c.name)
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn render_failure(f: &Failure, handler: &GraphicalReportHandler, out: &mut String) {
    match f {
        Failure::Setup {
            message,
            diagnostics,
        } => {
            let _ = writeln!(out, "  could not run: {message}");
            for d in diagnostics {
                let mut s = String::new();
                output::render_one(d.as_ref(), handler, &mut s);
                out.push_str(&indent(&s, 4));
            }
        }
        Failure::Value {
            entity,
            value,
            expected,
            actual,
            explanation,
        } => {
            let _ = writeln!(
                out,
                "  value {value} of `{entity}`: expected {expected}, got {actual}"
            );
            if let Some(e) = explanation {
                out.push_str("    why:\n");
                out.push_str(&indent(&e.to_string(), 6));
            }
        }
        Failure::MissingFinding {
            rule,
            entity,
            detail,
            explanation,
        } => {
            let _ = writeln!(
                out,
                "  expected a finding of {rule} on `{entity}`: not found; {detail}"
            );
            if let Some(e) = explanation {
                out.push_str("    why:\n");
                out.push_str(&indent(&e.to_string(), 6));
            }
        }
        Failure::UnexpectedFinding {
            rule,
            entity,
            why,
            diagnostic,
        } => {
            let _ = writeln!(out, "  unexpected finding of {rule} on `{entity}`: {why}");
            let mut s = String::new();
            output::render_one(diagnostic.as_ref(), handler, &mut s);
            out.push_str(&indent(&s, 4));
        }
        Failure::RuleFailed { diagnostic } => {
            let _ = writeln!(out, "  a rule failed at run time:");
            let mut s = String::new();
            output::render_one(diagnostic.as_ref(), handler, &mut s);
            out.push_str(&indent(&s, 4));
        }
    }
}

fn render_coverage(cov: &Coverage, min: Option<f64>, out: &mut String) {
    let covered = cov.items.iter().filter(|i| i.covered).count();
    let verdict = match min {
        Some(m) if cov.percent() + 1e-9 < m => format!(" — below the minimum of {m} %"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "  {}: {:.1} % ({covered} of {} items, {} case{}){verdict}",
        cov.pack,
        cov.percent(),
        cov.items.len(),
        cov.cases,
        if cov.cases == 1 { "" } else { "s" }
    );
    // A rule neither fired nor passed was never evaluated at all.
    let fired = cov.missing(CoverageKind::RuleFired);
    let passed = cov.missing(CoverageKind::RulePassed);
    let never: Vec<&str> = fired
        .iter()
        .filter(|r| passed.contains(r))
        .copied()
        .collect();
    let list = |out: &mut String, what: &str, items: Vec<&str>| {
        if !items.is_empty() {
            let _ = writeln!(out, "    {what}: {}", items.join(", "));
        }
    };
    list(out, "rules never evaluated on a fixture", never.clone());
    list(
        out,
        "rules that never fired",
        fired
            .iter()
            .filter(|r| !never.contains(r))
            .copied()
            .collect(),
    );
    list(
        out,
        "rules never evaluated without firing",
        passed
            .iter()
            .filter(|r| !never.contains(r))
            .copied()
            .collect(),
    );
    list(
        out,
        "grades no case produced",
        cov.missing(CoverageKind::Grade),
    );
    list(
        out,
        "suggested outcomes no case exercised",
        cov.missing(CoverageKind::Suggest),
    );
    list(
        out,
        "outcomes no case produced",
        cov.missing(CoverageKind::Outcome),
    );
    list(
        out,
        "derived values no expectation checks",
        cov.missing(CoverageKind::Value),
    );
}
