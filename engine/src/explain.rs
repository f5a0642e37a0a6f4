//! Why a rule fired (or did not), or how a derived value came out, on one
//! entity: `hyoka explain`, and the explanations `hyoka test` attaches to a
//! failing expectation.
//!
//! The dsl records every evaluated sub-expression with its source range and
//! value ([`hyoka_dsl::Program::trace_rule`], [`hyoka_dsl::Program::trace_derive`]).
//! A trace is a flat list in evaluation order; this module lays it back
//! onto the syntax tree of the rule files ([`RuleText`], parsed again from
//! the program's sources) and walks the tree the way the evaluator did,
//! finding each node's value in the window of the trace where its parent
//! was evaluated. What it produces is data ([`Explanation`], lines with a
//! depth); printing is the command line's job.
//!
//! The walk knows what the checker does to the tree: constants (parameters,
//! literals) are folded and leave no step, an `if` with a constant condition
//! keeps only its branch, a user function is inlined (its arguments either
//! bound once before the body or evaluated where they are used), `is not
//! missing` and the bindings of a call record the same range twice. A node
//! that has no step in its window was either folded or not evaluated; the
//! explanation says which it can tell.
//!
//! Entities are named `plan-id/entity-id` ([`find_entity`]), with a "did
//! you mean" when nothing has that name.

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use hyoka_dsl::ast::{self, BinaryOp, ExprKind, ItemKind, UnaryOp};
use hyoka_dsl::{
    Ctx, DeriveId, Key, KindId, Number, Obj, Program, RuleId, Scope, TraceStep, Value,
};
use rayon::prelude::*;

use crate::data::CorpusData;
use crate::model::Corpus;
use crate::schema::PlanSchema;

// ---------------------------------------------------------------------------
// The rule files as syntax trees
// ---------------------------------------------------------------------------

/// The syntax trees of a program's rule files, indexed by the places the
/// compiled program records for its declarations.
pub struct RuleText {
    files: Vec<Option<ast::File>>,
    /// The pack each file belongs to, when a declaration tells.
    pack_of_file: Vec<Option<String>>,
    /// Line starts of each file, for `file:line` references.
    lines: Vec<Vec<usize>>,
    names: Vec<String>,
}

/// A user function's declaration and the file it is in.
#[derive(Clone, Copy)]
struct FnRef<'a> {
    file: u32,
    decl: &'a ast::FnDecl,
}

impl RuleText {
    /// Parses the sources of `program` (they parsed when it was compiled).
    pub fn new(program: &Program) -> RuleText {
        let sources = program.sources();
        let files = sources
            .iter()
            .map(|s| hyoka_dsl::syntax::parse(&s.name, &s.text).ok())
            .collect();
        let mut pack_of_file: Vec<Option<String>> = vec![None; sources.len()];
        let mut note = |file: u32, pack: &str| {
            if let Some(slot) = pack_of_file.get_mut(file as usize) {
                slot.get_or_insert_with(|| pack.to_string());
            }
        };
        for r in program.rules() {
            note(r.loc.file, &r.pack);
        }
        for d in program.derives() {
            note(d.loc.file, &d.pack);
        }
        for p in program.params() {
            note(p.loc.file, &p.pack);
        }
        for s in program.scales() {
            note(s.loc.file, &s.pack);
        }
        let lines = sources
            .iter()
            .map(|s| {
                std::iter::once(0)
                    .chain(s.text.match_indices('\n').map(|(i, _)| i + 1))
                    .collect()
            })
            .collect();
        RuleText {
            files,
            pack_of_file,
            lines,
            names: sources.iter().map(|s| s.name.clone()).collect(),
        }
    }

    /// The item declared with its name at `loc`.
    fn item_at(&self, loc: hyoka_dsl::Loc) -> Option<&ast::Item> {
        let file = self.files.get(loc.file as usize)?.as_ref()?;
        file.items
            .iter()
            .find(|i| {
                let s = i.node.name().span;
                s.start == loc.start as usize && s.end == loc.end as usize
            })
            .map(|i| &i.node)
    }

    /// The syntax of a rule.
    pub fn rule(&self, rule: &hyoka_dsl::Rule) -> Option<&ast::Rule> {
        match &self.item_at(rule.loc)?.kind {
            ItemKind::Rule(r) => Some(r),
            _ => None,
        }
    }

    /// The syntax of a derive.
    pub fn derive(&self, d: &hyoka_dsl::Derive) -> Option<&ast::Derive> {
        match &self.item_at(d.loc)?.kind {
            ItemKind::Derive(x) => Some(x),
            _ => None,
        }
    }

    /// The syntax of a scale.
    pub fn scale(&self, s: &hyoka_dsl::Scale) -> Option<&ast::Scale> {
        match &self.item_at(s.loc)?.kind {
            ItemKind::Scale(x) => Some(x),
            _ => None,
        }
    }

    /// The syntax of a parameter.
    pub fn param(&self, p: &hyoka_dsl::Param) -> Option<&ast::Param> {
        match &self.item_at(p.loc)?.kind {
            ItemKind::Param(x) => Some(x),
            _ => None,
        }
    }

    /// The source text of `span` in `file`.
    pub fn slice(&self, program: &Program, file: u32, span: ast::Span) -> String {
        program
            .sources()
            .get(file as usize)
            .map(|s| span.slice(&s.text).to_string())
            .unwrap_or_default()
    }

    /// `rules/grades/grades.hyk:27` for a place.
    pub fn place(&self, loc: hyoka_dsl::Loc) -> String {
        let name = self
            .names
            .get(loc.file as usize)
            .map_or("?", |s| s.as_str());
        let line = self
            .lines
            .get(loc.file as usize)
            .map_or(0, |l| l.partition_point(|&s| s <= loc.start as usize));
        format!("{name}:{line}")
    }

    /// The function `name` as seen from `file`: declared in the same file,
    /// else in the same pack, else anywhere.
    fn function(&self, name: &str, file: u32) -> Option<FnRef<'_>> {
        let mut best: Option<(u8, FnRef<'_>)> = None;
        let pack = self.pack_of_file.get(file as usize).cloned().flatten();
        for (fi, f) in self.files.iter().enumerate() {
            let Some(f) = f else { continue };
            for item in &f.items {
                if let ItemKind::Fn(decl) = &item.node.kind {
                    if decl.name.node != name {
                        continue;
                    }
                    let rank = if fi as u32 == file {
                        0
                    } else if pack.is_some() && self.pack_of_file[fi] == pack {
                        1
                    } else {
                        2
                    };
                    if best.is_none_or(|(r, _)| rank < r) {
                        best = Some((
                            rank,
                            FnRef {
                                file: fi as u32,
                                decl,
                            },
                        ));
                    }
                }
            }
        }
        best.map(|(_, f)| f)
    }

    /// The values of enumeration-typed names a derive's formula can give,
    /// following the functions it calls (`derive suggested … = if … then 完了
    /// else …` gives 完了 …). `values` is the enumeration's value list.
    pub fn enum_values_in(&self, d: &hyoka_dsl::Derive, values: &[String]) -> Vec<String> {
        let Some(decl) = self.derive(d) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        let mut seen_fns: Vec<String> = Vec::new();
        self.collect_names(&decl.body, d.loc.file, values, &mut found, &mut seen_fns);
        found
    }

    fn collect_names(
        &self,
        e: &ast::Expr,
        file: u32,
        values: &[String],
        found: &mut Vec<String>,
        seen_fns: &mut Vec<String>,
    ) {
        let mut kids: Vec<&ast::Expr> = Vec::new();
        match &e.node {
            ExprKind::Name(n) if values.contains(n) && !found.contains(n) => {
                found.push(n.clone());
            }
            ExprKind::Field { base, .. } => kids.push(base),
            ExprKind::Call { func, args } => {
                kids.extend(args.iter());
                if !seen_fns.contains(&func.node) {
                    if let Some(f) = self.function(&func.node, file) {
                        seen_fns.push(func.node.clone());
                        self.collect_names(&f.decl.body, f.file, values, found, seen_fns);
                    }
                }
            }
            ExprKind::Aggregate(a) => {
                kids.push(&a.collection);
                kids.extend(a.filter.iter());
                kids.extend(a.map.iter());
            }
            ExprKind::Unary { operand, .. } | ExprKind::IsMissing { operand, .. } => {
                kids.push(operand)
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                kids.push(lhs);
                kids.push(rhs);
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                kids.push(cond);
                kids.push(then);
                kids.push(otherwise);
            }
            ExprKind::List(xs) | ExprKind::Tuple(xs) => kids.extend(xs.iter()),
            ExprKind::Paren(x) => kids.push(x),
            _ => {}
        }
        for k in kids {
            self.collect_names(k, file, values, found, seen_fns);
        }
    }
}

// ---------------------------------------------------------------------------
// What an explanation is
// ---------------------------------------------------------------------------

/// One line of an explanation, indented by `depth`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub depth: usize,
    pub text: String,
}

/// A declaration's evaluation: a heading (the declaration as written, and
/// where) and its steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    pub lines: Vec<Line>,
}

/// The explanation of one rule or derived value on one entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// What was explained, on what, for which year.
    pub title: String,
    /// The result in one line: the value, or whether the rule fired and why.
    pub outcome: String,
    /// The evaluation of the declaration, then of the derived values it
    /// read on the same entity.
    pub sections: Vec<Section>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.title)?;
        writeln!(f, "{}", self.outcome)?;
        for s in &self.sections {
            writeln!(f)?;
            writeln!(f, "{}", s.heading)?;
            for l in &s.lines {
                writeln!(f, "{}{}", "  ".repeat(l.depth + 1), l.text)?;
            }
        }
        Ok(())
    }
}

/// What to explain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Rule(RuleId),
    Derive(DeriveId),
}

