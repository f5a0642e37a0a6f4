//! `hyoka rules list` and `hyoka rules doc`: what the rule packs declare,
//! from their metadata — rules (id, title, severity, scope, suggest,
//! rationale, references, tags), parameters with their defaults, derived
//! values, grade scales with their bands — as a terminal listing or as a
//! Markdown reference (docs/rules-reference.md is `hyoka rules doc rules/`).
//!
//! Given pack directories, each pack is compiled with the packs it extends
//! (found beside it) and documented on its own, so alternative packs of the
//! same name (the grade packs) can be documented together. Without, the
//! configured packs (or the standard ones) are documented as configured.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hyoka_dsl::ast;
use hyoka_dsl::{Number, Program, Scope};
use hyoka_engine::config::{PackFiles, DEFAULT_PACKS};
use hyoka_engine::explain::{percent, RuleText};
use hyoka_engine::ruletest::Resolver;
use hyoka_engine::schema::PlanSchema;
use hyoka_engine::PlanDiagnostic;

use crate::output::{self, Color};
use crate::setup;

/// Arguments of `hyoka rules`.
#[derive(clap::Args, Debug)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: RulesCommand,
}

/// `hyoka rules list` / `hyoka rules doc`.
#[derive(clap::Subcommand, Debug)]
pub enum RulesCommand {
    /// List the rules, derived values and parameters of the packs
    List(SelectArgs),
    /// Write a Markdown reference of the packs
    Doc(DocArgs),
}

/// Which packs to describe.
#[derive(clap::Args, Debug)]
pub struct SelectArgs {
    /// Rule pack directories, or directories of packs, each described on its own (default: the configured packs)
    pub packs: Vec<PathBuf>,
    #[command(flatten)]
    pub rules: setup::RuleOptions,
    /// Colour the diagnostics: auto (when a terminal), always, never
    #[arg(long, default_value = "auto")]
    pub color: Color,
}

