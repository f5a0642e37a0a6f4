//! `hyoka diff`: what a change to the plans (or to the parameters) does to
//! the rates, grades, review outcomes and findings.
//!
//! Three ways to name the two sides:
//!
//! - two directories: `hyoka diff old/plans new/plans`;
//! - git revisions of the plan repository: `hyoka diff main HEAD -- plans/`
//!   reads the plan files of each revision with `git show REV:path`
//!   (one revision compares it with the working tree; the paths after
//!   `--` default to `plans/`);
//! - what-if: `hyoka diff --set grades.a_min=85% [PLANS]` evaluates the
//!   same plans with the current parameters and with the new ones.
//!
//! Both sides are evaluated with the rule packs and configuration of the
//! working tree, for the same year (`--year`, else the configured year,
//! else the latest year with actuals on the new side). Output is text for
//! people or a pull-request comment, or JSON. Exit codes: 0 compared (with
//! `--exit-code`: 0 nothing differs, 1 something does); 2 usage,
//! configuration, rule-pack, git or plan-file errors.

use std::path::PathBuf;
use std::process::ExitCode;

use hyoka_engine::ci::diff::{self, Labels, Side, DEFAULT_VALUES};
use hyoka_engine::schema::PlanSchema;
use hyoka_engine::{Loaded, PlanDiagnostic, Severity};

use crate::output::{self, Color};
use crate::setup;

/// Arguments of `hyoka diff`.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// OLD NEW: two plan directories, or two git revisions (one revision: against the working
    /// tree). With --set: the plan paths (default: plans/)
    #[arg(value_name = "OLD NEW")]
    pub sides: Vec<String>,
    /// The plan paths in the repository, for git revisions (default: plans/)
    #[arg(last = true, value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub rules: setup::RuleOptions,
    /// Evaluation year of both sides (default: the configured year, else the latest year with actuals)
    #[arg(long)]
    pub year: Option<i32>,
    /// Output: text or json
    #[arg(long, default_value = "text")]
    pub format: DiffFormat,
    /// Derived values compared (repeatable; default: rate, grade, suggested)
    #[arg(long = "value", value_name = "NAME")]
    pub values: Vec<String>,
    /// Exit 1 when something differs (like `git diff --exit-code`)
    #[arg(long)]
    pub exit_code: bool,
    /// Colour of error messages: auto, always, never
    #[arg(long, default_value = "auto")]
    pub color: Color,
}

/// `hyoka diff --format`.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    Json,
}

/// Reading plan files from git, for `hyoka diff` and `hyoka check
/// --changed-since`. Only read-only commands (`rev-parse`, `ls-tree`,
/// `show`, `diff --name-only`, `merge-base`, `ls-files`), in the working
/// directory.
pub(crate) mod git {
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::Arc;

    use hyoka_engine::model::SourceFile;
    use rayon::prelude::*;