/// Why an explanation could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExplainError {
    /// No rule or derived value has that name.
    UnknownTarget {
        name: String,
        suggestion: Option<String>,
    },
    /// No entity has that name.
    UnknownEntity {
        name: String,
        suggestion: Option<String>,
    },
    /// Several entities have that name.
    AmbiguousEntity {
        name: String,
        candidates: Vec<String>,
    },
    /// The entity is not of a kind the rule or derived value is for.
    WrongKind {
        target: String,
        entity: String,
        kinds: Vec<String>,
    },
}

impl fmt::Display for ExplainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExplainError::UnknownTarget { name, suggestion } => {
                write!(f, "no rule or derived value is called `{name}`")?;
                if let Some(s) = suggestion {
                    write!(f, "; did you mean `{s}`?")?;
                }
                Ok(())
            }
            ExplainError::UnknownEntity { name, suggestion } => {
                write!(f, "no entity is called `{name}`")?;
                if let Some(s) = suggestion {
                    write!(f, "; did you mean `{s}`?")?;
                }
                Ok(())
            }
            ExplainError::AmbiguousEntity { name, candidates } => write!(
                f,
                "`{name}` names several entities: {}; write `plan-id/kind:entity-id`",
                candidates.join(", ")
            ),
            ExplainError::WrongKind {
                target,
                entity,
                kinds,
            } => write!(
                f,
                "`{target}` is for {}, and `{entity}` is not one",
                kinds.join(" or ")
            ),
        }
    }
}

impl std::error::Error for ExplainError {}

impl ExplainError {
    /// Names the rule or derived value a [`ExplainError::WrongKind`] is about.
    pub fn for_target(self, name: &str) -> ExplainError {
        match self {
            ExplainError::WrongKind { entity, kinds, .. } => ExplainError::WrongKind {
                target: name.to_string(),
                entity,
                kinds,
            },
            other => other,
        }
    }
}

// ---------------------------------------------------------------------------
// Names: rules, derived values, entities
// ---------------------------------------------------------------------------

/// The rules and derived values called `name`: a rule `PACK.ID`, a derive
/// `PACK.NAME` (one per kind it is declared for) or a bare derive `NAME`.
pub fn resolve_target(program: &Program, name: &str) -> Result<Vec<Target>, ExplainError> {
    if let Some(r) = program.rule_named(name) {
        return Ok(vec![Target::Rule(r)]);
    }
    let (pack, bare) = match name.split_once('.') {
        Some((p, n)) => (Some(p), n),
        None => (None, name),
    };
    let derives: Vec<Target> = program
        .derives()
        .iter()
        .enumerate()
        .filter(|(_, d)| d.name == bare && pack.is_none_or(|p| p == d.pack))
        .map(|(i, _)| Target::Derive(DeriveId(i as u32)))
        .collect();
    if !derives.is_empty() {
        return Ok(derives);
    }
    let mut known: Vec<String> = program.rules().iter().map(|r| r.qualified_id()).collect();
    known.extend(
        program
            .derives()
            .iter()
            .map(|d| format!("{}.{}", d.pack, d.name)),
    );
    known.sort();
    known.dedup();
    let refs: Vec<&str> = known.iter().map(|s| s.as_str()).collect();
    Err(ExplainError::UnknownTarget {
        name: name.to_string(),
        suggestion: crate::load::read::did_you_mean(name, &refs).map(str::to_string),
    })
}

/// The kind a target runs on.
pub fn target_kind(program: &Program, t: Target) -> KindId {
    match t {
        Target::Rule(r) => program.rules()[r.0 as usize].scope.kind(),
        Target::Derive(d) => program.derives()[d.0 as usize].kind,
    }
}

/// `PACK.ID` of a rule, `PACK.NAME` of a derive.
pub fn target_name(program: &Program, t: Target) -> String {
    match t {
        Target::Rule(r) => program.rules()[r.0 as usize].qualified_id(),
        Target::Derive(d) => {
            let d = &program.derives()[d.0 as usize];
            format!("{}.{}", d.pack, d.name)
        }
    }
}

/// Every entity of the corpus as `(name, object)`: `plan-id` for a plan,
/// `plan-id/entity-id` for the others.
fn all_entities(corpus: &Corpus, schema: &PlanSchema) -> Vec<(String, Obj)> {
    let k = &schema.kinds;
    let mut out = Vec::new();
    for (i, p) in corpus.plans.iter().enumerate() {
        out.push((p.id.value.clone(), Obj::new(k.plan, i as u32)));
    }
    let plan = |p: u32| corpus.plans[p as usize].id.value.as_str();
    for (i, n) in corpus.nodes.iter().enumerate() {
        let kind = match n.level {
            crate::model::Level::Goal => k.goal,
            crate::model::Level::Policy => k.policy,
            crate::model::Level::Measure => k.measure,
        };
        out.push((
            format!("{}/{}", plan(n.plan), n.id.value),
            Obj::new(kind, i as u32),
        ));
    }
    for (i, p) in corpus.projects.iter().enumerate() {
        out.push((
            format!("{}/{}", plan(p.plan), p.id.value),
            Obj::new(k.project, i as u32),
        ));
    }
    for (i, ind) in corpus.indicators.iter().enumerate() {
        out.push((
            format!("{}/{}", plan(ind.plan), ind.id.value),
            Obj::new(k.indicator, i as u32),
        ));
    }
    out
}

/// The entity called `spec`: `plan-id` (a plan), `plan-id/entity-id`, or
/// `plan-id/kind:entity-id` when an id is used by entities of several
/// kinds. Only entities of `kinds` count (all kinds when empty).
pub fn find_entity(
    corpus: &Corpus,
    schema: &PlanSchema,
    spec: &str,
    kinds: &[KindId],
) -> Result<Obj, ExplainError> {
    let spec = spec.trim();
    let (name, kind) = match spec.split_once('/') {
        Some((plan, rest)) => match rest.split_once(':') {
            Some((kind, id)) => (format!("{}/{}", plan.trim(), id.trim()), Some(kind.trim())),
            None => (format!("{}/{}", plan.trim(), rest.trim()), None),
        },
        None => (spec.to_string(), None),
    };
    let entities = all_entities(corpus, schema);
    let kind_name = |o: Obj| schema.schema.kind(o.kind).name.clone();
    let fits = |o: Obj| {
        (kinds.is_empty() || kinds.contains(&o.kind)) && kind.is_none_or(|k| kind_name(o) == k)
    };
    let matches: Vec<Obj> = entities
        .iter()
        .filter(|(n, o)| *n == name && fits(*o))
        .map(|(_, o)| *o)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => {
            // Named, but of another kind?
            if let Some((_, o)) = entities.iter().find(|(n, _)| *n == name) {
                if !kinds.is_empty() && kind.is_none() {
                    return Err(ExplainError::WrongKind {
                        target: String::new(),
                        entity: format!("{} {spec}", kind_name(*o)),
                        kinds: kinds
                            .iter()
                            .map(|k| schema.schema.kind(*k).name.clone())
                            .collect(),
                    });
                }
            }
            let known: Vec<&str> = entities
                .iter()
                .filter(|(_, o)| kinds.is_empty() || kinds.contains(&o.kind))
                .map(|(n, _)| n.as_str())
                .collect();
            Err(ExplainError::UnknownEntity {
                name: spec.to_string(),
                suggestion: crate::load::read::did_you_mean(&name, &known).map(str::to_string),
            })
        }
        many => Err(ExplainError::AmbiguousEntity {
            name: spec.to_string(),
            candidates: many
                .iter()
                .map(|o| {
                    let (plan, id) = name.split_once('/').unwrap_or((&name, ""));
                    format!("`{plan}/{}:{id}`", kind_name(*o))
                })
                .collect(),
        }),
    }
}

// ---------------------------------------------------------------------------
// Explaining
// ---------------------------------------------------------------------------

/// How many derived values read on the same entity are explained after the
/// main one.
const MAX_SECTIONS: usize = 6;
/// How many elements of an aggregate are listed.
const MAX_ELEMENTS: usize = 12;
/// How deep function calls are followed.
const MAX_DEPTH: usize = 24;

/// Explains `target` on `obj` (for a group rule: on the group `obj` belongs
/// to). `data` must hold the derived values of a finished evaluation
/// ([`crate::eval::Evaluation::data`]).
pub fn explain(
    program: &Program,
    text: &RuleText,
    data: &CorpusData<'_>,
    year: i32,
    target: Target,
    obj: Obj,
) -> Explanation {
    let ctx = Ctx { year };
    let entity = entity_label(data, obj);
    let name = target_name(program, target);
    match target {
        Target::Derive(d) => {
            let (value, sections) = derive_sections(program, text, data, &ctx, d, obj);
            Explanation {
                title: format!("{name} of {entity}, evaluation year {year}"),
                outcome: format!("= {value}"),
                sections,
            }
        }
        Target::Rule(r) => explain_rule(program, text, data, &ctx, r, obj, &name, &entity),
    }
}

fn entity_label(data: &CorpusData<'_>, obj: Obj) -> String {
    let e = crate::finding::EntityRef::of(data, obj);
    let kind = data.schema.schema.kind(obj.kind).name.clone();
    let name = e.name(data.corpus);
    let id = crate::data::describe(data.corpus, data.schema, obj);
    if name.is_empty() {
        format!("{kind} {id}")
    } else {
        format!("{kind} {id} 「{name}」")
    }
}