/// Arguments of `hyoka rules doc`.
#[derive(clap::Args, Debug)]
pub struct DocArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Write the reference to this file instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(args: RulesArgs) -> ExitCode {
    match args.command {
        RulesCommand::List(a) => match units(&a) {
            Ok(units) => {
                print!("{}", list(&units));
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        RulesCommand::Doc(a) => match units(&a.select) {
            Ok(units) => {
                let command = if a.select.packs.is_empty() {
                    "hyoka rules doc".to_string()
                } else {
                    let dirs: Vec<String> = a
                        .select
                        .packs
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect();
                    format!("hyoka rules doc {}", dirs.join(" "))
                };
                let text = doc(&units, &command);
                match &a.output {
                    Some(path) => match std::fs::write(path, text) {
                        Ok(()) => ExitCode::SUCCESS,
                        Err(e) => {
                            output::eprint(&format!(
                                "error: cannot write `{}`: {e}\n",
                                path.display()
                            ));
                            output::usage_error()
                        }
                    },
                    None => {
                        print!("{text}");
                        ExitCode::SUCCESS
                    }
                }
            }
            Err(code) => code,
        },
    }
}

/// One pack to describe: its manifest, and a program that holds it.
struct Unit {
    pack: PackFiles,
    program: std::rc::Rc<Program>,
    text: std::rc::Rc<RuleText>,
}

impl Unit {
    fn own(&self, loc: hyoka_dsl::Loc) -> bool {
        let name = self
            .program
            .sources()
            .get(loc.file as usize)
            .map(|s| s.name.as_str());
        self.pack
            .files
            .iter()
            .any(|f| Some(f.name.as_str()) == name)
    }

    fn label(&self) -> String {
        let dir = self.pack.dir.display().to_string();
        let base = Path::new(&dir)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or(dir);
        base
    }
}

fn fail(d: &PlanDiagnostic, color: Color) -> ExitCode {
    let mut out = String::new();
    output::render_one(d, &output::handler(color), &mut out);
    output::eprint(&out);
    output::usage_error()
}

fn standard(name: &str) -> Option<Result<PackFiles, Box<PlanDiagnostic>>> {
    setup::standard_pack(name)
}

/// The packs to describe, each with a compiled program.
fn units(args: &SelectArgs) -> Result<Vec<Unit>, ExitCode> {
    let schema = PlanSchema::new();
    let handler = output::handler(args.color);
    if args.packs.is_empty() {
        let rules = match setup::rules(&[], &args.rules, &schema) {
            Ok(r) => r,
            Err(e) => return Err(output::setup_failed(e, &handler)),
        };
        let program = std::rc::Rc::new(rules.program);
        let text = std::rc::Rc::new(RuleText::new(&program));
        return Ok(rules
            .packs
            .into_iter()
            .map(|pack| Unit {
                pack,
                program: program.clone(),
                text: text.clone(),
            })
            .collect());
    }
    let found = match hyoka_engine::ruletest::discover(&args.packs) {
        Ok(f) => f,
        Err(d) => return Err(fail(&d, args.color)),
    };
    let resolver = Resolver {
        fallback: Some(&standard),
    };
    let mut out = Vec::new();
    for pt in found {
        let packs = match resolver.packs_for(&pt.dir, None, &pt.dir) {
            Ok(p) => p,
            Err(d) => return Err(fail(&d, args.color)),
        };
        let config = hyoka_engine::config::ProjectConfig::default();
        let program = match hyoka_engine::rules::compile(&packs, &config, &args.rules.set, &schema)
        {
            Ok(p) => p,
            Err(e) => {
                return Err(output::setup_failed(
                    setup::SetupError::Compile(e),
                    &handler,
                ));
            }
        };
        let text = RuleText::new(&program);
        out.push(Unit {
            pack: pt.pack,
            program: std::rc::Rc::new(program),
            text: std::rc::Rc::new(text),
        });
    }
    // The standard packs in the order they build on each other, then the rest.
    out.sort_by_key(|u| {
        let label = u.label();
        (
            DEFAULT_PACKS
                .iter()
                .position(|p| *p == label)
                .unwrap_or(usize::MAX),
            label,
        )
    });
    Ok(out)
}

// ---------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------

/// A data source with nothing in it: parameter values are not entities.
struct NoData;

impl hyoka_dsl::Data for NoData {
    fn field(&self, _: hyoka_dsl::Obj, _: hyoka_dsl::FieldId) -> hyoka_dsl::Value<'_> {
        hyoka_dsl::Value::Missing(None)
    }
    fn list_get(&self, _: hyoka_dsl::ListRef, _: u32) -> hyoka_dsl::Value<'_> {
        hyoka_dsl::Value::Missing(None)
    }
    fn derived(&self, _: hyoka_dsl::DeriveId, _: hyoka_dsl::Obj) -> hyoka_dsl::Value<'_> {
        hyoka_dsl::Value::Missing(None)
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `for indicator`, `for group indicator by (…) where …`.
fn scope_text(u: &Unit, rule: &hyoka_dsl::Rule) -> String {
    match u.text.rule(rule) {
        Some(d) => {
            let mut s = one_line(&u.text.slice(&u.program, rule.loc.file, d.scope.span));
            if let Some(f) = &d.filter {
                s.push_str(" where ");
                s.push_str(&one_line(&u.text.slice(&u.program, rule.loc.file, f.span)));
            }
            s
        }
        None => match rule.scope {
            Scope::Each(k) => u.program.kind_name(k).to_string(),
            Scope::Group(k) => format!("group {}", u.program.kind_name(k)),
        },
    }
}

/// A parameter's default as written (`90%`), and its value when a pack
/// or the configuration sets another.
fn param_default(u: &Unit, p: &hyoka_dsl::Param) -> String {
    let written = u
        .text
        .param(p)
        .map(|d| one_line(&u.text.slice(&u.program, p.loc.file, d.default.span)))
        .unwrap_or_else(|| u.program.show(p.value.as_value(), &NoData));
    if p.set_by == "default" || p.set_by.is_empty() {
        written
    } else {
        format!(
            "{written} (set to {} by {})",
            u.program.show(p.value.as_value(), &NoData),
            p.set_by
        )
    }
}

fn type_text(u: &Unit, file: u32, ty: &ast::Node<ast::TypeExpr>) -> String {
    one_line(&u.text.slice(&u.program, file, ty.span))
}

/// The bounds of a band in words.
fn band_range(b: &hyoka_dsl::Band, pct: bool) -> String {
    let n = |x: Number| if pct { percent(x) } else { x.to_string() };
    match (b.lo, b.hi) {
        (Some(lo), Some((hi, incl))) => {
            format!("{} ≤ x {} {}", n(lo), if incl { "≤" } else { "<" }, n(hi))
        }
        (Some(lo), None) => format!("x ≥ {}", n(lo)),
        (None, Some((hi, incl))) => format!("x {} {}", if incl { "≤" } else { "<" }, n(hi)),
        (None, None) => "any number".into(),
    }
}

/// Whether a scale's bounds read as percentages.
fn scale_pct(s: &hyoka_dsl::Scale) -> bool {
    s.bands
        .iter()
        .flat_map(|b| b.lo.into_iter().chain(b.hi.map(|(h, _)| h)))
        .all(|n| n.to_f64().abs() <= 10.0)
}

/// Display width in a terminal (wide characters count two).
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if (c as u32) >= 0x1100 && !matches!(c, '−' | '…' | '→' | '≤' | '≥') {
                2
            } else {
                1
            }
        })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

// ---------------------------------------------------------------------------
// list
// ---------------------------------------------------------------------------

