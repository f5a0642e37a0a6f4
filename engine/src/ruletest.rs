//! Rule tests: the test cases written next to a rule pack
//! (`rules/<pack>/tests/*.toml`, docs/rule-tests.md), run against fixture
//! plans, compared with what the author expected, and the coverage of the
//! pack they add up to.
//!
//! A test file holds cases; a case is fixture plans (inline TOML strings or
//! files beside the test file), an evaluation year, parameter settings, and
//! expectations: derived values of entities (`rate = "79.3%"`, `grade =
//! "B"`) and findings (rule and entity, optionally "no other finding of
//! this rule", or "no finding of this rule here"). Cases run in parallel;
//! each gives a [`CaseResult`] whose [`Failure`]s carry the expected and
//! actual values, the findings nobody expected as diagnostics, and an
//! [`Explanation`] of why the rule or formula came out as it did.
//!
//! Coverage ([`Coverage`]) is counted per pack over all its cases: which of
//! the pack's rules fired and which were evaluated without firing, which
//! bands and states of its grade scales some case produced, which review
//! outcomes (`suggest` of its rules, values of its outcome-typed derived
//! values such as `project.suggested`) were exercised, and which of its
//! derived values an expectation checked.
//!
//! This module reads test files and rule packs (through [`crate::config`]);
//! fixture plan files are read by [`crate::load`]. It renders nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyoka_dsl::{Ctx, Number, Obj, OwnedValue, Program, Scope};
use rayon::prelude::*;
use serde::Deserialize;
use toml::Spanned;

use crate::config::{self, PackFiles, ProjectConfig};
use crate::data::CorpusData;
use crate::diagnostic::{PlanDiagnostic, Severity};
use crate::explain::{self, Explanation, RuleText, Target};
use crate::finding::{EntityRef, Finding};
use crate::model::{Corpus, SourceFile};
use crate::schema::PlanSchema;

/// A diagnostic of any stage (plan, rule pack, evaluation), for the command
/// line to render.
pub type Diag = Box<dyn miette::Diagnostic + Send + Sync>;

/// The folder of a pack that holds its tests.
pub const TESTS_DIR: &str = "tests";

// ---------------------------------------------------------------------------
// The test file format (docs/rule-tests.md)
// ---------------------------------------------------------------------------

/// A test file: settings shared by its cases, and the cases.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// Packs to compile instead of the pack and the packs it extends:
    /// names of packs beside it (`"grades-sabcd"`) or paths relative to the
    /// test file.
    pub packs: Option<Vec<String>>,
    /// The evaluation year of every case that gives none.
    pub year: Option<i32>,
    /// Parameter settings of every case (`"grades.a_min" = "85%"`).
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    /// Fixture plans of every case, inline.
    #[serde(default)]
    pub plans: Vec<Spanned<String>>,
    /// Fixture plan files of every case, relative to the test file.
    #[serde(default)]
    pub plan_files: Vec<String>,
    /// The cases.
    #[serde(default, rename = "case")]
    pub cases: Vec<Case>,
}

/// One test case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case shows, in a few words.
    pub name: String,
    /// Packs to compile for this case instead of the file's.
    pub packs: Option<Vec<String>>,
    /// The evaluation year (default: the file's, else the latest year with
    /// an actual value in the fixtures).
    pub year: Option<i32>,
    /// Parameter settings, after the file's.
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    /// Fixture plans, inline (after the file's).
    #[serde(default)]
    pub plans: Vec<Spanned<String>>,
    /// Fixture plan files, relative to the test file (after the file's).
    #[serde(default)]
    pub plan_files: Vec<String>,
    /// Expected derived values: entity (`plan-id/entity-id`) → derived
    /// value (`rate` or `rates.rate`) → value.
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, Spanned<toml::Value>>>,
    /// Findings that must be there.
    #[serde(default, rename = "finding")]
    pub findings: Vec<ExpectFinding>,
    /// Findings that must not be there.
    #[serde(default, rename = "no_finding")]
    pub no_findings: Vec<ExpectNoFinding>,
}

/// A finding that must be there.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectFinding {
    /// `PACK.ID`.
    pub rule: String,
    /// The entity (for a group rule: any member of the group).
    pub entity: String,
    /// Text the message must contain.
    pub message: Option<String>,
    /// The finding's severity.
    pub severity: Option<String>,
    /// No other finding of this rule in the case than those expected.
    #[serde(default)]
    pub only: bool,
}

/// A finding that must not be there.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectNoFinding {
    /// `PACK.ID`.
    pub rule: String,
    /// The entity; without it, the rule must not fire at all.
    pub entity: Option<String>,
}

/// A test file read from disk.
pub struct Suite {
    pub path: PathBuf,
    pub source: SourceFile,
    pub file: TestFile,
}

/// A pack and its test files.
pub struct PackTests {
    /// The pack's directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub pack: PackFiles,
    /// Its test files, in name order; a file that does not parse is an
    /// error of that file.
    pub suites: Vec<Result<Suite, Box<PlanDiagnostic>>>,
}

fn file_error(path: &Path, message: String, help: &str) -> Box<PlanDiagnostic> {
    Box::new(
        PlanDiagnostic::new(
            "hyoka::test",
            Severity::Error,
            format!("{}: {message}", path.display()),
        )
        .help(help.to_string()),
    )
}

