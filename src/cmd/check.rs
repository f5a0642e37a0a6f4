//! `hyoka check`: load the plans, run the rule packs, and report the
//! findings for people (miette diagnostics pointing into the plan files)
//! and for CI (JSON, SARIF 2.1.0, GitHub annotations, JUnit XML), with
//! waivers, a baseline of known findings, and a restriction to the files a
//! change touched.
//!
//! Exit codes: 0 when nothing at or above `--fail-on` (default `error`) is
//! reported; 1 when something is (findings, expired waivers, unused
//! waivers at `warning`, rules that could not be evaluated); 2 on usage,
//! configuration, rule-pack, plan-file (load), waiver-file, baseline or
//! git errors.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use hyoka_engine::ci::baseline::{self, Baseline};
use hyoka_engine::ci::waiver::{self, Waivers, WAIVERS_FILE};
use hyoka_engine::ci::{github, json, junit, sarif, Date, FailOn, Outcome, Settings};
use hyoka_engine::model::{FileId, SourceFile};
use hyoka_engine::schema::PlanSchema;
use hyoka_engine::{PlanDiagnostic, Severity};

use crate::output::{self, Color};
use crate::setup;

/// Arguments of `hyoka check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Plan files or directories (default: plans/)
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub rules: setup::RuleOptions,
    #[command(flatten)]
    pub cache: setup::CacheOptions,
    /// Evaluation year (default: the configured year, else the latest year with actuals)
    #[arg(long)]
    pub year: Option<i32>,
    /// Least severity of the findings shown to people and as GitHub annotations (the others are counted only)
    #[arg(long, default_value = "warning")]
    pub show: ShowLevel,
    /// Human output: at most this many findings of each rule in full, the rest counted (0: all)
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_per_rule: usize,
    /// Colour the output: auto (when a terminal), always, never
    #[arg(long, default_value = "auto")]
    pub color: Color,
    /// Output format: human (standard error), json, sarif, github, junit (standard output);
    /// FORMAT=FILE writes to a file. Repeatable: --format github --format sarif=hyoka.sarif
    #[arg(long = "format", value_name = "FORMAT[=FILE]", value_parser = parse_format)]
    pub format: Vec<(Format, Option<PathBuf>)>,
    /// Least severity that fails the check (exit 1): error, warning, info, never
    #[arg(long, default_value = "error", value_name = "SEVERITY")]
    pub fail_on: FailOnArg,
    /// Report only findings that are not in this earlier result (the JSON output of check)
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Save every finding of this check (before --baseline and --changed*) as a baseline
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Waivers file (default: hyoka-waivers.toml next to hyoka.toml, else in the plans' directory or above)
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// The date waivers are checked against (default: today, UTC)
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub today: Option<Date>,
    /// Report only findings touching files changed since git revision REV (its merge base with HEAD,
    /// to the working tree, untracked files included); REV may be a range A..B. Every plan is still loaded
    #[arg(long, value_name = "REV", conflicts_with = "changed")]
    pub changed_since: Option<String>,
    /// Report only findings touching these files (every plan is still loaded)
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub changed: Vec<PathBuf>,
}

/// Which findings are printed in full.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq, PartialOrd, Ord)]
pub enum ShowLevel {
    Error,
    Warning,
    Info,
}

impl ShowLevel {
    fn severity(self) -> Severity {
        match self {
            ShowLevel::Error => Severity::Error,
            ShowLevel::Warning => Severity::Warning,
            ShowLevel::Info => Severity::Info,
        }
    }
}

/// `--fail-on`.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum FailOnArg {
    Error,
    Warning,
    Info,
    Never,
}

impl From<FailOnArg> for FailOn {
    fn from(f: FailOnArg) -> FailOn {
        match f {
            FailOnArg::Error => FailOn::Error,
            FailOnArg::Warning => FailOn::Warning,
            FailOnArg::Info => FailOn::Info,
            FailOnArg::Never => FailOn::Never,
        }
    }
}

/// An output format of `hyoka check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
    Junit,
}

const FORMATS: &[(&str, Format)] = &[
    ("human", Format::Human),
    ("json", Format::Json),
    ("sarif", Format::Sarif),
    ("github", Format::Github),
    ("junit", Format::Junit),
];

fn parse_format(s: &str) -> Result<(Format, Option<PathBuf>), String> {
    let (name, file) = match s.split_once('=') {
        Some((n, f)) if !f.is_empty() => (n, Some(PathBuf::from(f))),
        Some((n, _)) => return Err(format!("`{n}=` needs a file name after `=`")),
        None => (s, None),
    };
    let format = FORMATS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .ok_or_else(|| {
            let names: Vec<&str> = FORMATS.iter().map(|(n, _)| *n).collect();
            format!("unknown format `{name}`; formats: {}", names.join(", "))
        })?;
    Ok((format, file))
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).ok_or_else(|| format!("`{s}` is not a date YYYY-MM-DD"))
}