fn list(units: &[Unit]) -> String {
    let mut out = String::new();
    for u in units {
        let m = &u.pack.manifest;
        let _ = writeln!(
            out,
            "{} ({}) {}: {}",
            m.name,
            u.pack.dir.display(),
            m.version,
            m.description
        );
        let rules: Vec<&hyoka_dsl::Rule> =
            u.program.rules().iter().filter(|r| u.own(r.loc)).collect();
        let rows: Vec<[String; 5]> = rules
            .iter()
            .map(|r| {
                [
                    r.qualified_id(),
                    r.severity.keyword().to_string(),
                    match r.scope {
                        Scope::Each(k) => u.program.kind_name(k).to_string(),
                        Scope::Group(k) => format!("group {}", u.program.kind_name(k)),
                    },
                    r.suggest.clone().unwrap_or_else(|| "—".into()),
                    r.title.clone().unwrap_or_default(),
                ]
            })
            .collect();
        if rows.is_empty() {
            out.push_str("  no rules\n");
        } else {
            let w: Vec<usize> = (0..4)
                .map(|i| rows.iter().map(|r| width(&r[i])).max().unwrap_or(0))
                .collect();
            for r in &rows {
                let _ = writeln!(
                    out,
                    "  {}  {}  {}  {}  {}",
                    pad(&r[0], w[0]),
                    pad(&r[1], w[1]),
                    pad(&r[2], w[2]),
                    pad(&r[3], w[3]),
                    r[4]
                );
            }
        }
        let derives: Vec<String> = u
            .program
            .derives()
            .iter()
            .filter(|d| u.own(d.loc))
            .map(|d| format!("{}.{}", u.program.kind_name(d.kind), d.name))
            .collect();
        if !derives.is_empty() {
            let _ = writeln!(out, "  derived values: {}", derives.join(", "));
        }
        let params: Vec<String> = u
            .program
            .params()
            .iter()
            .filter(|p| u.own(p.loc))
            .map(|p| format!("{}.{} = {}", p.pack, p.name, param_default(u, p)))
            .collect();
        if !params.is_empty() {
            let _ = writeln!(out, "  parameters: {}", params.join(", "));
        }
        let scales: Vec<String> = u
            .program
            .scales()
            .iter()
            .filter(|s| u.own(s.loc))
            .map(|s| {
                let labels: Vec<&str> = s
                    .bands
                    .iter()
                    .map(|b| b.name.as_str())
                    .chain(s.states.iter().map(|x| x.as_str()))
                    .collect();
                format!("{} ({})", s.name, labels.join(" "))
            })
            .collect();
        if !scales.is_empty() {
            let _ = writeln!(out, "  scales: {}", scales.join(", "));
        }
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------
// doc
// ---------------------------------------------------------------------------

/// Text for a Markdown table cell.
fn cell(s: &str) -> String {
    one_line(s).replace('|', "\\|")
}

/// A GitHub heading anchor for a pack label.
fn anchor(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c.to_lowercase().to_string())
            } else if c == ' ' {
                Some("-".into())
            } else {
                None
            }
        })
        .collect()
}

fn doc(units: &[Unit], command: &str) -> String {
    let mut out = String::new();
    out.push_str("# Rule reference\n\n");
    let _ = writeln!(
        out,
        "Generated from the rule packs' metadata by `{command}`; do not edit by hand.\nFor what the packs are for and how to choose among them, see\ndocs/rule-packs.md; for the language, docs/rule-language.md.\n"
    );
    out.push_str("| pack | directory | description |\n|---|---|---|\n");
    for u in units {
        let label = u.label();
        let _ = writeln!(
            out,
            "| [{label}](#{}) | `{}` | {} |",
            anchor(&label),
            u.pack.dir.display(),
            cell(&u.pack.manifest.description)
        );
    }
    for u in units {
        doc_unit(u, &mut out);
    }
    out
}