/// The derive's own section, then those of the derived values it read on
/// the same entity.
fn derive_sections(
    program: &Program,
    text: &RuleText,
    data: &CorpusData<'_>,
    ctx: &Ctx,
    d: DeriveId,
    obj: Obj,
) -> (String, Vec<Section>) {
    let mut sections = Vec::new();
    let mut queue = vec![d];
    let mut done: Vec<DeriveId> = Vec::new();
    let mut first_value = String::new();
    while let Some(d) = queue.first().copied() {
        queue.remove(0);
        if done.contains(&d) || sections.len() > MAX_SECTIONS {
            continue;
        }
        done.push(d);
        let def = &program.derives()[d.0 as usize];
        let (result, steps) = program.trace_derive(d, obj, data, ctx);
        let mut w = Walker::new(program, text, data, &steps, ctx.year, obj.kind);
        let value = match &result {
            Ok(v) => show_value(&program.show(v.as_value(), data), is_pct_name(&def.name)),
            Err(e) => format!("error: {e}"),
        };
        let mut lines = Vec::new();
        let heading;
        match text.derive(def) {
            Some(decl) => {
                heading = format!(
                    "derive {} for {}: {} = {}    [{}]",
                    def.name,
                    decl.entity.node,
                    text.slice(program, def.loc.file, decl.ty.span),
                    abbrev(&one_line(&text.slice(
                        program,
                        def.loc.file,
                        decl.body.span
                    ))),
                    text.place(def.loc)
                );
                let env = Rc::new(Env::root(def.loc.file, &decl.entity.node));
                let ev = w.ev(&decl.body, &env, 0, steps.len(), 0);
                lines = w.flatten(&ev.tree, 0);
                if lines.is_empty() {
                    lines.push(Line {
                        depth: 0,
                        text: format!("= {value}"),
                    });
                }
            }
            None => {
                heading = format!(
                    "derive {}.{}    [{}]",
                    def.pack,
                    def.name,
                    text.place(def.loc)
                );
                lines.extend(raw_lines(&steps));
            }
        }
        if let Err(e) = &result {
            lines.push(Line {
                depth: 0,
                text: format!("failed: {e}"),
            });
        } else {
            lines.push(Line {
                depth: 0,
                text: format!("→ {} = {value}", def.name),
            });
        }
        if sections.is_empty() {
            first_value = value;
        }
        sections.push(Section { heading, lines });
        for dep in w.derived_reads {
            if !done.contains(&dep) && !queue.contains(&dep) {
                queue.push(dep);
            }
        }
    }
    (first_value, sections)
}

#[allow(clippy::too_many_arguments)]
fn explain_rule(
    program: &Program,
    text: &RuleText,
    data: &CorpusData<'_>,
    ctx: &Ctx,
    r: RuleId,
    obj: Obj,
    name: &str,
    entity: &str,
) -> Explanation {
    let rule = &program.rules()[r.0 as usize];
    let decl = text.rule(rule);
    let year = ctx.year;
    let scope_name = decl.map(|d| match &d.scope.node {
        ast::Scope::Entity(e) => e.node.clone(),
        ast::Scope::Group { entity, .. } => entity.node.clone(),
    });
    let heading = match decl {
        Some(d) => {
            let filter = d
                .filter
                .as_ref()
                .map(|f| {
                    format!(
                        " where {}",
                        one_line(&text.slice(program, rule.loc.file, f.span))
                    )
                })
                .unwrap_or_default();
            format!(
                "rule {} for {}{filter}    [{}]",
                rule.id,
                one_line(&text.slice(program, rule.loc.file, d.scope.span)),
                text.place(rule.loc)
            )
        }
        None => format!("rule {}    [{}]", rule.qualified_id(), text.place(rule.loc)),
    };
    let mut lines = Vec::new();
    let mut derived_reads = Vec::new();
    let outcome;
    let title;
    match rule.scope {
        Scope::Each(_) => {
            title = format!("{name} on {entity}, evaluation year {year}");
            let (result, steps) = program.trace_rule(r, obj, None, data, ctx);
            let mut w = Walker::new(program, text, data, &steps, year, obj.kind);
            let mut why = None;
            match decl {
                Some(d) => {
                    let env = Rc::new(Env::root(
                        rule.loc.file,
                        scope_name.as_deref().unwrap_or(""),
                    ));
                    let mut cursor = 0;
                    let mut filtered_out = false;
                    if let Some(f) = &d.filter {
                        let ev = w.ev(f, &env, 0, steps.len(), 0);
                        cursor = ev.end;
                        let v = ev.shown.clone().unwrap_or_else(|| "true".into());
                        lines.push(Line {
                            depth: 0,
                            text: head("where", &ev.tree, &w.src(f, &env), &v),
                        });
                        lines.extend(w.flatten_kids(&ev.tree, 1));
                        if v != "true" {
                            filtered_out = true;
                            why = Some(format!(
                                "did not run: its filter `where {}` is {}{}",
                                one_line(&w.src(f, &env)),
                                show_value(&v, false),
                                w.because(&ev.tree)
                                    .map(|b| format!(", because {b}"))
                                    .unwrap_or_default()
                            ));
                        }
                    }
                    if !filtered_out {
                        if let Some(when) = d.when() {
                            let ev = w.ev(when, &env, cursor, steps.len(), 0);
                            let v = ev.shown.clone().unwrap_or_else(|| "?".into());
                            lines.push(Line {
                                depth: 0,
                                text: head("when", &ev.tree, &w.src(when, &env), &v),
                            });
                            lines.extend(w.flatten_kids(&ev.tree, 1));
                            if v != "true" {
                                why = Some(format!(
                                    "did not fire: its condition is {}{}",
                                    show_value(&v, false),
                                    w.because(&ev.tree)
                                        .map(|b| format!(", because {b}"))
                                        .unwrap_or_default()
                                ));
                            }
                        }
                    }
                }
                None => lines.extend(raw_lines(&steps)),
            }
            derived_reads = w.derived_reads;
            outcome = match result {
                Ok(Some(f)) => format!("fired: {}", f.message),
                Ok(None) => why.unwrap_or_else(|| "did not fire".to_string()),
                Err(e) => format!("failed: {e}"),
            };
        }
        Scope::Group(kind) => {
            title = format!("{name} on the group of {entity}, evaluation year {year}");
            let objs = data.entities(kind);
            let keys: Vec<(Obj, Option<Key>)> = objs
                .par_iter()
                .map(|&o| (o, program.eval_group_key(r, o, data, ctx).ok().flatten()))
                .collect();
            let own = keys
                .iter()
                .find(|(o, _)| *o == obj)
                .and_then(|(_, k)| k.clone());
            let key_text = decl
                .and_then(|d| match &d.scope.node {
                    ast::Scope::Group { key, .. } => {
                        Some(one_line(&text.slice(program, rule.loc.file, key.span)))
                    }
                    _ => None,
                })
                .unwrap_or_else(|| "its key".into());
            match own {
                None => {
                    // Not in any group: filtered out, or a part of the key is missing.
                    let (_, steps) = program.trace_rule(r, obj, None, data, ctx);
                    let mut w = Walker::new(program, text, data, &steps, year, obj.kind);
                    let mut said = false;
                    if let Some(d) = decl {
                        if let Some(f) = &d.filter {
                            let env = Rc::new(Env::root(
                                rule.loc.file,
                                scope_name.as_deref().unwrap_or(""),
                            ));
                            let ev = w.ev(f, &env, 0, steps.len(), 0);
                            let v = ev.shown.clone().unwrap_or_else(|| "true".into());
                            lines.push(Line {
                                depth: 0,
                                text: head("where", &ev.tree, &w.src(f, &env), &v),
                            });
                            lines.extend(w.flatten_kids(&ev.tree, 1));
                            if v != "true" {
                                said = true;
                                lines.push(Line {
                                    depth: 0,
                                    text: format!("{entity} is left out before grouping"),
                                });
                            }
                        }
                    }
                    if !said {
                        lines.push(Line {
                            depth: 0,
                            text: format!("group by {key_text}: a part of the key is missing for {entity}, so it is in no group"),
                        });
                    }
                    derived_reads = w.derived_reads;
                    outcome = "did not run: the entity is in no group of this rule".to_string();
                }
                Some(key) => {
                    let members: Vec<Obj> = keys
                        .iter()
                        .filter(|(_, k)| k.as_ref() == Some(&key))
                        .map(|(o, _)| *o)
                        .collect();
                    let key_shown = program.show(Value::Key(&key), data);
                    let names: Vec<String> =
                        members.iter().map(|m| data.describe_obj(*m)).collect();
                    lines.push(Line {
                        depth: 0,
                        text: format!(
                            "group by {key_text} = {key_shown}: {} member{}: {}",
                            members.len(),
                            if members.len() == 1 { "" } else { "s" },
                            names.join(", ")
                        ),
                    });
                    let (result, steps) =
                        program.trace_rule(r, members[0], Some((&key, &members)), data, ctx);
                    let mut w = Walker::new(program, text, data, &steps, year, kind);
                    let mut why = None;
                    if let Some(when) = decl.and_then(|d| d.when()) {
                        let mut env = Env::root(rule.loc.file, "");
                        env.this = None;
                        let env = Rc::new(env);
                        let ev = w.ev(when, &env, 0, steps.len(), 0);
                        let v = ev.shown.clone().unwrap_or_else(|| "?".into());
                        lines.push(Line {
                            depth: 0,
                            text: head("when", &ev.tree, &w.src(when, &env), &v),
                        });
                        lines.extend(w.flatten_kids(&ev.tree, 1));
                        if v != "true" {
                            why = Some(format!(
                                "did not fire on this group: its condition is {}{}",
                                show_value(&v, false),
                                w.because(&ev.tree)
                                    .map(|b| format!(", because {b}"))
                                    .unwrap_or_default()
                            ));
                        }
                    } else {
                        lines.extend(raw_lines(&steps));
                    }
                    outcome = match result {
                        Ok(Some(f)) => format!("fired on this group: {}", f.message),
                        Ok(None) => why.unwrap_or_else(|| "did not fire on this group".to_string()),
                        Err(e) => format!("failed: {e}"),
                    };
                }
            }
        }
    }
    let mut sections = vec![Section { heading, lines }];
    for d in derived_reads.into_iter().take(MAX_SECTIONS) {
        let (_, mut more) = derive_sections(program, text, data, ctx, d, obj);
        for s in more.drain(..) {
            if !sections.contains(&s) {
                sections.push(s);
            }
        }
    }
    Explanation {
        title,
        outcome,
        sections,
    }
}