/// Reads one test file.
pub fn read_suite(path: &Path) -> Result<Suite, Box<PlanDiagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        file_error(
            path,
            format!("cannot read: {e}"),
            "test files must be UTF-8 text",
        )
    })?;
    let source = SourceFile {
        name: path.display().to_string(),
        text: Arc::from(text.as_str()),
    };
    parse_suite(path, source)
}

/// Parses a test file already in memory.
pub fn parse_suite(path: &Path, source: SourceFile) -> Result<Suite, Box<PlanDiagnostic>> {
    match toml::from_str::<TestFile>(&source.text) {
        Ok(file) => Ok(Suite {
            path: path.to_path_buf(),
            source,
            file,
        }),
        Err(e) => {
            let range = e.span().unwrap_or(0..0);
            Err(Box::new(
                PlanDiagnostic::new(
                    "hyoka::test::format",
                    Severity::Error,
                    e.message().trim_end().to_string(),
                )
                .in_file(&source)
                .label(range, "here")
                .help("see docs/rule-tests.md for the keys of a rule test file"),
            ))
        }
    }
}

/// The packs under `dirs` (each a pack directory, or a directory of packs)
/// with their test files.
pub fn discover(dirs: &[PathBuf]) -> Result<Vec<PackTests>, Box<PlanDiagnostic>> {
    let mut pack_dirs = Vec::new();
    for dir in dirs {
        if dir.join("pack.toml").is_file() {
            pack_dirs.push(dir.clone());
            continue;
        }
        let entries = std::fs::read_dir(dir).map_err(|e| {
            file_error(
                dir,
                format!("cannot read the rule directory: {e}"),
                "give a rule pack directory or a directory of packs, e.g. `hyoka test rules/`",
            )
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("pack.toml").is_file())
            .collect();
        if found.is_empty() {
            return Err(file_error(
                dir,
                "no rule pack here (no pack.toml)".into(),
                "a rule pack is a directory with pack.toml and .hyk files",
            ));
        }
        found.sort();
        pack_dirs.extend(found);
    }
    let mut out = Vec::new();
    for dir in pack_dirs {
        let pack = config::read_pack(&dir)?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(TESTS_DIR))
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let suites = files.iter().map(|p| read_suite(p)).collect();
        out.push(PackTests { dir, pack, suites });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Which packs a test compiles
// ---------------------------------------------------------------------------

/// The standard packs by name (the command line's built-in packs).
pub type StandardPacks = dyn Fn(&str) -> Option<Result<PackFiles, Box<PlanDiagnostic>>> + Sync;

/// Finds the packs a pack extends: a directory of that name beside it, a
/// directory beside it whose `pack.toml` has that name, or (for a pack of
/// one's own that extends a standard pack) the caller's fallback.
pub struct Resolver<'f> {
    /// The standard packs, by name, when no directory provides one.
    pub fallback: Option<&'f StandardPacks>,
}

impl Resolver<'_> {
    /// The pack called `name`, looked for beside `near` (a pack directory).
    pub fn resolve(&self, name: &str, near: &Path) -> Result<PackFiles, Box<PlanDiagnostic>> {
        let root = near.parent().unwrap_or(Path::new("."));
        let exact = root.join(name);
        if exact.join("pack.toml").is_file() {
            return config::read_pack(&exact);
        }
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        dirs.sort();
        for d in dirs {
            if d.join("pack.toml").is_file() {
                if let Ok(p) = config::read_pack(&d) {
                    if p.manifest.name == name {
                        return Ok(p);
                    }
                }
            }
        }
        if let Some(f) = self.fallback {
            if let Some(p) = f(name) {
                return p;
            }
        }
        Err(file_error(
            near,
            format!("the pack `{name}` it needs is not beside it"),
            "put the packs a pack extends in the same directory, or name them in the test file: `packs = [\"rates\", \"grades\"]`",
        ))
    }

    /// The pack in `dir` and every pack it extends, extended ones first;
    /// or, when `listed` is given, those packs (names beside `dir` or
    /// paths relative to `test_dir`) and what they extend.
    pub fn packs_for(
        &self,
        dir: &Path,
        listed: Option<&[String]>,
        test_dir: &Path,
    ) -> Result<Vec<PackFiles>, Box<PlanDiagnostic>> {
        let mut packs: Vec<PackFiles> = Vec::new();
        match listed {
            Some(list) => {
                for entry in list {
                    let p = if entry.contains('/') || entry.starts_with('.') {
                        config::read_pack(&normalize(&test_dir.join(entry)))?
                    } else {
                        self.resolve(entry, dir)?
                    };
                    packs.push(p);
                }
            }
            None => packs.push(config::read_pack(dir)?),
        }
        // Add what they extend and nobody provides, until nothing is missing.
        let mut i = 0;
        while i < packs.len() {
            let extends = packs[i]
                .manifest
                .extends
                .as_ref()
                .map(|e| e.get_ref().clone())
                .unwrap_or_default();
            let near = packs[i].dir.clone();
            for name in extends {
                if !packs.iter().any(|p| p.manifest.name == name) {
                    let p = self.resolve(
                        &name,
                        if near.as_os_str().is_empty() {
                            dir
                        } else {
                            &near
                        },
                    )?;
                    packs.push(p);
                }
            }
            i += 1;
        }
        Ok(packs)
    }
}

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