    /// Runs `git ARGS` and returns its standard output.
    pub fn run(args: &[&str]) -> Result<Vec<u8>, String> {
        let out = Command::new("git")
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "`git {}` failed: {}",
                args.join(" "),
                stderr.trim()
            ));
        }
        Ok(out.stdout)
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8_lossy(&bytes)
            .trim_end_matches('\n')
            .to_string()
    }

    fn nul_separated(bytes: &[u8]) -> Vec<String> {
        bytes
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    }

    /// Whether `rev` names a commit.
    pub fn is_revision(rev: &str) -> bool {
        run(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])
        .is_ok()
    }

    /// The top directory of the work tree.
    pub fn toplevel() -> Result<PathBuf, String> {
        run(&["rev-parse", "--show-toplevel"]).map(|b| PathBuf::from(text(b)))
    }

    /// The files changed since `rev`, as absolute paths: from the merge
    /// base of `rev` and HEAD to the working tree, untracked files
    /// included; for a range `A..B` (or `A...B`), what git diff lists for it.
    pub fn changed_since(rev: &str) -> Result<Vec<PathBuf>, String> {
        let top = toplevel()?;
        let mut names = Vec::new();
        if rev.contains("..") {
            names.extend(nul_separated(&run(&[
                "diff",
                "--name-only",
                "-z",
                rev,
                "--",
            ])?));
        } else {
            if !is_revision(rev) {
                return Err(format!("`{rev}` is not a git revision here"));
            }
            let base = run(&["merge-base", rev, "HEAD"])
                .map(text)
                .unwrap_or_else(|_| rev.to_string());
            names.extend(nul_separated(&run(&[
                "diff",
                "--name-only",
                "-z",
                &base,
                "--",
            ])?));
            names.extend(nul_separated(&run(&[
                "ls-files",
                "--others",
                "--exclude-standard",
                "--full-name",
                "-z",
            ])?));
        }
        names.sort();
        names.dedup();
        Ok(names.into_iter().map(|n| top.join(n)).collect())
    }

    /// Whether a repository path is a plan file: `.toml`, not
    /// `hyoka.toml` or the waivers file, nothing hidden on the way.
    fn is_plan_file(path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        path.ends_with(".toml")
            && name != hyoka_engine::load::CONFIG_FILE
            && name != hyoka_engine::ci::waiver::WAIVERS_FILE
            && !path.split('/').any(|c| c.starts_with('.'))
    }

    /// The plan files under `paths` at revision `rev`, read with
    /// `git show REV:path`, named as the working tree names them
    /// (relative to the working directory).
    pub fn plan_files(rev: &str, paths: &[PathBuf]) -> Result<Vec<SourceFile>, String> {
        let prefix = text(run(&["rev-parse", "--show-prefix"])?);
        let top = toplevel()?;
        let mut args: Vec<String> = [
            "ls-tree",
            "-r",
            "-z",
            "--name-only",
            "--full-name",
            rev,
            "--",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(paths.iter().map(|p| p.display().to_string()));
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let files: Vec<String> = nul_separated(&run(&arg_refs)?)
            .into_iter()
            .filter(|f| is_plan_file(f))
            .collect();
        if files.is_empty() {
            return Err(format!(
                "no plan files under `{}` at revision `{rev}`",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        files
            .par_iter()
            .map(|full| {
                let bytes = run(&["show", &format!("{rev}:{full}")])?;
                let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| format!("`{full}` at revision `{rev}` is not UTF-8"))?;
                let name = match full.strip_prefix(&prefix) {
                    Some(rel) => rel.to_string(),
                    None => top.join(full).display().to_string(),
                };
                Ok(SourceFile {
                    name,
                    text: Arc::from(text),
                })
            })
            .collect()
    }

    /// Whether `path` exists in the working tree.
    pub fn exists(path: &str) -> bool {
        Path::new(path).exists()
    }
}

fn fail(message: String, help: &str, handler: &miette::GraphicalReportHandler) -> ExitCode {
    let d = PlanDiagnostic::new("hyoka::usage", Severity::Error, message).help(help.to_string());
    let mut out = String::new();
    output::render_one(&d, handler, &mut out);
    output::eprint(&out);
    output::usage_error()
}

/// Prints a side's load errors; `true` when there were any.
fn load_failed(side: &str, loaded: &Loaded, handler: &miette::GraphicalReportHandler) -> bool {
    if !loaded.has_errors() {
        return false;
    }
    let mut out = String::new();
    for d in &loaded.diagnostics {
        output::render_one(d, handler, &mut out);
    }
    out.push_str(&format!(
        "the {side} plans have errors; nothing was compared\n"
    ));
    output::eprint(&out);
    true
}

/// What the two sides are.
enum Mode {
    WhatIf(Vec<PathBuf>),
    Directories(PathBuf, PathBuf),
    Git(String, Option<String>, Vec<PathBuf>),
}

fn mode(args: &DiffArgs) -> Result<Mode, (String, &'static str)> {
    const HELP: &str = "hyoka diff OLD_DIR NEW_DIR | hyoka diff REV [REV] -- PATHS | hyoka diff --set PACK.PARAM=VALUE [PLANS]";
    if !args.rules.set.is_empty() {
        let mut paths: Vec<PathBuf> = args.sides.iter().map(PathBuf::from).collect();
        paths.extend(args.paths.iter().cloned());
        return Ok(Mode::WhatIf(super::check::default_paths(paths)));
    }
    match args.sides.as_slice() {
        [] => Err(("nothing to compare".into(), HELP)),
        [old, new] if args.paths.is_empty() && git::exists(old) && git::exists(new) => {
            Ok(Mode::Directories(PathBuf::from(old), PathBuf::from(new)))
        }
        [old, rest @ ..] if rest.len() <= 1 => {
            for rev in std::iter::once(old).chain(rest) {
                if !git::is_revision(rev) {
                    let what = if git::exists(rev) {
                        format!(
                            "`{rev}` is a path, but the other side is not: give two directories"
                        )
                    } else {
                        format!("`{rev}` is neither a directory nor a git revision here")
                    };
                    return Err((what, HELP));
                }
            }
            let paths = if args.paths.is_empty() {
                vec![PathBuf::from("plans")]
            } else {
                args.paths.clone()
            };
            Ok(Mode::Git(old.clone(), rest.first().cloned(), paths))
        }
        _ => Err(("too many sides: give OLD and NEW".into(), HELP)),
    }
}

pub fn run(args: DiffArgs) -> ExitCode {
    let handler = output::handler(args.color);
    let mode = match mode(&args) {
        Ok(m) => m,
        Err((message, help)) => return fail(message, help, &handler),
    };
    let schema = PlanSchema::new();
    let mut plain = args.rules.clone();
    plain.set.clear();

    // The sides' plans and the paths the configuration is looked up from.
    let (old_loaded, new_loaded, config_paths, labels): (
        Loaded,
        Option<Loaded>,
        Vec<PathBuf>,
        (String, String, &'static str),
    ) = match &mode {
        Mode::WhatIf(paths) => {
            let settings: Vec<String> = args
                .rules
                .set
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            (
                hyoka_engine::load(paths),
                None,
                paths.clone(),
                ("current parameters".into(), settings.join(", "), "what-if"),
            )
        }
        Mode::Directories(old, new) => (
            hyoka_engine::load(std::slice::from_ref(old)),
            Some(hyoka_engine::load(std::slice::from_ref(new))),
            vec![new.clone()],
            (
                old.display().to_string(),
                new.display().to_string(),
                "directories",
            ),
        ),
        Mode::Git(old, new, paths) => {
            let read = |rev: &str| git::plan_files(rev, paths).map(hyoka_engine::load_sources);
            let old_loaded = match read(old) {
                Ok(l) => l,
                Err(e) => return fail(e, "check the revision and the paths after `--`", &handler),
            };
            let new_loaded = match new {
                Some(rev) => match read(rev) {
                    Ok(l) => l,
                    Err(e) => {
                        return fail(e, "check the revision and the paths after `--`", &handler)
                    }
                },
                None => hyoka_engine::load(paths),
            };
            (
                old_loaded,
                Some(new_loaded),
                paths.clone(),
                (
                    old.clone(),
                    new.clone().unwrap_or_else(|| "working tree".into()),
                    "git",
                ),
            )
        }
    };
    if load_failed("old", &old_loaded, &handler) {
        return output::usage_error();
    }
    if let Some(n) = &new_loaded {
        if load_failed("new", n, &handler) {
            return output::usage_error();
        }
    }
    let old_rules = match setup::rules(&config_paths, &plain, &schema) {
        Ok(r) => r,
        Err(e) => return output::setup_failed(e, &handler),
    };
    let new_rules = if args.rules.set.is_empty() {
        None
    } else {
        match setup::rules(&config_paths, &args.rules, &schema) {
            Ok(r) => Some(r),
            Err(e) => return output::setup_failed(e, &handler),
        }
    };
    let old_corpus = &old_loaded.corpus;
    let new_corpus = new_loaded.as_ref().map_or(old_corpus, |l| &l.corpus);
    let old_program = &old_rules.program;
    let new_program = new_rules.as_ref().map_or(old_program, |r| &r.program);
    let year = args
        .year
        .or(old_rules.config.year)
        .or_else(|| hyoka_engine::eval::latest_actual_year(new_corpus))
        .or_else(|| hyoka_engine::eval::latest_actual_year(old_corpus))
        .unwrap_or(0);
    let old_eval = hyoka_engine::eval::evaluate(old_corpus, &schema, old_program, year);
    let new_eval = hyoka_engine::eval::evaluate(new_corpus, &schema, new_program, year);
    let values: Vec<&str> = if args.values.is_empty() {
        DEFAULT_VALUES.to_vec()
    } else {
        args.values.iter().map(String::as_str).collect()
    };
    for v in &values {
        if !new_program.derives().iter().any(|d| d.name == *v) {
            let mut known: Vec<&str> = new_program
                .derives()
                .iter()
                .map(|d| d.name.as_str())
                .collect();
            known.sort();
            known.dedup();
            return fail(
                format!("no derived value `{v}` in the rule packs in use"),
                &format!("derived values: {}", known.join(", ")),
                &handler,
            );
        }
    }
    let d = diff::compare(
        &Side {
            corpus: old_corpus,
            program: old_program,
            evaluation: &old_eval,
        },
        &Side {
            corpus: new_corpus,
            program: new_program,
            evaluation: &new_eval,
        },
        &values,
    );
    let labels = Labels {
        mode: labels.2,
        old: labels.0,
        new: labels.1,
        year,
    };
    let text = match args.format {
        DiffFormat::Text => diff::render_text(&d, &labels),
        DiffFormat::Json => diff::render_json(&d, &labels),
    };
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        if out
            .write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            return output::usage_error();
        }
    }
    if args.exit_code && !d.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