/// Whether rule `r`'s filter (`where …`) lets `obj` through (true for a
/// rule without one). The rule is traced, so this is for tests and
/// coverage, not for the evaluation of a corpus.
pub fn filter_passes(
    program: &Program,
    text: &RuleText,
    data: &CorpusData<'_>,
    ctx: &Ctx,
    r: RuleId,
    obj: Obj,
) -> bool {
    let rule = &program.rules()[r.0 as usize];
    let Some(decl) = text.rule(rule) else {
        return true;
    };
    let Some(filter) = &decl.filter else {
        return true;
    };
    let this = match &decl.scope.node {
        ast::Scope::Entity(e) => e.node.clone(),
        ast::Scope::Group { entity, .. } => entity.node.clone(),
    };
    let (_, steps) = program.trace_rule(r, obj, None, data, ctx);
    let mut w = Walker::new(program, text, data, &steps, ctx.year, obj.kind);
    let env = Rc::new(Env::root(rule.loc.file, &this));
    let ev = w.ev(filter, &env, 0, steps.len(), 0);
    ev.shown.as_deref().is_none_or(|v| v == "true")
}

/// The first line of a clause: `when met_early(indicator, year) = false, by
/// fn met_early …` when the condition has a line of its own, else `when
/// SRC → value`.
fn head(clause: &str, t: &Tree, src: &str, v: &str) -> String {
    match &t.text {
        Some(text) if !text.is_empty() && t.kind != TreeKind::Leaf => format!("{clause} {text}"),
        _ => format!(
            "{clause} {} → {}",
            abbrev(&one_line(src)),
            show_value(v, false)
        ),
    }
}

/// The trace as it is, when the syntax of the declaration is not at hand.
fn raw_lines(steps: &[TraceStep]) -> Vec<Line> {
    steps
        .iter()
        .map(|s| Line {
            depth: 0,
            text: format!("{} = {}", one_line(&s.source), show_value(&s.value, false)),
        })
        .collect()
}

impl CorpusData<'_> {
    fn describe_obj(&self, o: Obj) -> String {
        crate::data::describe(self.corpus, self.schema, o)
    }
}

// ---------------------------------------------------------------------------
// The walk
// ---------------------------------------------------------------------------

/// A step's place, as a hashable key.
type Place = (u32, u32, u32);

fn place_of(file: u32, span: ast::Span) -> Place {
    (file, span.start as u32, span.end as u32)
}

/// What a name stands for inside a function body or aggregate.
#[derive(Clone)]
enum Bound<'a> {
    /// An argument evaluated where the parameter is used (or a cheap one:
    /// the entity, a local, the year), written in the caller.
    Arg {
        expr: &'a ast::Expr,
        env: Rc<Env<'a>>,
    },
    /// A value bound once (an argument evaluated before the body, an
    /// aggregate's element): each use records its own step.
    Slot { shown: Option<String>, pct: bool },
}

/// The names in scope where an expression is written.
#[derive(Clone)]
struct Env<'a> {
    file: u32,
    /// The entity a rule or derive runs on (`indicator`), when in scope.
    this: Option<String>,
    vars: Vec<(String, Bound<'a>)>,
}

impl<'a> Env<'a> {
    fn root(file: u32, this: &str) -> Env<'a> {
        Env {
            file,
            this: (!this.is_empty()).then(|| this.to_string()),
            vars: Vec::new(),
        }
    }

    fn lookup(&self, name: &str) -> Option<&Bound<'a>> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b)
    }
}

/// An evaluated node: its value (as messages show values), whether it is
/// shown as a percentage, the trace position after it, and its lines.
#[derive(Clone, Debug, Default)]
struct Ev {
    shown: Option<String>,
    pct: bool,
    /// Trace index after this node's evaluation.
    end: usize,
    /// Whether any step of the trace belonged to this node.
    found: bool,
    tree: Tree,
}

/// A line and the lines that explain it.
#[derive(Clone, Debug, Default)]
struct Tree {
    text: Option<String>,
    kids: Vec<Tree>,
    /// For [`Walker::because`]: the condition text and its value.
    cond: Option<(String, String)>,
    /// Which kind of node, for [`Walker::because`].
    kind: TreeKind,
    /// The operands of a comparison (`238 ≥ 300`), for [`Walker::because`].
    detail: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum TreeKind {
    #[default]
    Leaf,
    And,
    Or,
    Not,
    If,
    Call,
    Coalesce,
    Other,
}

struct Walker<'a, 'd> {
    program: &'a Program,
    text: &'a RuleText,
    data: &'a CorpusData<'d>,
    steps: &'a [TraceStep],
    index: HashMap<Place, Vec<usize>>,
    year: i32,
    this_kind: KindId,
    /// Derived values read on the entity itself, for their own sections.
    derived_reads: Vec<DeriveId>,
}

impl<'a, 'd> Walker<'a, 'd> {
    fn new(
        program: &'a Program,
        text: &'a RuleText,
        data: &'a CorpusData<'d>,
        steps: &'a [TraceStep],
        year: i32,
        this_kind: KindId,
    ) -> Self {
        let mut index: HashMap<Place, Vec<usize>> = HashMap::new();
        for (i, s) in steps.iter().enumerate() {
            index
                .entry((s.loc.file, s.loc.start, s.loc.end))
                .or_default()
                .push(i);
        }
        Walker {
            program,
            text,
            data,
            steps,
            index,
            year,
            this_kind,
            derived_reads: Vec::new(),
        }
    }

    /// The first step at `place` in `lo..hi`, extended over the steps
    /// right after it at the same place (`is not missing` records the test
    /// and its negation; nested bindings of a call record the call twice).
    fn find(&self, place: Place, lo: usize, hi: usize) -> Option<usize> {
        let list = self.index.get(&place)?;
        let at = list.partition_point(|&i| i < lo);
        let mut i = *list.get(at)?;
        if i >= hi {
            return None;
        }
        while i + 1 < hi
            && self
                .steps
                .get(i + 1)
                .is_some_and(|s| (s.loc.file, s.loc.start, s.loc.end) == place)
        {
            i += 1;
        }
        Some(i)
    }

    /// The first step in `lo..hi` inside `span` of `file`.
    fn first_inside(&self, file: u32, span: ast::Span, lo: usize, hi: usize) -> Option<usize> {
        (lo..hi.min(self.steps.len())).find(|&i| {
            let l = self.steps[i].loc;
            l.file == file && l.start as usize >= span.start && l.end as usize <= span.end
        })
    }

    /// An expression's source on one line, shortened when long.
    fn short(&self, e: &ast::Expr, env: &Env<'_>) -> String {
        abbrev(&one_line(&self.src(e, env)))
    }

    fn src(&self, e: &ast::Expr, env: &Env<'_>) -> String {
        self.text.slice(self.program, env.file, e.span)
    }

    /// The value of parameter `name` as seen from `file`.
    fn param(&self, name: &str, file: u32) -> Option<(String, bool)> {
        let pack = self.text.pack_of_file.get(file as usize).cloned().flatten();
        let params = self.program.params();
        let p = params
            .iter()
            .find(|p| p.name == name && Some(&p.pack) == pack.as_ref())
            .or_else(|| params.iter().find(|p| p.name == name))?;
        let pct = self.text.param(p).is_some_and(|decl| {
            self.text
                .slice(self.program, p.loc.file, decl.default.span)
                .contains('%')
        });
        Some((self.program.show(p.value.as_value(), self.data), pct))
    }