/// Why a case failed.
pub enum Failure {
    /// The case could not run: a fixture does not load, the packs do not
    /// compile, an expectation names something that does not exist.
    Setup {
        message: String,
        diagnostics: Vec<Diag>,
    },
    /// A derived value is not the expected one.
    Value {
        entity: String,
        value: String,
        expected: String,
        actual: String,
        explanation: Option<Explanation>,
    },
    /// An expected finding is not there.
    MissingFinding {
        rule: String,
        entity: String,
        detail: String,
        explanation: Option<Explanation>,
    },
    /// A finding is there that the case says must not be.
    UnexpectedFinding {
        rule: String,
        entity: String,
        why: String,
        diagnostic: Diag,
    },
    /// A rule or derived value failed at run time (division by zero …).
    RuleFailed { diagnostic: Diag },
}

/// One case's result.
pub struct CaseResult {
    /// The pack's directory.
    pub pack: String,
    /// The test file.
    pub file: String,
    /// The case's name.
    pub name: String,
    /// How many expectations were checked.
    pub checks: usize,
    pub failures: Vec<Failure>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// What coverage counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CoverageKind {
    /// A rule fired on some fixture.
    RuleFired,
    /// A rule was evaluated on some fixture entity (its filter let it
    /// through) and did not fire.
    RulePassed,
    /// A band or state of a grade scale was produced.
    Grade,
    /// A rule with this `suggest` outcome fired.
    Suggest,
    /// An outcome-typed derived value took this value.
    Outcome,
    /// An expectation checked this derived value.
    Value,
}

/// One thing coverage counts, and whether some case covered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoverageItem {
    pub kind: CoverageKind,
    /// `review.target_met_early`, `abc.未算出`, `拡充`,
    /// `project.suggested = 統合`, `indicator.rate`.
    pub what: String,
    pub covered: bool,
}

/// The coverage of one pack by its tests.
#[derive(Clone, Debug)]
pub struct Coverage {
    /// The pack's directory.
    pub pack: String,
    /// How many cases ran.
    pub cases: usize,
    pub items: Vec<CoverageItem>,
}

impl Coverage {
    /// Covered items as a percentage of all (100 when there is nothing to
    /// cover).
    pub fn percent(&self) -> f64 {
        if self.items.is_empty() {
            return 100.0;
        }
        let covered = self.items.iter().filter(|i| i.covered).count();
        covered as f64 * 100.0 / self.items.len() as f64
    }

    /// The items of `kind` no case covered.
    pub fn missing(&self, kind: CoverageKind) -> Vec<&str> {
        self.items
            .iter()
            .filter(|i| i.kind == kind && !i.covered)
            .map(|i| i.what.as_str())
            .collect()
    }
}

/// Everything a run produced.
pub struct TestReport {
    pub cases: Vec<CaseResult>,
    pub coverage: Vec<Coverage>,
}

impl TestReport {
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| !c.passed()).count()
    }
}

/// What one case saw, in the terms of [`CoverageItem::what`].
#[derive(Default)]
struct Seen {
    items: BTreeSet<(CoverageKind, String)>,
    /// Rules evaluated on something (fired or not).
    evaluated: BTreeSet<String>,
}

// ---------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------

/// Options of a run.
pub struct RunOptions<'f> {
    /// Only cases whose `file › name` contains this.
    pub filter: Option<String>,
    /// Where extended packs come from.
    pub resolver: Resolver<'f>,
}

/// Why a case's packs are not ready.
enum SetupProblem {
    Packs(Box<PlanDiagnostic>),
    Compile(Vec<hyoka_dsl::CompileError>),
}

impl SetupProblem {
    fn to_diags(&self) -> Vec<Diag> {
        match self {
            SetupProblem::Packs(d) => vec![d.clone() as Diag],
            SetupProblem::Compile(errors) => {
                errors.iter().map(|e| Box::new(e.clone()) as Diag).collect()
            }
        }
    }
}

type Compiled = Arc<Result<(Program, RuleText), SetupProblem>>;

/// A case ready to run: its program, fixtures and expectations.
struct Job<'s> {
    pack: usize,
    suite: &'s Suite,
    case: &'s Case,
    program: Compiled,
    /// Whether this is the first case to use `program`.
    first: bool,
}