fn doc_unit(u: &Unit, out: &mut String) {
    let m = &u.pack.manifest;
    let p = &u.program;
    let _ = writeln!(out, "\n## {}\n", u.label());
    if !m.description.is_empty() {
        let _ = writeln!(out, "{}\n", m.description);
    }
    let extends = m
        .extends
        .as_ref()
        .map(|e| {
            e.get_ref()
                .iter()
                .map(|x| format!("`{x}`"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "nothing".into());
    let _ = writeln!(
        out,
        "Pack `{}` {} in `{}`; extends {extends}.",
        m.name,
        m.version,
        u.pack.dir.display()
    );
    if !m.params.is_empty() || !m.rules.is_empty() {
        out.push_str("\nSettings of extended packs in its `pack.toml`:\n\n");
        for (k, v) in m.params.iter().chain(m.rules.iter()) {
            let _ = writeln!(
                out,
                "- `{}` = `{}`",
                k.get_ref(),
                hyoka_engine::config::param_text(v.get_ref())
            );
        }
    }

    let params: Vec<&hyoka_dsl::Param> = p.params().iter().filter(|x| u.own(x.loc)).collect();
    if !params.is_empty() {
        out.push_str(
            "\n### Parameters\n\n| parameter | type | default | description |\n|---|---|---|---|\n",
        );
        for x in params {
            let ty = u
                .text
                .param(x)
                .map(|d| type_text(u, x.loc.file, &d.ty))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{}.{}` | {ty} | `{}` | {} |",
                x.pack,
                x.name,
                cell(&param_default(u, x)),
                cell(x.doc.as_deref().unwrap_or(""))
            );
        }
    }

    let derives: Vec<&hyoka_dsl::Derive> = p.derives().iter().filter(|x| u.own(x.loc)).collect();
    if !derives.is_empty() {
        out.push_str("\n### Derived values\n\n| value | type | description |\n|---|---|---|\n");
        for d in derives {
            let ty = u
                .text
                .derive(d)
                .map(|x| type_text(u, d.loc.file, &x.ty))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{}.{}` | {ty} | {} |",
                p.kind_name(d.kind),
                d.name,
                cell(d.doc.as_deref().unwrap_or(""))
            );
        }
    }

    let scales: Vec<&hyoka_dsl::Scale> = p.scales().iter().filter(|x| u.own(x.loc)).collect();
    if !scales.is_empty() {
        out.push_str("\n### Grade scales\n");
        for s in scales {
            let _ = writeln!(out, "\n#### Scale `{}`\n", s.name);
            if let Some(d) = &s.doc {
                let _ = writeln!(out, "{d}\n");
            }
            let written: Vec<(String, String)> = u
                .text
                .scale(s)
                .map(|decl| {
                    decl.entries
                        .iter()
                        .map(|e| {
                            let text = one_line(&u.text.slice(p, s.loc.file, e.span));
                            let rhs = text
                                .split_once('=')
                                .map_or(text.clone(), |(_, r)| r.trim().to_string());
                            (e.node.label.node.name.clone(), rhs)
                        })
                        .collect()
                })
                .unwrap_or_default();
            let as_written = |name: &str| {
                written
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, w)| format!("`{}`", w.replace('|', "\\|")))
                    .unwrap_or_default()
            };
            out.push_str("| grade | when | as written |\n|---|---|---|\n");
            let pct = scale_pct(s);
            for b in &s.bands {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    b.name,
                    band_range(b, pct),
                    as_written(&b.name)
                );
            }
            for (i, st) in s.states.iter().enumerate() {
                let when = if i == s.missing_state as usize {
                    "no number (a missing value)"
                } else {
                    "assigned explicitly (a state)"
                };
                let _ = writeln!(out, "| {st} | {when} | {} |", as_written(st));
            }
        }
    }

    let rules: Vec<&hyoka_dsl::Rule> = p.rules().iter().filter(|x| u.own(x.loc)).collect();
    if !rules.is_empty() {
        out.push_str(
            "\n### Rules\n\n| rule | severity | scope | suggest | title |\n|---|---|---|---|---|\n",
        );
        for r in &rules {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                r.qualified_id(),
                r.severity.keyword(),
                match r.scope {
                    Scope::Each(k) => p.kind_name(k).to_string(),
                    Scope::Group(k) => format!("group of {}", p.kind_name(k)),
                },
                r.suggest.as_deref().unwrap_or("—"),
                cell(r.title.as_deref().unwrap_or(""))
            );
        }
        for r in rules {
            let _ = writeln!(
                out,
                "\n#### `{}`{}\n",
                r.qualified_id(),
                r.title
                    .as_ref()
                    .map(|t| format!(" — {t}"))
                    .unwrap_or_default()
            );
            if let Some(d) = &r.doc {
                let _ = writeln!(out, "{d}\n");
            }
            let _ = writeln!(out, "- severity: {}", r.severity.keyword());
            let _ = writeln!(out, "- for: `{}`", scope_text(u, r).replace('`', "'"));
            if let Some(s) = &r.suggest {
                let _ = writeln!(out, "- suggests: {s}");
            }
            if let Some(h) = &r.help {
                let _ = writeln!(out, "- help: {}", one_line(h));
            }
            if let Some(x) = &r.rationale {
                let _ = writeln!(out, "- rationale: {}", one_line(x));
            }
            if let Some(x) = &r.reference {
                let _ = writeln!(out, "- reference: {}", one_line(x));
            }
            if !r.tags.is_empty() {
                let _ = writeln!(out, "- tags: {}", r.tags.join(", "));
            }
        }
    }
    if p.rules().iter().all(|r| !u.own(r.loc)) {
        out.push_str("\nNo rules.\n");
    }
}