    /// Evaluates `e` (written in `env`) in the window `lo..hi` of the trace.
    fn ev(
        &mut self,
        e: &'a ast::Expr,
        env: &Rc<Env<'a>>,
        lo: usize,
        hi: usize,
        depth: usize,
    ) -> Ev {
        let here = place_of(env.file, e.span);
        let mut out = Ev {
            end: lo,
            ..Ev::default()
        };
        if depth > MAX_DEPTH {
            return out;
        }
        match &e.node {
            ExprKind::Number(n) => {
                out.shown = Number::parse(&n.text).ok().map(|v| v.to_string());
                out.pct = n.is_percent;
            }
            ExprKind::String(t) => {
                out.shown = t.as_plain();
            }
            ExprKind::Bool(b) => out.shown = Some(b.to_string()),
            ExprKind::Missing => out.shown = Some("—".into()),
            ExprKind::Paren(inner) => return self.ev(inner, env, lo, hi, depth),
            ExprKind::Name(n) => return self.name(n, e, env, lo, hi, depth),
            ExprKind::Field { base, field } => {
                let own = self.find(here, lo, hi);
                let stop = own.unwrap_or(hi);
                let b = self.ev(base, env, lo, stop, depth + 1);
                out.pct = is_pct_name(&field.node);
                match own {
                    Some(t) => {
                        out.shown = Some(self.steps[t].value.clone());
                        out.end = t + 1;
                        out.found = true;
                        if self.is_this(base, env) {
                            if let Some(d) = self.program.derive_named(self.this_kind, &field.node)
                            {
                                if !self.derived_reads.contains(&d) {
                                    self.derived_reads.push(d);
                                }
                                out.tree.text = None;
                            }
                        }
                    }
                    None => {
                        // A band or state of a scale (`abc.A`): a constant.
                        out.shown = Some(self.src(e, env));
                        out.end = b.end;
                    }
                }
                // The base's own explanation (a call, an `if`) stays.
                out.tree.kids = b
                    .tree
                    .text
                    .is_some()
                    .then_some(b.tree)
                    .into_iter()
                    .collect();
            }
            ExprKind::Unary { op, operand } => {
                let own = self.find(here, lo, hi);
                let x = self.ev(operand, env, lo, own.unwrap_or(hi), depth + 1);
                self.finish(&mut out, own, x.end);
                match op.node {
                    UnaryOp::Neg => {
                        out.pct = x.pct;
                        if out.shown.is_none() {
                            out.shown = x
                                .shown
                                .as_ref()
                                .and_then(|v| Number::parse(v).ok())
                                .and_then(|v| v.checked_neg().ok())
                                .map(|v| v.to_string());
                        }
                        if x.tree.text.is_some() {
                            out.tree.kids.push(x.tree);
                        }
                    }
                    UnaryOp::Not => {
                        if out.shown.is_none() {
                            out.shown = x.shown.as_deref().map(|v| match v {
                                "true" => "false".into(),
                                "false" => "true".into(),
                                other => other.into(),
                            });
                        }
                        out.tree.kind = TreeKind::Not;
                        out.tree.text = Some(format!(
                            "{} → {}",
                            self.short(e, env),
                            self.show(&out.shown, false)
                        ));
                        out.tree.cond =
                            Some((self.src(e, env), out.shown.clone().unwrap_or_default()));
                        out.tree.kids.push(self.cond_tree(x, operand, env));
                    }
                }
            }
            ExprKind::IsMissing { operand, negated } => {
                let own = self.find(here, lo, hi);
                let x = self.ev(operand, env, lo, own.unwrap_or(hi), depth + 1);
                self.finish(&mut out, own, x.end);
                if out.shown.is_none() {
                    let missing = x.shown.as_deref().is_some_and(is_missing_text);
                    out.shown = Some((missing != *negated).to_string());
                }
                out.tree.kind = TreeKind::Other;
                out.tree.text = Some(format!(
                    "{}: {} = {} → {}",
                    self.short(e, env),
                    one_line(&self.src(operand, env)),
                    self.show(&x.shown, x.pct),
                    self.show(&out.shown, false)
                ));
                out.tree.cond = Some((self.src(e, env), out.shown.clone().unwrap_or_default()));
                if x.tree.text.is_some() {
                    out.tree.kids.push(x.tree);
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                return self.binary(op.node, lhs, rhs, e, env, lo, hi, depth)
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => return self.if_(cond, then, otherwise, e, env, lo, hi, depth),
            ExprKind::Call { func, args } => return self.call(func, args, e, env, lo, hi, depth),
            ExprKind::Aggregate(a) => return self.aggregate(a, e, env, lo, hi, depth),
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                let mut cursor = lo;
                let mut shown = Vec::new();
                for it in items {
                    let x = self.ev(it, env, cursor, hi, depth + 1);
                    cursor = x.end;
                    shown.push(self.show(&x.shown, x.pct));
                }
                out.end = cursor;
                out.shown = Some(format!("[{}]", shown.join(", ")));
            }
        }
        out
    }

    /// Takes the node's own step `own`, if any, as its value.
    fn finish(&self, out: &mut Ev, own: Option<usize>, after_kids: usize) {
        match own {
            Some(t) => {
                out.shown = Some(self.steps[t].value.clone());
                out.end = t + 1;
                out.found = true;
            }
            None => out.end = after_kids,
        }
    }

    /// Whether `e` (in `env`) is the entity the rule or derive runs on.
    fn is_this(&self, e: &ast::Expr, env: &Env<'_>) -> bool {
        match &e.node {
            ExprKind::Paren(x) => self.is_this(x, env),
            ExprKind::Name(n) => match env.lookup(n) {
                Some(Bound::Arg { expr, env }) => self.is_this(expr, env),
                Some(Bound::Slot { .. }) => false,
                None => env.this.as_deref() == Some(n.as_str()),
            },
            _ => false,
        }
    }

    fn name(
        &mut self,
        n: &str,
        e: &'a ast::Expr,
        env: &Rc<Env<'a>>,
        lo: usize,
        hi: usize,
        depth: usize,
    ) -> Ev {
        let mut out = Ev {
            end: lo,
            ..Ev::default()
        };
        match env.lookup(n).cloned() {
            Some(Bound::Arg { expr, env: outer }) => {
                // A binding used in place: its own steps are here. When the
                // argument was bound once instead, the use is a step of its own.
                if let Some(t) = self.find(place_of(env.file, e.span), lo, hi) {
                    out.shown = Some(self.steps[t].value.clone());
                    out.end = t + 1;
                    out.found = true;
                    out.pct = self.guess_pct(expr, &outer, 0);
                    return out;
                }
                let mut x = self.ev(expr, &outer, lo, hi, depth + 1);
                // Evaluated here: say what the name stood for, once.
                let inner = std::mem::take(&mut x.tree);
                let arg = abbrev(&one_line(&self.text.slice(
                    self.program,
                    outer.file,
                    expr.span,
                )));
                x.tree = match &inner.text {
                    Some(t) if !t.is_empty() && inner.kind != TreeKind::Leaf => Tree {
                        text: Some(format!("{n} = {t}")),
                        ..inner
                    },
                    Some(t) if t.is_empty() => Tree {
                        text: Some(format!("{n} = {arg} = {}", self.show(&x.shown, x.pct))),
                        ..inner
                    },
                    _ => inner,
                };
                x
            }
            Some(Bound::Slot { shown, pct }) => {
                if let Some(t) = self.find(place_of(env.file, e.span), lo, hi) {
                    out.shown = Some(self.steps[t].value.clone());
                    out.end = t + 1;
                    out.found = true;
                } else {
                    out.shown = shown;
                }
                out.pct = pct;
                out
            }
            None => {
                if let Some(t) = self.find(place_of(env.file, e.span), lo, hi) {
                    out.shown = Some(self.steps[t].value.clone());
                    out.end = t + 1;
                    out.found = true;
                } else if n == "year" {
                    out.shown = Some(self.year.to_string());
                } else if let Some((v, pct)) = self.param(n, env.file) {
                    out.shown = Some(v);
                    out.pct = pct;
                } else {
                    // An enumeration value, a band or a state: as written.
                    out.shown = Some(n.to_string());
                }
                out
            }
        }
    }

    /// Whether values of `e` read best as percentages.
    fn guess_pct(&self, e: &ast::Expr, env: &Env<'_>, depth: usize) -> bool {
        if depth > 8 {
            return false;
        }
        match &e.node {
            ExprKind::Number(n) => n.is_percent,
            ExprKind::Paren(x) => self.guess_pct(x, env, depth + 1),
            ExprKind::Field { field, .. } => is_pct_name(&field.node),
            ExprKind::Binary { op, lhs, rhs } => match op.node {
                BinaryOp::Div => true,
                BinaryOp::Coalesce => {
                    self.guess_pct(lhs, env, depth + 1) || self.guess_pct(rhs, env, depth + 1)
                }
                BinaryOp::Add | BinaryOp::Sub => {
                    self.guess_pct(lhs, env, depth + 1) && self.guess_pct(rhs, env, depth + 1)
                }
                _ => false,
            },
            ExprKind::If {
                then, otherwise, ..
            } => self.guess_pct(then, env, depth + 1) || self.guess_pct(otherwise, env, depth + 1),
            ExprKind::Name(n) => match env.lookup(n) {
                Some(Bound::Arg { expr, env }) => self.guess_pct(expr, env, depth + 1),
                Some(Bound::Slot { pct, .. }) => *pct,
                None => self.param(n, env.file).is_some_and(|(_, p)| p),
            },
            ExprKind::Call { func, args } => {
                let name = func.node.as_str();
                match name {
                    "min" | "max" | "abs" => args.iter().any(|a| self.guess_pct(a, env, depth + 1)),
                    "round" | "latest" | "actual" | "latest_year" | "len" | "grade" => false,
                    _ => match self.text.function(name, env.file) {
                        Some(f) => {
                            is_pct_name(name)
                                || (self.guess_pct(&f.decl.body, &Env::root(f.file, ""), depth + 1)
                                    && !matches!(
                                        f.decl.ret.node.name.node.as_str(),
                                        "bool" | "year" | "string"
                                    ))
                        }
                        None => false,
                    },
                }
            }
            ExprKind::Aggregate(a) => {
                matches!(
                    a.func.node,
                    ast::AggFunc::Avg | ast::AggFunc::Min | ast::AggFunc::Max
                ) && a
                    .map
                    .as_ref()
                    .is_some_and(|m| self.guess_pct(m, env, depth + 1))
            }
            _ => false,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn binary(
        &mut self,
        op: BinaryOp,
        lhs: &'a ast::Expr,
        rhs: &'a ast::Expr,
        e: &'a ast::Expr,
        env: &Rc<Env<'a>>,
        lo: usize,
        hi: usize,
        depth: usize,
    ) -> Ev {
        let here = place_of(env.file, e.span);
        let own = self.find(here, lo, hi);
        let stop = own.unwrap_or(hi);
        let mut out = Ev {
            end: lo,
            ..Ev::default()
        };
        match op {
            BinaryOp::And | BinaryOp::Or => {
                // A chain `a and b and c` is one list of conditions.
                let mut parts = Vec::new();
                flatten_chain(e, op, &mut parts);
                let mut cursor = lo;
                let mut kids = Vec::new();
                let decided = if op == BinaryOp::And { "false" } else { "true" };
                let mut stopped = false;
                for p in parts {
                    if stopped {
                        let x = self.ev(p, env, cursor, stop, depth + 1);
                        if !x.found {
                            kids.push(Tree {
                                text: Some(format!(
                                    "{} — not evaluated",
                                    one_line(&self.src(p, env))
                                )),
                                ..Tree::default()
                            });
                            continue;
                        }
                        cursor = x.end;
                        kids.push(self.cond_tree(x, p, env));
                        continue;
                    }
                    let x = self.ev(p, env, cursor, stop, depth + 1);
                    cursor = x.end.max(cursor);
                    if x.shown.as_deref() == Some(decided) {
                        stopped = true;
                    }
                    kids.push(self.cond_tree(x, p, env));
                }
                self.finish(&mut out, own, cursor);
                if out.shown.is_none() {
                    out.shown = Some("?".into());
                }
                out.tree = Tree {
                    text: Some(format!(
                        "{} → {}",
                        self.short(e, env),
                        self.show(&out.shown, false)
                    )),
                    kids,
                    cond: Some((self.src(e, env), out.shown.clone().unwrap_or_default())),
                    kind: if op == BinaryOp::And {
                        TreeKind::And
                    } else {
                        TreeKind::Or
                    },
                    detail: None,
                };
                out
            }
            BinaryOp::Coalesce => {
                let a = self.ev(lhs, env, lo, stop, depth + 1);
                let b = self.ev(rhs, env, a.end, stop, depth + 1);
                self.finish(&mut out, own, b.end.max(a.end));
                let used_default = a.shown.as_deref().is_some_and(is_missing_text);
                if out.shown.is_none() {
                    out.shown = if used_default {
                        b.shown.clone()
                    } else {
                        a.shown.clone()
                    };
                }
                out.pct = a.pct || b.pct;
                let text = if used_default {
                    format!(
                        "{}: {} is missing → {}",
                        self.short(e, env),
                        one_line(&self.src(lhs, env)),
                        self.show(&out.shown, out.pct)
                    )
                } else {
                    format!(
                        "{} → {}",
                        self.short(e, env),
                        self.show(&out.shown, out.pct)
                    )
                };
                let mut kids = Vec::new();
                if a.tree.text.is_some() {
                    kids.push(a.tree);
                }
                if used_default && b.tree.text.is_some() {
                    kids.push(b.tree);
                }
                out.tree = Tree {
                    text: Some(text),
                    kids,
                    cond: Some((self.src(e, env), out.shown.clone().unwrap_or_default())),
                    kind: TreeKind::Coalesce,
                    detail: None,
                };
                out
            }
            _ => {
                let a = self.ev(lhs, env, lo, stop, depth + 1);
                let b = self.ev(rhs, env, a.end, stop, depth + 1);
                self.finish(&mut out, own, b.end);
                let cmp = matches!(
                    op,
                    BinaryOp::Eq
                        | BinaryOp::Ne
                        | BinaryOp::Lt
                        | BinaryOp::Le
                        | BinaryOp::Gt
                        | BinaryOp::Ge
                        | BinaryOp::In
                        | BinaryOp::NotIn
                );
                let operand_pct = a.pct || b.pct;
                out.pct = if cmp {
                    false
                } else {
                    op == BinaryOp::Div || (a.pct && b.pct)
                };
                if out.shown.is_none() {
                    out.shown = self.fold(op, &a.shown, &b.shown);
                }
                let sym = match op {
                    BinaryOp::Eq => "=",
                    BinaryOp::Ne => "≠",
                    BinaryOp::Lt => "<",
                    BinaryOp::Le => "≤",
                    BinaryOp::Gt => ">",
                    BinaryOp::Ge => "≥",
                    BinaryOp::In => "in",
                    BinaryOp::NotIn => "not in",
                    BinaryOp::Add => "+",
                    BinaryOp::Sub => "−",
                    BinaryOp::Mul => "×",
                    BinaryOp::Div => "÷",
                    _ => op.symbol(),
                };
                let src = self.short(e, env);
                let show_op = |w: &Self, x: &Ev| {
                    let p = if cmp {
                        operand_pct
                    } else {
                        x.pct && !matches!(op, BinaryOp::Mul | BinaryOp::Div)
                    };
                    w.show(&x.shown, p)
                };
                let paren = |v: String| {
                    if v.starts_with('-') {
                        format!("({v})")
                    } else {
                        v
                    }
                };
                let operands = format!("{} {sym} {}", show_op(self, &a), paren(show_op(self, &b)));
                let text = if cmp {
                    format!("{src}: {operands} → {}", self.show(&out.shown, false))
                } else {
                    format!("{src} = {operands} = {}", self.show(&out.shown, out.pct))
                };
                let mut kids = Vec::new();
                for x in [a, b] {
                    if x.tree.text.is_some() {
                        kids.push(x.tree);
                    }
                }
                out.tree = Tree {
                    text: Some(text),
                    kids,
                    cond: Some((self.src(e, env), out.shown.clone().unwrap_or_default())),
                    kind: TreeKind::Other,
                    detail: cmp.then_some(operands),
                };
                out
            }
        }
    }

    /// The value of a folded (constant) comparison or sum, where both sides
    /// are known.
    fn fold(&self, op: BinaryOp, a: &Option<String>, b: &Option<String>) -> Option<String> {
        let (a, b) = (a.as_deref()?, b.as_deref()?);
        let (x, y) = (Number::parse(a).ok(), Number::parse(b).ok());
        let same = a == b || (x.is_some() && x == y);
        match (op, x, y) {
            (BinaryOp::Eq, _, _) => Some(same.to_string()),
            (BinaryOp::Ne, _, _) => Some((!same).to_string()),
            (BinaryOp::Lt, Some(x), Some(y)) => Some((x < y).to_string()),
            (BinaryOp::Le, Some(x), Some(y)) => Some((x <= y).to_string()),
            (BinaryOp::Gt, Some(x), Some(y)) => Some((x > y).to_string()),
            (BinaryOp::Ge, Some(x), Some(y)) => Some((x >= y).to_string()),
            (BinaryOp::Add, Some(x), Some(y)) => x.checked_add(y).ok().map(|v| v.to_string()),
            (BinaryOp::Sub, Some(x), Some(y)) => x.checked_sub(y).ok().map(|v| v.to_string()),
            (BinaryOp::Mul, Some(x), Some(y)) => x.checked_mul(y).ok().map(|v| v.to_string()),
            (BinaryOp::Div, Some(x), Some(y)) => x.checked_div(y).ok().map(|v| v.to_string()),
            _ => None,
        }
    }

    /// A condition's tree: its own line, or `SRC = value` for a plain read.
    fn cond_tree(&self, x: Ev, e: &ast::Expr, env: &Env<'_>) -> Tree {
        if x.tree.text.is_some() {
            let mut t = x.tree;
            if t.cond.is_none() {
                t.cond = Some((self.src(e, env), x.shown.clone().unwrap_or_default()));
            }
            return t;
        }
        Tree {
            text: Some(format!(
                "{} = {}",
                self.short(e, env),
                self.show(&x.shown, x.pct)
            )),
            kids: x.tree.kids,
            cond: Some((self.src(e, env), x.shown.unwrap_or_default())),
            kind: TreeKind::Leaf,
            detail: None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn if_(
        &mut self,
        cond: &'a ast::Expr,
        then: &'a ast::Expr,
        otherwise: &'a ast::Expr,
        e: &'a ast::Expr,
        env: &Rc<Env<'a>>,
        lo: usize,
        hi: usize,
        depth: usize,
    ) -> Ev {
        let own = self.find(place_of(env.file, e.span), lo, hi);
        let stop = own.unwrap_or(hi);
        let c = self.ev(cond, env, lo, stop, depth + 1);
        // The branch taken is the one with steps in the window; when neither
        // has any (both constant), the condition's value tells.
        // The condition's value picks the branch; when it is not known (a
        // folded constant the walk could not compute), the branch with
        // steps in the window is the one taken.
        let (taken, branch, which) = match c.shown.as_deref() {
            Some("true") => (
                Some(self.ev(then, env, c.end, stop, depth + 1)),
                Some(then),
                "then",
            ),
            Some("false") => (
                Some(self.ev(otherwise, env, c.end, stop, depth + 1)),
                Some(otherwise),
                "else",
            ),
            Some(v) if c.found && is_missing_text(v) => (None, None, ""),
            _ => {
                let t = self.ev(then, env, c.end, stop, depth + 1);
                if t.found {
                    (Some(t), Some(then), "then")
                } else {
                    let o = self.ev(otherwise, env, c.end, stop, depth + 1);
                    (Some(o), Some(otherwise), "else")
                }
            }
        };
        let cond_value = c.shown.clone().or_else(|| match which {
            "then" => Some("true".into()),
            "else" => Some("false".into()),
            _ => None,
        });
        let mut out = Ev {
            end: lo,
            ..Ev::default()
        };
        let after = taken.as_ref().map_or(c.end, |x| x.end.max(c.end));
        self.finish(&mut out, own, after);
        if out.shown.is_none() {
            out.shown = taken.as_ref().and_then(|x| x.shown.clone());
        }
        out.found = out.found || c.found || taken.as_ref().is_some_and(|x| x.found);
        out.pct = taken.as_ref().is_some_and(|x| x.pct);
        // Lines: `if C → v`, the condition's explanation, then the branch
        // (an `else if` continues the chain at the same depth).
        let cond_src = one_line(&self.src(cond, env));
        let (first, first_kids) = match &c.tree.text {
            Some(t)
                if !t.is_empty()
                    && c.tree.kind != TreeKind::Leaf
                    && c.tree.kind != TreeKind::If =>
            {
                (format!("if {t}"), c.tree.kids.clone())
            }
            _ => (
                format!("if {cond_src} → {}", self.show(&cond_value, false)),
                c.tree.kids.clone(),
            ),
        };
        let mut chain = vec![Tree {
            text: Some(first),
            kids: first_kids,
            cond: Some((self.src(cond, env), cond_value.clone().unwrap_or_default())),
            kind: if c.tree.kind == TreeKind::Leaf {
                TreeKind::Leaf
            } else {
                c.tree.kind
            },
            detail: c.tree.detail.clone(),
        }];
        if c.tree.kind != TreeKind::Leaf {
            // Keep the condition's own tree for `because`.
            chain[0].kids = c.tree.kids.clone();
            chain[0].kind = c.tree.kind;
            chain[0].cond = c.tree.cond.clone().or(chain[0].cond.take());
        }
        match (taken, branch) {
            (Some(x), Some(b)) => {
                let is_chain =
                    which == "else" && matches!(strip_paren(b).node, ExprKind::If { .. });
                if is_chain && x.tree.kind == TreeKind::If {
                    let mut rest = x.tree.kids;
                    if let Some(first) = rest.first_mut() {
                        if let Some(t) = &first.text {
                            first.text = Some(format!("else {t}"));
                        }
                    }
                    chain.extend(rest);
                } else {
                    let text = match &x.tree.text {
                        Some(t)
                            if !t.is_empty()
                                && x.tree.kind != TreeKind::Leaf
                                && x.tree.kind != TreeKind::If =>
                        {
                            format!("{which} {t}")
                        }
                        _ => format!(
                            "{which} {} = {}",
                            self.short(b, env),
                            self.show(&x.shown, x.pct)
                        ),
                    };
                    let kind = if x.tree.kind == TreeKind::If {
                        TreeKind::If
                    } else {
                        x.tree.kind
                    };
                    chain.push(Tree {
                        text: Some(text),
                        kids: x.tree.kids,
                        cond: x.tree.cond,
                        kind,
                        detail: x.tree.detail,
                    });
                }
            }
            _ => chain.push(Tree {
                text: Some("the condition is missing, so the value is missing".into()),
                ..Tree::default()
            }),
        }
        out.tree = Tree {
            text: None,
            kids: chain,
            cond: Some((self.src(e, env), out.shown.clone().unwrap_or_default())),
            kind: TreeKind::If,
            detail: None,
        };
        // An `if` shows as its chain; give it a line holder for callers that
        // expect `text`.
        out.tree.text = Some(String::new());
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        func: &'a ast::Ident,
        args: &'a [ast::Expr],
        e: &'a ast::Expr,
        env: &Rc<Env<'a>>,
        lo: usize,
        hi: usize,
        depth: usize,
    ) -> Ev {
        let name = func.node.as_str();
        let here = place_of(env.file, e.span);
        let src = self.short(e, env);
        let mut out = Ev {
            end: lo,
            ..Ev::default()
        };
        if let Some(f) = self.text.function(name, env.file) {
            // A user function, inlined: bindings made before the body leave
            // a step at the call (after the body); the body's steps lie in
            // the function's own text.
            let own = self.find(here, lo, hi);
            let stop = own.unwrap_or(hi);
            let body_start = match own {
                Some(_) => self
                    .first_inside(f.file, f.decl.body.span, lo, stop)
                    .unwrap_or(lo),
                None => lo,
            };
            let mut cursor = lo;
            let mut vars = Vec::new();
            let mut bindings = Vec::new();
            for (p, a) in f.decl.params.iter().zip(args) {
                let simple = matches!(
                    strip_paren(a).node,
                    ExprKind::Name(_)
                        | ExprKind::Number(_)
                        | ExprKind::String(_)
                        | ExprKind::Bool(_)
                        | ExprKind::Missing
                );
                if own.is_some() && !simple && cursor < body_start {
                    let x = self.ev(a, env, cursor, body_start, depth + 1);
                    if x.found {
                        cursor = x.end;
                        let text = match &x.tree.text {
                            Some(t) if !t.is_empty() && x.tree.kind != TreeKind::If => {
                                format!("{} = {t}", p.name.node)
                            }
                            _ => format!(
                                "{} = {} = {}",
                                p.name.node,
                                one_line(&self.src(a, env)),
                                self.show(&x.shown, x.pct)
                            ),
                        };
                        let kids = if x.tree.text.as_deref().is_some_and(|t| !t.is_empty()) {
                            x.tree.kids.clone()
                        } else {
                            vec![x.tree.clone()]
                        };
                        bindings.push(Tree {
                            text: Some(text),
                            kids,
                            cond: None,
                            kind: TreeKind::Leaf,
                            detail: None,
                        });
                        vars.push((
                            p.name.node.clone(),
                            Bound::Slot {
                                shown: x.shown,
                                pct: x.pct,
                            },
                        ));
                        continue;
                    }
                }
                vars.push((
                    p.name.node.clone(),
                    Bound::Arg {
                        expr: a,
                        env: env.clone(),
                    },
                ));
            }
            let inner = Rc::new(Env {
                file: f.file,
                this: None,
                vars,
            });
            let body = self.ev(
                &f.decl.body,
                &inner,
                body_start.max(cursor),
                stop,
                depth + 1,
            );
            self.finish(&mut out, own, body.end);
            if out.shown.is_none() {
                out.shown = body.shown.clone();
            }
            out.found = out.found || body.found;
            out.pct = self.guess_pct(e, env, 0);
            let mut kids = bindings;
            kids.extend(match body.tree.kind {
                TreeKind::If => body.tree.kids.clone(),
                _ if body.tree.text.is_some() => vec![body.tree.clone()],
                _ => body.tree.kids.clone(),
            });
            out.tree = Tree {
                text: Some(format!(
                    "{src} = {}, by fn {name} [{}]:",
                    self.show(&out.shown, out.pct),
                    self.text.place(hyoka_dsl::Loc {
                        file: f.file,
                        start: f.decl.name.span.start as u32,
                        end: f.decl.name.span.end as u32
                    })
                )),
                kids,
                cond: Some((self.src(e, env), out.shown.clone().unwrap_or_default())),
                kind: TreeKind::Call,
                detail: None,
            };
            if !out.found && out.shown.is_none() {
                out.tree.text = None;
            }
            if !out.found {
                out.tree.text = Some(format!("{src} — not evaluated"));
                out.tree.kids.clear();
            }
            out.tree.cond = body.tree.cond.clone().or(out.tree.cond.take());
            return out;
        }
        // A built-in: its arguments, then its own step.
        let own = self.find(here, lo, hi);
        let stop = own.unwrap_or(hi);
        let mut cursor = lo;
        let mut vals = Vec::new();
        let mut kids = Vec::new();
        let is_grade = name == "grade";
        for (i, a) in args.iter().enumerate() {
            if is_grade && i == 0 {
                vals.push(None);
                continue;
            }
            let x = self.ev(a, env, cursor, stop, depth + 1);
            cursor = x.end.max(cursor);
            if x.tree.text.is_some() {
                kids.push(x.tree.clone());
            }
            vals.push(Some(x));
        }
        self.finish(&mut out, own, cursor);
        out.pct = self.guess_pct(e, env, 0);
        if is_grade {
            let x = vals.get(1).cloned().flatten().unwrap_or_default();
            let scale_name = args.first().map(|a| self.src(a, env)).unwrap_or_default();
            out.tree = Tree {
                text: Some(self.grade_line(&src, &scale_name, &x, &out.shown)),
                kids,
                cond: None,
                kind: TreeKind::Other,
                detail: None,
            };
            return out;
        }
        let text = match name {
            "latest" => format!(
                "{src} = {} (the latest actual value in or before {})",
                self.show(&out.shown, false),
                self.year
            ),
            "latest_year" => format!(
                "{src} = {} (the year of the latest actual value)",
                self.show(&out.shown, false)
            ),
            "actual" => format!(
                "{src} = {} (the actual value of year {})",
                self.show(&out.shown, false),
                vals.get(1)
                    .cloned()
                    .flatten()
                    .and_then(|x| x.shown)
                    .unwrap_or_else(|| "?".into())
            ),
            _ => {
                let shown: Vec<String> = vals
                    .iter()
                    .flatten()
                    .map(|x| self.show(&x.shown, x.pct))
                    .collect();
                format!(
                    "{src} = {name}({}) = {}",
                    shown.join(", "),
                    self.show(&out.shown, out.pct)
                )
            }
        };
        out.tree = Tree {
            text: Some(text),
            kids,
            cond: Some((self.src(e, env), out.shown.clone().unwrap_or_default())),
            kind: TreeKind::Other,
            detail: None,
        };
        out
    }

    /// `grade(abc, x)`: the band `x` falls in, with the band's bounds.
    fn grade_line(&self, src: &str, scale_name: &str, x: &Ev, result: &Option<String>) -> String {
        let scale = self
            .program
            .scale_named(scale_name)
            .and_then(|s| self.program.scale(s));
        let label = result.clone().unwrap_or_else(|| "?".into());
        let Some(scale) = scale else {
            return format!("{src} → {label}");
        };
        let pct = scale
            .bands
            .iter()
            .flat_map(|b| b.lo.into_iter().chain(b.hi.map(|(h, _)| h)))
            .all(|n| n.to_f64().abs() <= 10.0);
        let value = self.show(&x.shown, pct);
        if x.shown.as_deref().is_none_or(is_missing_text) {
            return format!(
                "{src}: {value} → {label} (the state of scale {} for a missing value)",
                scale.name
            );
        }
        let num = |n: Number| {
            if pct {
                percent(n)
            } else {
                n.to_string()
            }
        };
        match scale.bands.iter().find(|b| b.name == label) {
            Some(b) => {
                let mut conds = Vec::new();
                if let Some(l) = b.lo {
                    conds.push(format!("≥ {}", num(l)));
                }
                if let Some((h, incl)) = b.hi {
                    conds.push(format!("{} {}", if incl { "≤" } else { "<" }, num(h)));
                }
                format!("{src}: {value} {} → {label}", conds.join(" and "))
            }
            None => format!("{src}: {value} → {label}"),
        }
    }

    fn aggregate(
        &mut self,
        a: &'a ast::Aggregate,
        e: &'a ast::Expr,
        env: &Rc<Env<'a>>,
        lo: usize,
        hi: usize,
        depth: usize,
    ) -> Ev {
        let own = self.find(place_of(env.file, e.span), lo, hi);
        let stop = own.unwrap_or(hi);
        let coll = self.ev(&a.collection, env, lo, stop, depth + 1);
        let mut out = Ev {
            end: lo,
            ..Ev::default()
        };
        self.finish(&mut out, own, coll.end);
        out.pct = self.guess_pct(e, env, 0);
        let var = a.var.node.clone();
        let mut inner = (**env).clone();
        inner.vars.push((
            var.clone(),
            Bound::Slot {
                shown: None,
                pct: false,
            },
        ));
        let inner = Rc::new(inner);
        // Per element: the filter's value, then the value aggregated; the
        // element itself is the first use of the variable.
        let mut uses = Vec::new();
        for x in a.filter.iter().chain(a.map.iter()) {
            collect_uses(x, &var, &mut uses);
        }
        let use_places: Vec<Place> = uses.iter().map(|s| place_of(env.file, *s)).collect();
        let mut cursor = coll.end;
        let mut rows = Vec::new();
        let mut elements = 0;
        while cursor < stop && (a.filter.is_some() || a.map.is_some()) {
            let Some(first) = (cursor..stop).find(|&i| {
                let l = self.steps[i].loc;
                use_places.contains(&(l.file, l.start, l.end))
            }) else {
                break;
            };
            let element = match self.steps[first].value.as_str() {
                // A record (an observation, a revision …) has no name of its own.
                v if v.starts_with("record #") => format!("#{}", elements + 1),
                v => v.to_string(),
            };
            let mut parts = Vec::new();
            let mut c = first;
            if let Some(f) = &a.filter {
                let x = self.ev(f, &inner, c, stop, depth + 1);
                if !x.found {
                    break;
                }
                c = x.end;
                parts.push(format!(
                    "{} → {}",
                    one_line(&self.src(f, &inner)),
                    self.show(&x.shown, false)
                ));
                if x.shown.as_deref() != Some("true") && a.map.is_some() {
                    // Not selected: no value.
                    elements += 1;
                    if rows.len() < MAX_ELEMENTS {
                        rows.push(format!("{var} = {element}: {}", parts.join("; ")));
                    }
                    cursor = c.max(first + 1);
                    continue;
                }
            }
            if let Some(m) = &a.map {
                let x = self.ev(m, &inner, c, stop, depth + 1);
                if x.found {
                    c = x.end;
                    parts.push(format!(
                        "{} = {}",
                        one_line(&self.src(m, &inner)),
                        self.show(&x.shown, x.pct)
                    ));
                }
            }
            elements += 1;
            if rows.len() < MAX_ELEMENTS {
                rows.push(format!("{var} = {element}: {}", parts.join("; ")));
            }
            cursor = c.max(first + 1);
        }
        if elements > rows.len() {
            rows.push(format!("… and {} more", elements - rows.len()));
        }
        let coll_src = one_line(&self.src(&a.collection, env));
        let empty = coll.shown.as_deref().is_some_and(|s| s.is_empty());
        let mut text = format!(
            "{} = {}",
            self.short(e, env),
            self.show(&out.shown, out.pct)
        );
        if empty {
            text.push_str(&format!(" ({coll_src} is empty)"));
        }
        out.tree = Tree {
            text: Some(text),
            kids: rows
                .into_iter()
                .map(|r| Tree {
                    text: Some(r),
                    ..Tree::default()
                })
                .collect(),
            cond: Some((self.src(e, env), out.shown.clone().unwrap_or_default())),
            kind: TreeKind::Other,
            detail: None,
        };
        out.found = out.found || coll.found;
        out
    }

    /// Shows a value: `missing` for a missing one, percentages where they
    /// read better.
    fn show(&self, v: &Option<String>, pct: bool) -> String {
        match v {
            Some(v) => show_value(v, pct),
            None => "?".into(),
        }
    }

    /// The tree as indented lines.
    fn flatten(&self, t: &Tree, depth: usize) -> Vec<Line> {
        let mut out = Vec::new();
        match &t.text {
            Some(text) if !text.is_empty() => {
                out.push(Line {
                    depth,
                    text: text.clone(),
                });
                for k in &t.kids {
                    out.extend(self.flatten(k, depth + 1));
                }
            }
            _ => {
                for k in &t.kids {
                    out.extend(self.flatten(k, depth));
                }
            }
        }
        out
    }

    /// The lines under a tree's own line.
    fn flatten_kids(&self, t: &Tree, depth: usize) -> Vec<Line> {
        match &t.text {
            Some(text) if !text.is_empty() => {
                t.kids.iter().flat_map(|k| self.flatten(k, depth)).collect()
            }
            _ => self.flatten(t, depth),
        }
    }

    /// The condition that decided a false (or missing) result: the first
    /// false part of an `and`, every part of an `or`, through calls, `not`,
    /// `??` and the branch an `if` took.
    fn because(&self, t: &Tree) -> Option<String> {
        let (src, value) = t.cond.clone()?;
        let value = show_value(&value, false);
        let leaf = || {
            let detail = t
                .detail
                .as_ref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            Some(format!("`{}`{detail} is {value}", abbrev(&one_line(&src))))
        };
        match t.kind {
            TreeKind::And => {
                let part = t
                    .kids
                    .iter()
                    .find(|k| k.cond.as_ref().is_some_and(|(_, v)| v != "true"))?;
                self.because(part).or_else(leaf)
            }
            TreeKind::Or => {
                let parts: Vec<String> = t.kids.iter().filter_map(|k| self.because(k)).collect();
                if parts.is_empty() {
                    leaf()
                } else {
                    Some(parts.join(" and "))
                }
            }
            TreeKind::Call | TreeKind::Coalesce => {
                match t.kids.iter().rev().find(|k| k.cond.is_some()) {
                    Some(k) => self.because(k).or_else(leaf),
                    None => leaf(),
                }
            }
            TreeKind::If => {
                // The last link of the chain is the branch taken.
                let last = t.kids.last()?;
                self.because(last).or_else(leaf)
            }
            TreeKind::Leaf if !t.kids.is_empty() => {
                let k = t.kids.iter().rev().find(|k| k.cond.is_some())?;
                match k.kind {
                    TreeKind::Leaf if k.kids.is_empty() => leaf(),
                    _ => self.because(k).or_else(leaf),
                }
            }
            _ => leaf(),
        }
    }
}

/// The parts of a chain `a and b and c` (or `or`), parentheses looked
/// through.
fn flatten_chain<'e>(e: &'e ast::Expr, op: BinaryOp, out: &mut Vec<&'e ast::Expr>) {
    match &strip_paren(e).node {
        ExprKind::Binary { op: o, lhs, rhs } if o.node == op => {
            flatten_chain(lhs, op, out);
            flatten_chain(rhs, op, out);
        }
        _ => out.push(e),
    }
}

fn strip_paren(e: &ast::Expr) -> &ast::Expr {
    match &e.node {
        ExprKind::Paren(x) => strip_paren(x),
        _ => e,
    }
}

/// The spans where `var` is used in `e`.
fn collect_uses(e: &ast::Expr, var: &str, out: &mut Vec<ast::Span>) {
    match &e.node {
        ExprKind::Name(n) if n == var => out.push(e.span),
        ExprKind::Field { base, .. } => collect_uses(base, var, out),
        ExprKind::Call { args, .. } => args.iter().for_each(|a| collect_uses(a, var, out)),
        ExprKind::Aggregate(a) => {
            collect_uses(&a.collection, var, out);
            if a.var.node != var {
                a.filter
                    .iter()
                    .chain(a.map.iter())
                    .for_each(|x| collect_uses(x, var, out));
            }
        }
        ExprKind::Unary { operand, .. } | ExprKind::IsMissing { operand, .. } => {
            collect_uses(operand, var, out)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            collect_uses(lhs, var, out);
            collect_uses(rhs, var, out);
        }
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => {
            collect_uses(cond, var, out);
            collect_uses(then, var, out);
            collect_uses(otherwise, var, out);
        }
        ExprKind::List(xs) | ExprKind::Tuple(xs) => {
            xs.iter().for_each(|x| collect_uses(x, var, out))
        }
        ExprKind::Paren(x) => collect_uses(x, var, out),
        _ => {}
    }
}

/// Whether a field or function name is a rate (shown as a percentage).
fn is_pct_name(name: &str) -> bool {
    name.contains("rate") || name.contains("ratio") || name.contains("progress") || name == "capped"
}

/// Whether a shown value is a missing one (`—` or a no-value reason).
fn is_missing_text(v: &str) -> bool {
    v == "—" || crate::model::NoValue::from_token(v).is_some()
}

/// A value as explanations show it: `missing` (with the plan's reason),
/// percentages as `79.3 %`.
pub fn show_value(v: &str, pct: bool) -> String {
    if v == "—" {
        return "missing".into();
    }
    if let Some(r) = crate::model::NoValue::from_token(v) {
        return format!("missing ({})", r.token());
    }
    if pct {
        if let Ok(n) = Number::parse(v) {
            return percent(n);
        }
    }
    v.to_string()
}

/// `0.793333` as `79.3 %`; `0.7` as `70 %`; a value that rounds to a whole
/// percentage without being one keeps more places (`89.996 %`).
pub fn percent(n: Number) -> String {
    let Ok(p) = n.checked_mul(Number::from_i64(100)) else {
        return n.to_string();
    };
    let Ok(r1) = p.round(1) else {
        return n.to_string();
    };
    let shown = if r1 == p || !r1.is_integer() {
        r1
    } else {
        p.round(3).unwrap_or(r1)
    };
    format!("{shown} %")
}

/// A long expression shortened in the middle, for the head of a line
/// whose parts are explained below it.
fn abbrev(s: &str) -> String {
    const MAX: usize = 90;
    let n = s.chars().count();
    if n <= MAX {
        return s.to_string();
    }
    let head: String = s.chars().take(55).collect();
    let tail: String = s.chars().skip(n - 28).collect();
    format!("{} … {}", head.trim_end(), tail.trim_start())
}

/// Text on one line, runs of white space made one space.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(percent(Number::parse("0.7").unwrap()), "70 %");
        assert_eq!(percent(Number::ratio(238, 300).unwrap()), "79.3 %");
        assert_eq!(percent(Number::parse("0.89996").unwrap()), "89.996 %");
        assert_eq!(percent(Number::parse("1.374").unwrap()), "137.4 %");
    }

    #[test]
    fn missing_values() {
        assert_eq!(show_value("—", true), "missing");
        assert_eq!(show_value("集計中", false), "missing (集計中)");
        assert_eq!(show_value("0.5", true), "50 %");
        assert_eq!(show_value("B", true), "B");
    }
}