/// Runs the tests of `packs`.
pub fn run(packs: &[PackTests], opts: &RunOptions<'_>) -> TestReport {
    let schema = PlanSchema::new();
    let mut results: Vec<CaseResult> = Vec::new();
    let mut jobs: Vec<Job<'_>> = Vec::new();
    let mut programs: HashMap<String, Compiled> = HashMap::new();
    for (pi, pt) in packs.iter().enumerate() {
        let pack_name = pt.dir.display().to_string();
        for suite in &pt.suites {
            let suite = match suite {
                Ok(s) => s,
                Err(d) => {
                    results.push(CaseResult {
                        pack: pack_name.clone(),
                        file: d
                            .file
                            .as_ref()
                            .map(|f| f.name().to_string())
                            .unwrap_or_default(),
                        name: "(test file)".into(),
                        checks: 0,
                        failures: vec![Failure::Setup {
                            message: "the test file does not parse".into(),
                            diagnostics: vec![d.clone() as Diag],
                        }],
                    });
                    continue;
                }
            };
            let test_dir = suite.path.parent().unwrap_or(Path::new("."));
            for case in &suite.file.cases {
                let listed = case.packs.as_ref().or(suite.file.packs.as_ref());
                let label = format!("{} › {}", suite.path.display(), case.name);
                if opts
                    .filter
                    .as_ref()
                    .is_some_and(|f| !label.contains(f.as_str()))
                {
                    continue;
                }
                let mut params: Vec<(String, String)> = suite
                    .file
                    .params
                    .iter()
                    .map(|(k, v)| (k.clone(), config::param_text(v)))
                    .collect();
                params.extend(
                    case.params
                        .iter()
                        .map(|(k, v)| (k.clone(), config::param_text(v))),
                );
                let key = format!("{}|{listed:?}|{params:?}", pt.dir.display());
                let first = !programs.contains_key(&key);
                let program = programs
                    .entry(key)
                    .or_insert_with(|| {
                        let packs = opts.resolver.packs_for(
                            &pt.dir,
                            listed.map(|l| l.as_slice()),
                            test_dir,
                        );
                        Arc::new(match packs {
                            Ok(p) => compile(&p, &params, &schema),
                            Err(d) => Err(SetupProblem::Packs(d)),
                        })
                    })
                    .clone();
                jobs.push(Job {
                    pack: pi,
                    suite,
                    case,
                    program,
                    first,
                });
            }
        }
    }
    let ran: Vec<(usize, CaseResult, Seen)> = jobs
        .par_iter()
        .map(|job| {
            let (result, seen) = run_case(job, &packs[job.pack], &schema);
            (job.pack, result, seen)
        })
        .collect();
    let mut seen_by_pack: Vec<Seen> = packs.iter().map(|_| Seen::default()).collect();
    let mut cases_by_pack = vec![0usize; packs.len()];
    for (p, result, seen) in ran {
        seen_by_pack[p].items.extend(seen.items);
        seen_by_pack[p].evaluated.extend(seen.evaluated);
        cases_by_pack[p] += 1;
        results.push(result);
    }
    let coverage = packs
        .iter()
        .enumerate()
        .map(|(i, pt)| {
            coverage_of(
                pt,
                &opts.resolver,
                &schema,
                &seen_by_pack[i],
                cases_by_pack[i],
            )
        })
        .collect();
    TestReport {
        cases: results,
        coverage,
    }
}

fn compile(
    packs: &[PackFiles],
    params: &[(String, String)],
    schema: &PlanSchema,
) -> Result<(Program, RuleText), SetupProblem> {
    match crate::rules::compile(packs, &ProjectConfig::default(), params, schema) {
        Ok(p) => {
            let text = RuleText::new(&p);
            Ok((p, text))
        }
        Err(errors) => Err(SetupProblem::Compile(errors)),
    }
}

/// The fixture plans of a case: inline texts padded so that line numbers
/// in diagnostics are those of the test file, then plan files, read by the
/// loader.
fn fixtures(suite: &Suite, case: &Case) -> Result<Vec<SourceFile>, Vec<Diag>> {
    let mut out = Vec::new();
    for plan in suite.file.plans.iter().chain(&case.plans) {
        let start = plan.span().start;
        let text = &suite.source.text;
        let mut line = text[..start.min(text.len())].matches('\n').count();
        let rest = &text[start.min(text.len())..];
        if (rest.starts_with("\"\"\"") || rest.starts_with("'''"))
            && rest[3..].starts_with(['\n', '\r'])
        {
            line += 1;
        }
        let mut padded = "\n".repeat(line);
        padded.push_str(plan.get_ref());
        out.push(SourceFile {
            name: suite.source.name.clone(),
            text: Arc::from(padded),
        });
    }
    let dir = suite.path.parent().unwrap_or(Path::new("."));
    let paths: Vec<PathBuf> = suite
        .file
        .plan_files
        .iter()
        .chain(&case.plan_files)
        .map(|p| normalize(&dir.join(p)))
        .collect();
    if !paths.is_empty() {
        let loaded = crate::load::load(&paths);
        let io: Vec<Diag> = loaded
            .diagnostics
            .into_iter()
            .filter(|d| d.code == "hyoka::plan::io" || d.code == "hyoka::plan::encoding")
            .map(|d| Box::new(d) as Diag)
            .collect();
        if !io.is_empty() {
            return Err(io);
        }
        out.extend(loaded.corpus.files);
    }
    Ok(out)
}

/// `a/b/../c` as `a/c`, without touching the filesystem, so that
/// diagnostics name fixture files the way a person would.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                if matches!(last, Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn setup(message: impl Into<String>, diagnostics: Vec<Diag>) -> Failure {
    Failure::Setup {
        message: message.into(),
        diagnostics,
    }
}