/// The plan paths, `plans/` when none are given.
pub fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from("plans")]
    } else {
        paths
    }
}

/// `path` relative to the working directory when it lies below it, so
/// outputs name files as a repository does.
pub fn relative_to_cwd(path: &Path) -> PathBuf {
    if path.is_relative() {
        return path.to_path_buf();
    }
    let Ok(cwd) = std::env::current_dir() else {
        return path.to_path_buf();
    };
    let cwd = cwd.canonicalize().unwrap_or(cwd);
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    match canonical.strip_prefix(&cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => path.to_path_buf(),
    }
}

/// Prints a diagnostic and returns exit code 2.
fn input_error(d: &PlanDiagnostic, handler: &miette::GraphicalReportHandler) -> ExitCode {
    let mut out = String::new();
    output::render_one(d, handler, &mut out);
    output::eprint(&out);
    output::usage_error()
}

fn plain_error(message: String, help: &str) -> Box<PlanDiagnostic> {
    Box::new(PlanDiagnostic::new("hyoka::usage", Severity::Error, message).help(help.to_string()))
}

fn read_source(path: &Path, what: &str) -> Result<SourceFile, Box<PlanDiagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        plain_error(
            format!("cannot read the {what} `{}`: {e}", path.display()),
            "check the path",
        )
    })?;
    Ok(SourceFile {
        name: relative_to_cwd(path).display().to_string(),
        text: Arc::from(text),
    })
}

/// The waivers file: `--waivers`, else `hyoka-waivers.toml` next to the
/// configuration, else in the first plan path's directory or above, else in
/// the working directory.
fn find_waivers(args: &CheckArgs, paths: &[PathBuf], config: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = &args.waivers {
        return Some(p.clone());
    }
    if let Some(dir) = config.and_then(Path::parent) {
        let p = dir.join(WAIVERS_FILE);
        return p.is_file().then_some(p);
    }
    let mut candidates = Vec::new();
    if let Some(first) = paths.first() {
        let start = if first.is_dir() {
            Some(first.clone())
        } else {
            first.parent().map(Path::to_path_buf)
        };
        let mut dir = start.and_then(|d| d.canonicalize().ok());
        while let Some(d) = dir {
            candidates.push(d.join(WAIVERS_FILE));
            dir = d.parent().map(Path::to_path_buf);
        }
    }
    candidates.push(PathBuf::from(WAIVERS_FILE));
    candidates.into_iter().find(|c| c.is_file())
}

/// The corpus files among `changed` (absolute paths).
fn files_among(corpus: &hyoka_engine::Corpus, changed: &[PathBuf]) -> HashSet<FileId> {
    let changed: HashSet<PathBuf> = changed
        .iter()
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
        .collect();
    corpus
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            let p = Path::new(&f.name);
            let abs = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
            changed.contains(&abs)
        })
        .map(|(i, _)| i as FileId)
        .collect()
}

fn write_output(file: &Option<PathBuf>, text: &str) -> Result<(), Box<PlanDiagnostic>> {
    match file {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            plain_error(
                format!("cannot write `{}`: {e}", path.display()),
                "check that the directory exists and is writable",
            )
        }),
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| {
                    plain_error(
                        format!("cannot write to standard output: {e}"),
                        "check the pipe",
                    )
                })
        }
    }
}