fn run_case(job: &Job<'_>, pt: &PackTests, schema: &PlanSchema) -> (CaseResult, Seen) {
    let mut result = CaseResult {
        pack: pt.dir.display().to_string(),
        file: job.suite.path.display().to_string(),
        name: job.case.name.clone(),
        checks: 0,
        failures: Vec::new(),
    };
    let mut seen = Seen::default();
    let (program, text) = match job.program.as_ref() {
        Ok((p, t)) => (p, t),
        Err(problem) => {
            // Said once, on the first case that uses these packs.
            let diagnostics = if job.first {
                problem.to_diags()
            } else {
                Vec::new()
            };
            let message = match problem {
                SetupProblem::Packs(_) => "the rule packs cannot be found",
                SetupProblem::Compile(_) if job.first => "the rule packs do not compile",
                SetupProblem::Compile(_) => {
                    "the rule packs do not compile (see the first case of this file)"
                }
            };
            result.failures.push(setup(message, diagnostics));
            return (result, seen);
        }
    };
    let sources = match fixtures(job.suite, job.case) {
        Ok(s) => s,
        Err(d) => {
            result
                .failures
                .push(setup("a fixture plan file cannot be read", d));
            return (result, seen);
        }
    };
    if sources.is_empty() {
        result.failures.push(setup(
            "the case has no fixture plan: give `plans` (inline) or `plan_files`",
            Vec::new(),
        ));
        return (result, seen);
    }
    let loaded = crate::load::load_sources(sources);
    let errors: Vec<Diag> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| Box::new(d.clone()) as Diag)
        .collect();
    if !errors.is_empty() {
        result
            .failures
            .push(setup("a fixture plan does not load", errors));
        return (result, seen);
    }
    let corpus = &loaded.corpus;
    let year = job
        .case
        .year
        .or(job.suite.file.year)
        .or_else(|| crate::eval::latest_actual_year(corpus))
        .unwrap_or(0);
    let evaluation = crate::eval::evaluate(corpus, schema, program, year);
    let data = &evaluation.data;
    for f in &evaluation.failures {
        result.failures.push(Failure::RuleFailed {
            diagnostic: Box::new(f.error.clone()),
        });
    }
    check_values(
        job.case,
        program,
        text,
        data,
        corpus,
        schema,
        year,
        &mut result,
        &mut seen,
    );
    check_findings(
        job.case,
        program,
        text,
        data,
        corpus,
        schema,
        year,
        &evaluation.findings,
        &mut result,
    );
    observe(program, text, data, year, &evaluation.findings, &mut seen);
    (result, seen)
}

// ---------------------------------------------------------------------------
// Expected values
// ---------------------------------------------------------------------------

/// An expected value as written in a test file.
#[derive(Clone, Debug, PartialEq)]
enum Expected {
    /// `"missing"`, or `"missing (集計中)"` with the plan's reason.
    Missing(Option<String>),
    /// `"238/300"`, `"=70%"`, a whole number: exactly this number.
    Exact(Number),
    /// `"79.3%"`, `0.793`: the actual value rounded to as many places as
    /// written (of the percentage when `%`).
    Rounded {
        value: Number,
        digits: u32,
        percent: bool,
    },
    /// `true` / `false`.
    Bool(bool),
    /// Anything else, compared with the value as messages show it: a grade
    /// (`"B"`), an outcome (`"拡充"`), text.
    Text(String),
}

impl Expected {
    fn parse(v: &toml::Value) -> Expected {
        match v {
            toml::Value::Boolean(b) => Expected::Bool(*b),
            toml::Value::Integer(i) => Expected::Exact(Number::from_i64(*i)),
            toml::Value::Float(f) => Expected::parse_text(&f.to_string()),
            toml::Value::String(s) => Expected::parse_text(s),
            other => Expected::Text(other.to_string()),
        }
    }

    fn parse_text(s: &str) -> Expected {
        let t = s.trim();
        if t == "missing" {
            return Expected::Missing(None);
        }
        if let Some(r) = t.strip_prefix("missing") {
            let r = r
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim();
            return Expected::Missing(Some(r.to_string()));
        }
        if let Some(x) = t.strip_prefix('=') {
            if let Ok(n) = Number::parse(x) {
                return Expected::Exact(n);
            }
        }
        // A fraction is exact with or without the leading `=`.
        if let Some((a, b)) = t.trim_start_matches('=').split_once('/') {
            if let (Ok(a), Ok(b)) = (Number::parse(a), Number::parse(b)) {
                if let Ok(n) = a.checked_div(b) {
                    return Expected::Exact(n);
                }
            }
        }
        if let Ok(n) = Number::parse(t) {
            let body = t.trim_end_matches('%').trim();
            let digits = body.split_once('.').map_or(0, |(_, f)| {
                f.chars().filter(|c| c.is_ascii_digit()).count() as u32
            });
            if digits == 0 {
                return Expected::Exact(n);
            }
            return Expected::Rounded {
                value: n,
                digits,
                percent: t.ends_with('%'),
            };
        }
        Expected::Text(t.to_string())
    }

    fn matches(&self, actual: &OwnedValue, shown: &str) -> bool {
        match (self, actual) {
            (Expected::Missing(None), OwnedValue::Missing(_)) => true,
            (Expected::Missing(Some(r)), OwnedValue::Missing(Some(a))) => **a == **r,
            (Expected::Exact(n), OwnedValue::Num(a)) => a == n,
            (Expected::Exact(n), OwnedValue::Year(y)) => Number::from_i64(*y as i64) == *n,
            (
                Expected::Rounded {
                    value,
                    digits,
                    percent,
                },
                OwnedValue::Num(a),
            ) => {
                let hundred = Number::from_i64(100);
                let (a, v) = if *percent {
                    (a.checked_mul(hundred).ok(), value.checked_mul(hundred).ok())
                } else {
                    (Some(*a), Some(*value))
                };
                match (a.and_then(|a| a.round(*digits as i32).ok()), v) {
                    (Some(a), Some(v)) => a == v,
                    _ => false,
                }
            }
            (Expected::Bool(b), OwnedValue::Bool(a)) => a == b,
            (Expected::Text(t), v) if !matches!(v, OwnedValue::Missing(_)) => shown == t,
            _ => false,
        }
    }
}

/// A value for a failure message: as shown, with the percentage when the
/// expectation was one.
fn describe_actual(actual: &OwnedValue, shown: &str, percent: bool) -> String {
    match actual {
        OwnedValue::Missing(None) => "missing".into(),
        OwnedValue::Missing(Some(r)) => format!("missing ({r})"),
        OwnedValue::Num(n) if percent => format!("{shown} ({})", explain::percent(*n)),
        _ => shown.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_values(
    case: &Case,
    program: &Program,
    text: &RuleText,
    data: &CorpusData<'_>,
    corpus: &Corpus,
    schema: &PlanSchema,
    year: i32,
    result: &mut CaseResult,
    seen: &mut Seen,
) {
    for (entity, values) in &case.values {
        for (name, expected) in values {
            result.checks += 1;
            let targets = match explain::resolve_target(program, name) {
                Ok(t) => t,
                Err(e) => {
                    result.failures.push(setup(
                        format!("value `{name}` of `{entity}`: {e}"),
                        Vec::new(),
                    ));
                    continue;
                }
            };
            let derives: Vec<hyoka_dsl::DeriveId> = targets
                .iter()
                .filter_map(|t| match t {
                    Target::Derive(d) => Some(*d),
                    Target::Rule(_) => None,
                })
                .collect();
            if derives.is_empty() {
                result.failures.push(setup(
                    format!("`{name}` is a rule, not a derived value: expect it under `[[case.finding]]`"),
                    Vec::new(),
                ));
                continue;
            }
            let kinds: Vec<_> = derives
                .iter()
                .map(|d| program.derives()[d.0 as usize].kind)
                .collect();
            let obj = match explain::find_entity(corpus, schema, entity, &kinds)
                .map_err(|e| e.for_target(name))
            {
                Ok(o) => o,
                Err(e) => {
                    result.failures.push(setup(
                        format!("value `{name}` of `{entity}`: {e}"),
                        Vec::new(),
                    ));
                    continue;
                }
            };
            let Some(d) = derives
                .iter()
                .copied()
                .find(|d| program.derives()[d.0 as usize].kind == obj.kind)
            else {
                continue;
            };
            let def = &program.derives()[d.0 as usize];
            seen.items
                .insert((CoverageKind::Value, value_key(program, def)));
            let actual = data
                .derived_value(d, obj.index)
                .cloned()
                .unwrap_or(OwnedValue::Missing(None));
            let shown = program.show(actual.as_value(), data);
            let exp = Expected::parse(expected.get_ref());
            if !exp.matches(&actual, &shown) {
                let written = match expected.get_ref() {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let percent = written.contains('%');
                result.failures.push(Failure::Value {
                    entity: entity.clone(),
                    value: format!("{}.{}", def.pack, def.name),
                    expected: written,
                    actual: describe_actual(&actual, &shown, percent),
                    explanation: Some(explain::explain(
                        program,
                        text,
                        data,
                        year,
                        Target::Derive(d),
                        obj,
                    )),
                });
            }
        }
    }
}

/// The coverage key of a derived value: `indicator.rate`.
fn value_key(program: &Program, d: &hyoka_dsl::Derive) -> String {
    format!("{}.{}", program.kind_name(d.kind), d.name)
}

/// Whether finding `f` is about `obj` (for a group rule: `obj` is a member).
fn concerns(f: &Finding, data: &CorpusData<'_>, obj: Obj) -> bool {
    let e = EntityRef::of(data, obj);
    f.entity == e || f.members.contains(&e)
}

fn finding_entity(f: &Finding, corpus: &Corpus) -> String {
    let e = &f.entity;
    match e.kind {
        crate::finding::EntityKind::Plan => e.plan_id(corpus).to_string(),
        _ => format!("{}/{}", e.plan_id(corpus), e.id(corpus)),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_findings(
    case: &Case,
    program: &Program,
    text: &RuleText,
    data: &CorpusData<'_>,
    corpus: &Corpus,
    schema: &PlanSchema,
    year: i32,
    findings: &[Finding],
    result: &mut CaseResult,
) {
    let rule_id = |name: &str, result: &mut CaseResult| match program.rule_named(name) {
        Some(r) => Some(r),
        None => {
            let known: Vec<String> = program.rules().iter().map(|r| r.qualified_id()).collect();
            let refs: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
            let hint = crate::load::read::did_you_mean(name, &refs)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            result.failures.push(setup(
                format!("no rule is called `{name}`{hint}"),
                Vec::new(),
            ));
            None
        }
    };
    let mut matched: Vec<bool> = vec![false; findings.len()];
    let mut only_rules: Vec<String> = Vec::new();
    for exp in &case.findings {
        result.checks += 1;
        let Some(r) = rule_id(&exp.rule, result) else {
            continue;
        };
        let kind = program.rules()[r.0 as usize].scope.kind();
        let obj = match explain::find_entity(corpus, schema, &exp.entity, &[kind])
            .map_err(|e| e.for_target(&exp.rule))
        {
            Ok(o) => o,
            Err(e) => {
                result.failures.push(setup(
                    format!("finding `{}` on `{}`: {e}", exp.rule, exp.entity),
                    Vec::new(),
                ));
                continue;
            }
        };
        if exp.only && !only_rules.contains(&exp.rule) {
            only_rules.push(exp.rule.clone());
        }
        let candidates: Vec<usize> = findings
            .iter()
            .enumerate()
            .filter(|(_, f)| *f.rule == *exp.rule && concerns(f, data, obj))
            .map(|(i, _)| i)
            .collect();
        let fits = |f: &Finding| {
            exp.message
                .as_ref()
                .is_none_or(|m| f.message.contains(m.as_str()))
                && exp
                    .severity
                    .as_ref()
                    .is_none_or(|s| f.severity.as_str() == s)
        };
        match candidates.iter().find(|&&i| fits(&findings[i])) {
            Some(&i) => matched[i] = true,
            None => {
                let detail = match candidates.first() {
                    Some(&i) => {
                        matched[i] = true;
                        let f = &findings[i];
                        let mut d = Vec::new();
                        if let Some(m) = &exp.message {
                            if !f.message.contains(m.as_str()) {
                                d.push(format!(
                                    "its message does not contain `{m}`: {}",
                                    f.message
                                ));
                            }
                        }
                        if let Some(s) = &exp.severity {
                            if f.severity.as_str() != s {
                                d.push(format!("its severity is {}, not {s}", f.severity));
                            }
                        }
                        format!("the rule fired here, but {}", d.join("; and "))
                    }
                    None => {
                        let elsewhere: Vec<String> = findings
                            .iter()
                            .filter(|f| *f.rule == *exp.rule)
                            .map(|f| finding_entity(f, corpus))
                            .collect();
                        if elsewhere.is_empty() {
                            "the rule fired nowhere in this case".to_string()
                        } else {
                            format!("the rule fired on {} only", elsewhere.join(", "))
                        }
                    }
                };
                let explanation = candidates
                    .is_empty()
                    .then(|| explain::explain(program, text, data, year, Target::Rule(r), obj));
                result.failures.push(Failure::MissingFinding {
                    rule: exp.rule.clone(),
                    entity: exp.entity.clone(),
                    detail,
                    explanation,
                });
            }
        }
    }
    for rule in &only_rules {
        for (i, f) in findings.iter().enumerate() {
            if *f.rule == **rule && !matched[i] {
                result.failures.push(Failure::UnexpectedFinding {
                    rule: rule.clone(),
                    entity: finding_entity(f, corpus),
                    why: "the case expects no other finding of this rule (`only = true`)".into(),
                    diagnostic: Box::new(f.to_diagnostic(corpus)),
                });
            }
        }
    }
    for nf in &case.no_findings {
        result.checks += 1;
        let Some(r) = rule_id(&nf.rule, result) else {
            continue;
        };
        let obj = match &nf.entity {
            Some(spec) => {
                let kind = program.rules()[r.0 as usize].scope.kind();
                match explain::find_entity(corpus, schema, spec, &[kind])
                    .map_err(|e| e.for_target(&nf.rule))
                {
                    Ok(o) => Some(o),
                    Err(e) => {
                        result.failures.push(setup(
                            format!("no finding `{}` on `{spec}`: {e}", nf.rule),
                            Vec::new(),
                        ));
                        continue;
                    }
                }
            }
            None => None,
        };
        for f in findings {
            if *f.rule == *nf.rule && obj.is_none_or(|o| concerns(f, data, o)) {
                result.failures.push(Failure::UnexpectedFinding {
                    rule: nf.rule.clone(),
                    entity: finding_entity(f, corpus),
                    why: match &nf.entity {
                        Some(e) => format!("the case expects no finding of this rule on `{e}`"),
                        None => "the case expects no finding of this rule".into(),
                    },
                    diagnostic: Box::new(f.to_diagnostic(corpus)),
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Coverage
// ---------------------------------------------------------------------------

/// Records what a case exercised.
fn observe(
    program: &Program,
    text: &RuleText,
    data: &CorpusData<'_>,
    year: i32,
    findings: &[Finding],
    seen: &mut Seen,
) {
    let ctx = Ctx { year };
    let outcome_enum = data.schema.enums.outcome;
    let outcome_values = &data.schema.schema.enum_def(outcome_enum).values;
    // Grades and outcomes produced by derived values.
    for (i, d) in program.derives().iter().enumerate() {
        let id = hyoka_dsl::DeriveId(i as u32);
        for obj in data.entities(d.kind) {
            match data.derived_value(id, obj.index) {
                Some(OwnedValue::Grade(s, g)) => {
                    if let Some(scale) = program.scale(*s) {
                        seen.items.insert((
                            CoverageKind::Grade,
                            format!("{}.{}", scale.name, scale.label(*g)),
                        ));
                    }
                }
                Some(OwnedValue::Enum(e, v)) if *e == outcome_enum => {
                    if let Some(name) = outcome_values.get(*v as usize) {
                        seen.items.insert((
                            CoverageKind::Outcome,
                            format!("{} = {name}", value_key(program, d)),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    // Rules: fired, and evaluated without firing.
    for (i, rule) in program.rules().iter().enumerate() {
        let r = hyoka_dsl::RuleId(i as u32);
        let id = rule.qualified_id();
        let fired: Vec<&Finding> = findings.iter().filter(|f| *f.rule == *id).collect();
        if !fired.is_empty() {
            seen.items.insert((CoverageKind::RuleFired, id.clone()));
            seen.evaluated.insert(id.clone());
            if let Some(s) = &rule.suggest {
                seen.items.insert((CoverageKind::Suggest, s.clone()));
            }
        }
        let passed = match rule.scope {
            Scope::Each(kind) => data.entities(kind).into_iter().any(|obj| {
                !fired.iter().any(|f| concerns(f, data, obj))
                    && explain::filter_passes(program, text, data, &ctx, r, obj)
            }),
            Scope::Group(kind) => {
                let mut keys: Vec<hyoka_dsl::Key> = Vec::new();
                for obj in data.entities(kind) {
                    if let Ok(Some(k)) = program.eval_group_key(r, obj, data, &ctx) {
                        if !keys.contains(&k) {
                            keys.push(k);
                        }
                    }
                }
                keys.len() > fired.len()
            }
        };
        if passed {
            seen.items.insert((CoverageKind::RulePassed, id.clone()));
            seen.evaluated.insert(id);
        }
    }
}

/// The items a pack can be covered on, from the pack compiled with what it
/// extends and its own defaults.
fn coverage_of(
    pt: &PackTests,
    resolver: &Resolver<'_>,
    schema: &PlanSchema,
    seen: &Seen,
    cases: usize,
) -> Coverage {
    let pack = pt.dir.display().to_string();
    let mut items = Vec::new();
    let packs = match resolver.packs_for(&pt.dir, None, &pt.dir) {
        Ok(p) => p,
        Err(_) => return Coverage { pack, cases, items },
    };
    let Ok(program) = crate::rules::compile(&packs, &ProjectConfig::default(), &[], schema) else {
        return Coverage { pack, cases, items };
    };
    let text = RuleText::new(&program);
    let own_files: Vec<&str> = pt.pack.files.iter().map(|f| f.name.as_str()).collect();
    let own = |loc: hyoka_dsl::Loc| {
        program
            .sources()
            .get(loc.file as usize)
            .is_some_and(|s| own_files.contains(&s.name.as_str()))
    };
    let mut push = |kind: CoverageKind, what: String| {
        let covered = seen.items.contains(&(kind, what.clone()));
        if !items
            .iter()
            .any(|i: &CoverageItem| i.kind == kind && i.what == what)
        {
            items.push(CoverageItem {
                kind,
                what,
                covered,
            });
        }
    };
    for rule in program.rules().iter().filter(|r| own(r.loc)) {
        push(CoverageKind::RuleFired, rule.qualified_id());
        push(CoverageKind::RulePassed, rule.qualified_id());
    }
    for scale in program.scales().iter().filter(|s| own(s.loc)) {
        for b in &scale.bands {
            push(CoverageKind::Grade, format!("{}.{}", scale.name, b.name));
        }
        for s in &scale.states {
            push(CoverageKind::Grade, format!("{}.{s}", scale.name));
        }
    }
    let mut suggests: Vec<String> = program
        .rules()
        .iter()
        .filter(|r| own(r.loc))
        .filter_map(|r| r.suggest.clone())
        .collect();
    suggests.sort_by_key(|s| crate::schema::OUTCOMES.iter().position(|o| o == s));
    suggests.dedup();
    for s in suggests {
        push(CoverageKind::Suggest, s);
    }
    let outcome = schema.enums.outcome;
    let values = &schema.schema.enum_def(outcome).values;
    for d in program.derives().iter().filter(|d| own(d.loc)) {
        if d.ty == hyoka_dsl::Type::enumeration(outcome) {
            let mut found = text.enum_values_in(d, values);
            found.sort_by_key(|s| crate::schema::OUTCOMES.iter().position(|o| o == s));
            for v in found {
                push(
                    CoverageKind::Outcome,
                    format!("{} = {v}", value_key(&program, d)),
                );
            }
        }
    }
    for d in program.derives().iter().filter(|d| own(d.loc)) {
        push(CoverageKind::Value, value_key(&program, d));
    }
    Coverage { pack, cases, items }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> OwnedValue {
        OwnedValue::Num(Number::parse(s).unwrap())
    }

    #[test]
    fn expected_numbers() {
        let rate = OwnedValue::Num(Number::ratio(238, 300).unwrap());
        assert!(Expected::parse_text("79.3%").matches(&rate, ""));
        assert!(!Expected::parse_text("79.4%").matches(&rate, ""));
        assert!(Expected::parse_text("238/300").matches(&rate, ""));
        assert!(!Expected::parse_text("=79.3%").matches(&rate, ""));
        assert!(Expected::parse_text("0.793").matches(&rate, ""));
        // A whole number is exact.
        assert!(Expected::parse_text("70%").matches(&num("0.7"), ""));
        assert!(!Expected::parse_text("70%").matches(&num("0.7001"), ""));
        assert!(Expected::parse_text("70.0%").matches(&num("0.7001"), ""));
        assert!(Expected::parse(&toml::Value::Integer(238)).matches(&num("238"), ""));
    }

    #[test]
    fn expected_other_values() {
        assert!(Expected::parse_text("missing").matches(&OwnedValue::Missing(None), ""));
        assert!(Expected::parse_text("missing (集計中)")
            .matches(&OwnedValue::Missing(Some("集計中".into())), ""));
        assert!(!Expected::parse_text("missing").matches(&num("1"), "1"));
        assert!(
            Expected::parse_text("B").matches(&OwnedValue::Grade(hyoka_dsl::ScaleId(0), 1), "B")
        );
        assert!(!Expected::parse_text("B").matches(&OwnedValue::Missing(None), "—"));
        assert!(
            Expected::parse(&toml::Value::Boolean(true)).matches(&OwnedValue::Bool(true), "true")
        );
    }
}