pub fn run(args: CheckArgs) -> ExitCode {
    let paths: Vec<PathBuf> = default_paths(args.paths.clone())
        .iter()
        .map(|p| relative_to_cwd(p))
        .collect();
    let handler = output::handler(args.color);
    let formats = if args.format.is_empty() {
        vec![(Format::Human, None)]
    } else {
        args.format.clone()
    };
    let to_stdout = formats
        .iter()
        .filter(|(f, file)| *f != Format::Human && file.is_none())
        .count();
    if to_stdout > 1 {
        return input_error(
            &plain_error(
                "more than one format writes to standard output".into(),
                "give all but one format a file: --format json --format sarif=hyoka.sarif",
            ),
            &handler,
        );
    }
    let schema = PlanSchema::new();
    let (config_path, rules) = match setup::project_config(&paths, &args.rules) {
        Ok((_, path)) => (path, setup::rules(&paths, &args.rules, &schema)),
        Err(d) => return output::setup_failed(setup::SetupError::Config(d), &handler),
    };
    let rules = match rules {
        Ok(r) => r,
        Err(e) => return output::setup_failed(e, &handler),
    };
    let today = args.today.unwrap_or_else(Date::today_utc);

    // Read everything CI hands in before evaluating, so a typo fails fast.
    let baseline = match &args.baseline {
        Some(path) => match read_source(path, "baseline").and_then(|s| baseline::parse(&s)) {
            Ok(b) => Some(b),
            Err(d) => return input_error(&d, &handler),
        },
        None => None,
    };
    let changed_files: Option<Vec<PathBuf>> = if let Some(rev) = &args.changed_since {
        match super::diff::git::changed_since(rev) {
            Ok(files) => Some(files),
            Err(e) => {
                return input_error(
                    &plain_error(e, "--changed-since takes a git revision (main, origin/main, HEAD~3) or a range A..B, in a git work tree"),
                    &handler,
                )
            }
        }
    } else if !args.changed.is_empty() {
        Some(args.changed.clone())
    } else {
        None
    };

    let (loaded, cache_notes) = setup::load_plans(&paths, &args.cache);
    output::eprint(&cache_notes);
    let c = &loaded.corpus;
    let year = args
        .year
        .or(rules.config.year)
        .or_else(|| hyoka_engine::eval::latest_actual_year(c))
        .unwrap_or(0);
    let evaluation = hyoka_engine::eval::evaluate(c, &schema, &rules.program, year);
    // The derived values have done their work once the findings exist;
    // freeing them first lowers the peak (half a GB on a national corpus,
    // in a few large tables, so it is quick).
    let hyoka_engine::eval::Evaluation {
        data,
        findings,
        failures,
        ..
    } = evaluation;
    drop(data);

    let rule_ids: Vec<String> = rules
        .program
        .rules()
        .iter()
        .map(|r| r.qualified_id())
        .collect();
    let rule_refs: Vec<&str> = rule_ids.iter().map(String::as_str).collect();
    let waivers = match find_waivers(&args, &paths, config_path.as_deref()) {
        Some(path) => match read_source(&path, "waivers file") {
            Ok(source) => waiver::parse(source, &rule_refs),
            Err(d) => return input_error(&d, &handler),
        },
        None => Waivers::default(),
    };
    let settings = Settings {
        year,
        today,
        fail_on: args.fail_on.into(),
    };
    let mut outcome = Outcome::new(
        c,
        &rules.program,
        settings,
        findings,
        &failures,
        &loaded.diagnostics,
        &waivers,
    );
    if let Some(path) = &args.write_baseline {
        if let Err(d) = write_output(&Some(path.clone()), &json::render(&outcome.unfiltered())) {
            return input_error(&d, &handler);
        }
    }
    if let Some(b) = &baseline {
        outcome.hide_known(b);
    }
    if let Some(files) = &changed_files {
        outcome.only_files(&files_among(c, files));
    }

    let mut human = String::new();
    for (format, file) in &formats {
        let text = match format {
            Format::Human => {
                let (shown, left_out) =
                    outcome.human_diagnostics(args.show.severity(), args.max_per_rule);
                for d in shown {
                    output::render_one(&d, &handler, &mut human);
                }
                for (rule, n) in left_out {
                    human.push_str(&format!(
                        "… {n} more findings of `{rule}` not shown (--max-per-rule 0 shows all)\n"
                    ));
                }
                for failure in &outcome.failures {
                    output::render_one(failure, &handler, &mut human);
                }
                if file.is_none() {
                    continue;
                }
                std::mem::take(&mut human)
            }
            Format::Json => json::render(&outcome),
            Format::Sarif => sarif::render(&outcome),
            Format::Github => github::render(&outcome, args.show.severity()),
            Format::Junit => junit::render(&outcome),
        };
        if let Err(d) = write_output(file, &text) {
            return input_error(&d, &handler);
        }
    }
    human.push_str(&summary_line(&outcome, &baseline));
    output::eprint(&human);
    let code = ExitCode::from(outcome.exit_code());
    // The process ends here: freeing millions of entities one by one would
    // only delay the exit (seconds on a national corpus).
    std::mem::forget(outcome);
    std::mem::forget(loaded);
    code
}

fn summary_line(o: &Outcome<'_>, baseline: &Option<Baseline>) -> String {
    let c = o.corpus;
    let n = o.counts();
    let mut line = format!(
        "checked {} plan files ({} plans, {} projects, {} indicators) with {} rules for {}: {} errors, {} warnings, {} infos",
        c.files.len(),
        c.plans.len(),
        c.projects.len(),
        c.indicators.len(),
        o.program.rules().len(),
        o.settings.year,
        n.errors,
        n.warnings,
        n.infos
    );
    let mut extra = Vec::new();
    if n.waived > 0 {
        extra.push(format!("{} waived", n.waived));
    }
    if n.expired > 0 {
        extra.push(format!("{} with an expired waiver", n.expired));
    }
    if n.unused_waivers == 1 {
        extra.push("1 unused waiver".to_string());
    } else if n.unused_waivers > 1 {
        extra.push(format!("{} unused waivers", n.unused_waivers));
    }
    if baseline.is_some() {
        extra.push(format!("{} known in the baseline", n.in_baseline));
    }
    if o.changes {
        extra.push(format!("{} outside the changed files", n.outside_changes));
    }
    if !extra.is_empty() {
        line = format!("{line}; {}", extra.join(", "));
    }
    line.push('\n');
    line
}
