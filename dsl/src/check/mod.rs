//! Name resolution, type checking and lowering of parsed rule packs into a
//! [`Program`].
//!
//! The checker runs in passes over every pack at once, collecting all errors
//! rather than stopping at the first:
//!
//! 1. collect declarations (duplicates are errors);
//! 2. resolve declared types (`number`, `grade(abc)`, `list(indicator)` …);
//! 3. compute parameter values: default, then the settings of extending
//!    packs, then the user's (`PACK.NAME = "85%"`), each checked against the
//!    declared type;
//! 4. compute scale bands from those values and prove them (`scale.rs`);
//! 5. find recursive functions, then check every function body once;
//! 6. lower derives (recording which derives each reads), order them by
//!    dependency and report cycles;
//! 7. lower rules, apply rule settings (`off`, re-grading).
//!
//! Lowering (`expr.rs`) types and compiles an expression in one walk:
//! functions are inlined, parameters become constants, constant
//! sub-expressions are folded.
//!
//! **Invariant:** the checker reads only the syntax trees, the schema and
//! the settings it is given; it never evaluates anything that depends on plan
//! data.

mod expr;
mod scale;

use std::collections::HashMap;

use crate::ast::{self, ItemKind};
use crate::check_error::{suggest, CheckError, CheckErrorKind, ErrorSource};
use crate::ir::{self, Loc, Node as N, NodeId, Program, Severity, Source};
use crate::number::Number;
use crate::pack::Origin;
use crate::schema::{Base, KindId, ScaleId, Schema, Type};
use crate::span::Span;
use crate::value::{DeriveId, OwnedValue};

/// One pack, parsed, as the checker receives it.
pub(crate) struct PackUnit {
    /// The pack's name.
    pub(crate) name: String,
    /// Packs whose declarations this one sees, in lookup order: itself
    /// first, then the packs it extends (transitively).
    pub(crate) visible: Vec<usize>,
    /// Parsed files with their index in the program's sources.
    pub(crate) files: Vec<(u32, ast::File)>,
}

/// A parameter or rule setting (`"grades.a_min" = "85%"`), in the order
/// settings apply: packs in extension order, then the user's.
pub(crate) struct SettingIn {
    /// The pack whose `pack.toml` has the setting; `None` for `hyoka.toml`.
    pub(crate) from_pack: Option<usize>,
    /// `PACK.NAME`.
    pub(crate) key: String,
    /// The value as text.
    pub(crate) value: String,
    /// Where it is written.
    pub(crate) origin: Option<Origin>,
}

/// A declaration with where it is.
struct Decl<'a, T> {
    pack: usize,
    file: u32,
    doc: Option<&'a str>,
    name: &'a ast::Ident,
    node: &'a T,
}

impl<T> Clone for Decl<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Decl<'_, T> {}

enum ParamState {
    Todo,
    Busy,
    Done(Option<OwnedValue>),
}

struct FnInfo<'a> {
    decl: Decl<'a, ast::FnDecl>,
    params: Vec<(String, Type)>,
    ret: Type,
    /// Signature unresolved or recursive: calls are not inlined.
    broken: bool,
}

struct DeriveInfo<'a> {
    decl: Decl<'a, ast::Derive>,
    kind: Option<KindId>,
    ty: Type,
    body: Option<NodeId>,
    slots: u16,
    deps: Vec<usize>,
}

/// Where a local name points: a slot set by `let`, or a node that can be
/// reused as is (a constant, `this`, another local).
#[derive(Clone, Copy, Debug)]
enum LocalRef {
    Slot(u16),
    Node(NodeId),
}

/// The names in scope at a point of a body.
#[derive(Clone, Default)]
struct Frame {
    pack: usize,
    file: u32,
    /// The entity the body runs on, under its kind's name.
    this: Option<(String, KindId)>,
    /// In a group rule's body: the grouped entity's name and kind.
    group: Option<(String, KindId)>,
    /// In a group rule's body: the key's component types.
    key_types: Vec<Type>,
    locals: Vec<(String, LocalRef, Type)>,
}

/// State of lowering one top-level body (a derive, a rule, a function).
struct Body {
    frame: Frame,
    name: String,
    next_slot: u16,
    max_slot: u16,
    /// Non-zero while inlining a function: its errors were reported when
    /// the function itself was checked.
    quiet: u32,
    /// Derives read, by declaration index.
    deps: Vec<usize>,
    /// Functions being inlined (recursion guard).
    inlining: Vec<usize>,
    /// Nodes created, to stop runaway inlining.
    size: usize,
    too_large: bool,
}

/// Nodes one body may expand to before it is reported as too large.
const MAX_BODY_NODES: usize = 100_000;

/// How deeply function calls may nest in one body. Each level inlines a
/// body up to [`crate::ast::MAX_EXPR_DEPTH`] deep; the evaluator recurses
/// along that depth, on threads (rayon's) with 2 MiB stacks.
const MAX_INLINE_DEPTH: usize = 8;

impl Body {
    fn new(frame: Frame, name: String) -> Body {
        Body {
            frame,
            name,
            next_slot: 0,
            max_slot: 0,
            quiet: 0,
            deps: Vec::new(),
            inlining: Vec::new(),
            size: 0,
            too_large: false,
        }
    }
}

pub(crate) struct Checker<'a> {
    schema: &'a Schema,
    units: &'a [PackUnit],
    prog: Program,
    errors: Vec<CheckError>,
    srcs: Vec<ErrorSource>,

    params: Vec<Decl<'a, ast::Param>>,
    param_types: Vec<Option<Type>>,
    param_state: Vec<ParamState>,
    /// The override that applies to each parameter: (value, set by, origin).
    param_override: Vec<Option<(String, String, Option<Origin>)>>,
    fns: Vec<FnInfo<'a>>,
    derives: Vec<DeriveInfo<'a>>,
    scales: Vec<Decl<'a, ast::Scale>>,
    rules: Vec<Decl<'a, ast::Rule>>,

    /// (pack, name) → index, for params, fns and scales (one namespace).
    names: HashMap<(usize, String), Named>,
    /// (pack, kind, name) → derive index.
    derive_names: HashMap<(usize, KindId, String), usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Named {
    Param(usize),
    Fn(usize),
    Scale(usize),
}

/// Names of the built-in functions (a user function may not take one).
pub(crate) const BUILTINS: &[&str] = &[
    "latest",
    "latest_year",
    "actual",
    "abs",
    "min",
    "max",
    "round",
    "len",
    "contains",
    "starts_with",
    "ends_with",
    "grade",
    "reason",
];

/// Checks and compiles parsed packs. Returns the program (complete only when
/// there are no errors) and every error found.
pub(crate) fn check(
    units: &[PackUnit],
    schema: &Schema,
    sources: Vec<Source>,
    params: &[SettingIn],
    rules: &[SettingIn],
) -> (Program, Vec<CheckError>) {
    let srcs = sources
        .iter()
        .map(|s| ErrorSource::new(&s.name, s.text.clone()))
        .collect();
    let prog = Program {
        sources,
        enum_names: schema
            .enums()
            .iter()
            .map(|e| (e.name.clone(), e.values.clone()))
            .collect(),
        kind_names: schema.kinds().iter().map(|k| k.name.clone()).collect(),
        ..Program::default()
    };
    let mut c = Checker {
        schema,
        units,
        prog,
        errors: Vec::new(),
        srcs,
        params: Vec::new(),
        param_types: Vec::new(),
        param_state: Vec::new(),
        param_override: Vec::new(),
        fns: Vec::new(),
        derives: Vec::new(),
        scales: Vec::new(),
        rules: Vec::new(),
        names: HashMap::new(),
        derive_names: HashMap::new(),
    };
    c.collect();
    c.resolve_signatures();
    c.apply_param_settings(params);
    c.resolve_params();
    c.build_scales();
    c.find_recursion();
    c.check_fns();
    c.lower_derives();
    c.order_derives();
    c.lower_rules(rules);
    c.prog.find_repeats();
    (c.prog, c.errors)
}

fn loc(file: u32, span: Span) -> Loc {
    Loc {
        file,
        start: span.start as u32,
        end: span.end as u32,
    }
}

impl<'a> Checker<'a> {
    // ---------------------------------------------------------------------
    // Errors and names
    // ---------------------------------------------------------------------

    fn error(&mut self, file: u32, span: Span, kind: CheckErrorKind) {
        let src = self.srcs.get(file as usize).cloned();
        self.errors.push(CheckError::new(kind, src, Some(span)));
    }

    fn error_at_origin(&mut self, origin: &Option<Origin>, kind: CheckErrorKind) {
        let err = match origin {
            Some(o) => CheckError::new(
                kind,
                Some(ErrorSource::new(&o.source_name, o.text.clone())),
                Some(Span::new(o.span.start, o.span.end)),
            ),
            None => CheckError::new(kind, None, None),
        };
        self.errors.push(err);
    }

    fn kind_name(&self, k: KindId) -> &str {
        &self.schema.kind(k).name
    }

    /// How a type is written in rule files.
    fn type_name(&self, t: Type) -> String {
        let base = match t.base {
            Base::Number => "number".to_string(),
            Base::String => "string".to_string(),
            Base::Bool => "bool".to_string(),
            Base::Year => "year".to_string(),
            Base::Enum(e) => self.schema.enum_def(e).name.clone(),
            Base::Grade(s) => format!(
                "grade({})",
                self.prog
                    .scales
                    .get(s.0 as usize)
                    .map_or("?", |s| s.name.as_str())
            ),
            Base::Obj(k) => self.kind_name(k).to_string(),
            Base::Key => "key".to_string(),
            Base::Missing => "missing".to_string(),
        };
        if t.list {
            format!("list({base})")
        } else {
            base
        }
    }

    /// Finds a param, fn or scale visible from `pack`.
    fn lookup(&self, pack: usize, name: &str) -> Option<Named> {
        let unit = self.units.get(pack)?;
        unit.visible
            .iter()
            .find_map(|p| self.names.get(&(*p, name.to_string())).copied())
    }

    fn lookup_scale(&self, pack: usize, name: &str) -> Option<ScaleId> {
        match self.lookup(pack, name)? {
            Named::Scale(i) => Some(ScaleId(i as u16)),
            _ => None,
        }
    }

    fn lookup_derive(&self, pack: usize, kind: KindId, name: &str) -> Option<usize> {
        let unit = self.units.get(pack)?;
        unit.visible.iter().find_map(|p| {
            self.derive_names
                .get(&(*p, kind, name.to_string()))
                .copied()
        })
    }

    /// Names of `sort` visible from `pack`, for "did you mean".
    fn visible_names(&self, pack: usize, want: fn(Named) -> bool) -> Vec<String> {
        let Some(unit) = self.units.get(pack) else {
            return Vec::new();
        };
        let mut out: Vec<String> = self
            .names
            .iter()
            .filter(|((p, _), n)| unit.visible.contains(p) && want(**n))
            .map(|((_, name), _)| name.clone())
            .collect();
        out.sort();
        out
    }

    // ---------------------------------------------------------------------
    // Pass 1: declarations
    // ---------------------------------------------------------------------

    fn collect(&mut self) {
        let units = self.units;
        let mut rule_ids: HashMap<String, (usize, u32, Span)> = HashMap::new();
        let mut first_span: HashMap<(usize, String), (u32, Span, &'static str)> = HashMap::new();
        for (pack, unit) in units.iter().enumerate() {
            for (file, tree) in &unit.files {
                let file = *file;
                for item in &tree.items {
                    let doc = item.doc.as_ref().map(|d| d.node.as_str());
                    let name = item.name();
                    let what = item.keyword();
                    if let ItemKind::Rule(r) = &item.kind {
                        let decl = Decl {
                            pack,
                            file,
                            doc,
                            name,
                            node: r,
                        };
                        match rule_ids.get(&name.node) {
                            Some(&(p, f, s)) if p == pack => {
                                let err = CheckErrorKind::Duplicate {
                                    what: "rule".into(),
                                    name: name.node.clone(),
                                };
                                self.duplicate(file, name.span, err, f, s);
                                continue;
                            }
                            Some(&(p, _, _)) => {
                                self.error(
                                    file,
                                    name.span,
                                    CheckErrorKind::DuplicateRule {
                                        id: name.node.clone(),
                                        first: units[p].name.clone(),
                                        second: unit.name.clone(),
                                    },
                                );
                                continue;
                            }
                            None => {
                                rule_ids.insert(name.node.clone(), (pack, file, name.span));
                            }
                        }
                        self.rules.push(decl);
                        continue;
                    }
                    if let ItemKind::Derive(d) = &item.kind {
                        let decl = Decl {
                            pack,
                            file,
                            doc,
                            name,
                            node: d,
                        };
                        let kind = self.schema.kind_named(&d.entity.node);
                        let idx = self.derives.len();
                        if let Some(k) = kind {
                            let key = (pack, k, name.node.clone());
                            if let Some(&other) = self.derive_names.get(&key) {
                                let o = self.derives[other].decl;
                                let err = CheckErrorKind::Duplicate {
                                    what: "derive".into(),
                                    name: name.node.clone(),
                                };
                                self.duplicate(file, name.span, err, o.file, o.name.span);
                                continue;
                            }
                            if self.schema.field_named(k, &name.node).is_some() {
                                self.error(
                                    file,
                                    name.span,
                                    CheckErrorKind::ShadowsField {
                                        kind: d.entity.node.clone(),
                                        name: name.node.clone(),
                                    },
                                );
                                continue;
                            }
                            self.derive_names.insert(key, idx);
                        }
                        self.derives.push(DeriveInfo {
                            decl,
                            kind,
                            ty: Type::MISSING,
                            body: None,
                            slots: 0,
                            deps: Vec::new(),
                        });
                        continue;
                    }
                    let key = (pack, name.node.clone());
                    if let Some(&(f, s, w)) = first_span.get(&key) {
                        // Params, functions and scales share one namespace.
                        let kind = CheckErrorKind::Duplicate {
                            what: if w == what { what } else { "name" }.to_string(),
                            name: name.node.clone(),
                        };
                        self.duplicate(file, name.span, kind, f, s);
                        continue;
                    }
                    first_span.insert(key.clone(), (file, name.span, what));
                    match &item.kind {
                        ItemKind::Param(p) => {
                            self.names.insert(key, Named::Param(self.params.len()));
                            self.params.push(Decl {
                                pack,
                                file,
                                doc,
                                name,
                                node: p,
                            });
                        }
                        ItemKind::Fn(f) => {
                            if BUILTINS.contains(&name.node.as_str()) {
                                self.error(
                                    file,
                                    name.span,
                                    CheckErrorKind::ShadowsBuiltin {
                                        name: name.node.clone(),
                                    },
                                );
                                continue;
                            }
                            self.names.insert(key, Named::Fn(self.fns.len()));
                            self.fns.push(FnInfo {
                                decl: Decl {
                                    pack,
                                    file,
                                    doc,
                                    name,
                                    node: f,
                                },
                                params: Vec::new(),
                                ret: Type::MISSING,
                                broken: false,
                            });
                        }
                        ItemKind::Scale(s) => {
                            self.names.insert(key, Named::Scale(self.scales.len()));
                            self.scales.push(Decl {
                                pack,
                                file,
                                doc,
                                name,
                                node: s,
                            });
                            self.prog.scales.push(ir::Scale {
                                pack: unit.name.clone(),
                                name: name.node.clone(),
                                doc: doc.map(str::to_string),
                                bands: Vec::new(),
                                states: Vec::new(),
                                missing_state: 0,
                                loc: loc(file, name.span),
                            });
                        }
                        ItemKind::Derive(_) | ItemKind::Rule(_) => {}
                    }
                }
            }
        }
        let n = self.params.len();
        self.param_types = vec![None; n];
        self.param_state = (0..n).map(|_| ParamState::Todo).collect();
        self.param_override = vec![None; n];
    }

    fn duplicate(
        &mut self,
        file: u32,
        span: Span,
        kind: CheckErrorKind,
        first_file: u32,
        first: Span,
    ) {
        let src = self.srcs.get(file as usize).cloned();
        let mut err = CheckError::new(kind, src, Some(span));
        if first_file == file {
            err = err.with_note(first, "first declared here");
        }
        self.errors.push(err);
    }

    // ---------------------------------------------------------------------
    // Pass 2: declared types
    // ---------------------------------------------------------------------

    fn resolve_type(
        &mut self,
        pack: usize,
        file: u32,
        t: &ast::Node<ast::TypeExpr>,
    ) -> Option<Type> {
        let name = t.name.node.as_str();
        let arity = |c: &mut Self, n: usize| {
            if t.args.len() != n {
                c.error(
                    file,
                    t.span,
                    CheckErrorKind::ArgumentCount {
                        func: name.to_string(),
                        expected: match n {
                            0 => "no arguments".to_string(),
                            1 => "1 argument".to_string(),
                            n => format!("{n} arguments"),
                        },
                        found: t.args.len(),
                    },
                );
                false
            } else {
                true
            }
        };
        let simple = match name {
            "number" => Some(Type::NUMBER),
            "string" => Some(Type::STRING),
            "bool" => Some(Type::BOOL),
            "year" => Some(Type::YEAR),
            _ => None,
        };
        if let Some(ty) = simple {
            return arity(self, 0).then_some(ty);
        }
        match name {
            "grade" => {
                if !arity(self, 1) {
                    return None;
                }
                let arg = &t.args[0];
                match self.lookup_scale(pack, &arg.name.node) {
                    Some(s) if arg.args.is_empty() => Some(Type::base(Base::Grade(s))),
                    _ => {
                        let suggestion = suggest(
                            &arg.name.node,
                            self.visible_names(pack, |n| matches!(n, Named::Scale(_)))
                                .iter()
                                .map(|s| s.as_str()),
                        );
                        self.error(
                            file,
                            arg.span,
                            CheckErrorKind::UnknownScale {
                                name: arg.name.node.clone(),
                                suggestion,
                            },
                        );
                        None
                    }
                }
            }
            "list" => {
                if !arity(self, 1) {
                    return None;
                }
                let inner = self.resolve_type(pack, file, &t.args[0])?;
                if inner.list {
                    self.error(
                        file,
                        t.span,
                        CheckErrorKind::NotAllowed {
                            what: "a list of lists".into(),
                            allowed: "the plan model has no lists of lists".into(),
                        },
                    );
                    return None;
                }
                Some(Type::list_of(inner))
            }
            _ => {
                if let Some(k) = self.schema.kind_named(name) {
                    return arity(self, 0).then_some(Type::obj(k));
                }
                if let Some(e) = self.schema.enum_named(name) {
                    return arity(self, 0).then_some(Type::enumeration(e));
                }
                let mut candidates: Vec<&str> =
                    vec!["number", "string", "bool", "year", "grade", "list"];
                candidates.extend(self.schema.kinds().iter().map(|k| k.name.as_str()));
                candidates.extend(self.schema.enums().iter().map(|e| e.name.as_str()));
                let suggestion = suggest(name, candidates);
                self.error(
                    file,
                    t.name.span,
                    CheckErrorKind::UnknownType {
                        name: name.to_string(),
                        suggestion,
                    },
                );
                None
            }
        }
    }

    /// The entity kind called `name`, or an error.
    fn resolve_entity(&mut self, file: u32, name: &ast::Ident) -> Option<KindId> {
        match self.schema.kind_named(&name.node) {
            Some(k) if self.schema.kind(k).entity => Some(k),
            Some(_) => {
                let entities = self
                    .schema
                    .kinds()
                    .iter()
                    .filter(|k| k.entity)
                    .map(|k| k.name.clone())
                    .collect();
                self.error(
                    file,
                    name.span,
                    CheckErrorKind::NotAnEntity {
                        name: name.node.clone(),
                        entities,
                    },
                );
                None
            }
            None => {
                let suggestion = suggest(
                    &name.node,
                    self.schema
                        .kinds()
                        .iter()
                        .filter(|k| k.entity)
                        .map(|k| k.name.as_str()),
                );
                self.error(
                    file,
                    name.span,
                    CheckErrorKind::UnknownEntity {
                        name: name.node.clone(),
                        suggestion,
                    },
                );
                None
            }
        }
    }

    fn resolve_signatures(&mut self) {
        for i in 0..self.params.len() {
            let d = self.params[i];
            let ty = self.resolve_type(d.pack, d.file, &d.node.ty);
            if let Some(t) = ty {
                if t.list || matches!(t.base, Base::Obj(_)) {
                    self.error(
                        d.file,
                        d.node.ty.span,
                        CheckErrorKind::NotAllowed {
                            what: format!("a parameter of type `{}`", self.type_name(t)),
                            allowed: "parameters are numbers, strings, bools, years, enum values or grades".into(),
                        },
                    );
                    continue;
                }
            }
            self.param_types[i] = ty;
        }
        for i in 0..self.fns.len() {
            let d = self.fns[i].decl;
            let mut params = Vec::new();
            let mut broken = false;
            for p in &d.node.params {
                if params
                    .iter()
                    .any(|(n, _): &(String, Type)| *n == p.name.node)
                {
                    self.error(
                        d.file,
                        p.name.span,
                        CheckErrorKind::Duplicate {
                            what: "parameter".into(),
                            name: p.name.node.clone(),
                        },
                    );
                    broken = true;
                }
                match self.resolve_type(d.pack, d.file, &p.ty) {
                    Some(t) => params.push((p.name.node.clone(), t)),
                    None => {
                        broken = true;
                        params.push((p.name.node.clone(), Type::MISSING));
                    }
                }
            }
            let ret = self.resolve_type(d.pack, d.file, &d.node.ret);
            let f = &mut self.fns[i];
            f.params = params;
            f.ret = ret.unwrap_or(Type::MISSING);
            f.broken = broken || ret.is_none();
        }
        for i in 0..self.derives.len() {
            let d = self.derives[i].decl;
            let kind = self.resolve_entity(d.file, &d.node.entity);
            let ty = self.resolve_type(d.pack, d.file, &d.node.ty);
            if let Some(t) = ty {
                if t.list {
                    self.error(
                        d.file,
                        d.node.ty.span,
                        CheckErrorKind::NotAllowed {
                            what: format!("a derived value of type `{}`", self.type_name(t)),
                            allowed: "derived values are single values; aggregate the list instead"
                                .into(),
                        },
                    );
                }
            }
            self.derives[i].kind = kind;
            self.derives[i].ty = ty.filter(|t| !t.list).unwrap_or(Type::MISSING);
        }
    }

    // ---------------------------------------------------------------------
    // Pass 3: parameters
    // ---------------------------------------------------------------------

    /// Splits `PACK.NAME` and finds the pack; reports an error otherwise.
    fn split_key(&mut self, s: &SettingIn) -> Option<(usize, String)> {
        let Some((pack, name)) = s.key.split_once('.') else {
            self.error_at_origin(
                &s.origin,
                CheckErrorKind::Unqualified { key: s.key.clone() },
            );
            return None;
        };
        let Some(p) = self.units.iter().position(|u| u.name == pack) else {
            let suggestion = suggest(pack, self.units.iter().map(|u| u.name.as_str()));
            self.error_at_origin(
                &s.origin,
                CheckErrorKind::UnknownPack {
                    name: pack.to_string(),
                    suggestion,
                },
            );
            return None;
        };
        if let Some(from) = s.from_pack {
            if !self.units[from].visible.contains(&p) {
                self.error_at_origin(
                    &s.origin,
                    CheckErrorKind::NotExtended {
                        pack: self.units[from].name.clone(),
                        key: s.key.clone(),
                        target: pack.to_string(),
                    },
                );
                return None;
            }
        }
        Some((p, name.to_string()))
    }

    fn apply_param_settings(&mut self, settings: &[SettingIn]) {
        for s in settings {
            let Some((pack, name)) = self.split_key(s) else {
                continue;
            };
            match self.names.get(&(pack, name.clone())) {
                Some(Named::Param(i)) => {
                    let set_by = match s.from_pack {
                        Some(p) => format!("pack {}", self.units[p].name),
                        None => "hyoka.toml".to_string(),
                    };
                    self.param_override[*i] = Some((s.value.clone(), set_by, s.origin.clone()));
                }
                _ => {
                    let suggestion = suggest(
                        &name,
                        self.params
                            .iter()
                            .filter(|d| d.pack == pack)
                            .map(|d| d.name.node.as_str()),
                    );
                    self.error_at_origin(
                        &s.origin,
                        CheckErrorKind::UnknownParam {
                            pack: self.units[pack].name.clone(),
                            name,
                            suggestion,
                        },
                    );
                }
            }
        }
    }

    fn resolve_params(&mut self) {
        for i in 0..self.params.len() {
            let value = self.param_value(i);
            let d = self.params[i];
            let set_by = match &self.param_override[i] {
                Some((_, by, _)) if value.is_some() => by.clone(),
                _ => "default".to_string(),
            };
            self.prog.params.push(ir::Param {
                pack: self.units[d.pack].name.clone(),
                name: d.name.node.clone(),
                doc: d.doc.map(str::to_string),
                ty: self.param_types[i].unwrap_or(Type::MISSING),
                value: value.unwrap_or(OwnedValue::Missing(None)),
                set_by,
                loc: loc(d.file, d.name.span),
            });
        }
    }

    /// The value of parameter `i`, computing it (and the parameters it
    /// reads) on first use. `None` when it has no valid value.
    fn param_value(&mut self, i: usize) -> Option<OwnedValue> {
        match &self.param_state[i] {
            ParamState::Done(v) => return v.clone(),
            ParamState::Busy => {
                let d = self.params[i];
                self.error(
                    d.file,
                    d.name.span,
                    CheckErrorKind::NotConstant {
                        what: format!(
                            "the default of parameter `{}`, which depends on itself,",
                            d.name.node
                        ),
                    },
                );
                self.param_state[i] = ParamState::Done(None);
                return None;
            }
            ParamState::Todo => {}
        }
        self.param_state[i] = ParamState::Busy;
        let d = self.params[i];
        let ty = self.param_types[i];
        let value = match (ty, self.param_override[i].clone()) {
            (Some(t), Some((text, _, origin))) => {
                let v = self.parse_setting_value(t, &text);
                if v.is_none() {
                    let key = format!("{}.{}", self.units[d.pack].name, d.name.node);
                    let example = self.example_value(t);
                    self.error_at_origin(
                        &origin,
                        CheckErrorKind::ParamValue {
                            key,
                            declared: self.type_name(t),
                            text,
                            example,
                        },
                    );
                }
                v
            }
            (ty, _) => {
                let frame = Frame {
                    pack: d.pack,
                    file: d.file,
                    ..Frame::default()
                };
                let mut b = Body::new(frame, d.name.node.clone());
                let (n, found) = self.expr(&mut b, &d.node.default, ty);
                match (self.prog.node(n), ty) {
                    (N::Const(v), Some(t)) => {
                        if self.assignable(found, t) {
                            Some(v.clone())
                        } else {
                            self.error(
                                d.file,
                                d.node.default.span,
                                CheckErrorKind::DeclaredType {
                                    what: "param".into(),
                                    name: d.name.node.clone(),
                                    declared: self.type_name(t),
                                    found: self.type_name(found),
                                },
                            );
                            None
                        }
                    }
                    (N::Const(_), None) => None,
                    _ => {
                        self.error(
                            d.file,
                            d.node.default.span,
                            CheckErrorKind::NotConstant {
                                what: format!("the default of parameter `{}`", d.name.node),
                            },
                        );
                        None
                    }
                }
            }
        };
        // A parameter that depended on itself was already settled with an
        // error; keep that.
        if let ParamState::Busy = self.param_state[i] {
            self.param_state[i] = ParamState::Done(value.clone());
        }
        match &self.param_state[i] {
            ParamState::Done(v) => v.clone(),
            _ => value,
        }
    }

    /// Parses a setting's text as a value of type `t` (`"85%"`, `"true"`,
    /// `"increase"`, `"A"`).
    fn parse_setting_value(&self, t: Type, text: &str) -> Option<OwnedValue> {
        let text = text.trim();
        if t.list {
            return None;
        }
        match t.base {
            Base::Number => Number::parse(text).ok().map(OwnedValue::Num),
            Base::Year => text.parse::<i32>().ok().map(OwnedValue::Year),
            Base::Bool => match text {
                "true" => Some(OwnedValue::Bool(true)),
                "false" => Some(OwnedValue::Bool(false)),
                _ => None,
            },
            Base::String => Some(OwnedValue::Str(text.into())),
            Base::Enum(e) => self
                .schema
                .enum_def(e)
                .values
                .iter()
                .position(|v| v == text)
                .map(|i| OwnedValue::Enum(e, i as u16)),
            Base::Grade(s) => {
                let decl = self.scales.get(s.0 as usize)?;
                decl.node
                    .entries
                    .iter()
                    .position(|e| e.label.name == text)
                    .and_then(|i| self.grade_index(s, i))
                    .map(|g| OwnedValue::Grade(s, g))
            }
            Base::Obj(_) | Base::Key | Base::Missing => None,
        }
    }

    fn example_value(&self, t: Type) -> String {
        match t.base {
            Base::Number => "85%".into(),
            Base::Year => "2025".into(),
            Base::Bool => "true".into(),
            Base::String => "text".into(),
            Base::Enum(e) => self
                .schema
                .enum_def(e)
                .values
                .first()
                .cloned()
                .unwrap_or_default(),
            Base::Grade(s) => self
                .prog
                .scales
                .get(s.0 as usize)
                .and_then(|s| s.bands.first().map(|b| b.name.clone()))
                .unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// The grade index of scale entry `entry` (bands first, then states, in
    /// source order within each).
    fn grade_index(&self, s: ScaleId, entry: usize) -> Option<u16> {
        let decl = self.scales.get(s.0 as usize)?;
        let is_band = |e: &ast::ScaleEntry| matches!(e.kind, ast::ScaleEntryKind::Band(_));
        let e = decl.node.entries.get(entry)?;
        let before = &decl.node.entries[..entry];
        if is_band(e) {
            Some(before.iter().filter(|e| is_band(e)).count() as u16)
        } else {
            let bands = decl.node.entries.iter().filter(|e| is_band(e)).count();
            Some((bands + before.iter().filter(|e| !is_band(e)).count()) as u16)
        }
    }

    // ---------------------------------------------------------------------
    // Pass 5: functions
    // ---------------------------------------------------------------------

    /// Marks recursive functions broken and reports each cycle once.
    fn find_recursion(&mut self) {
        let n = self.fns.len();
        let mut calls: Vec<Vec<(usize, Span)>> = vec![Vec::new(); n];
        for (i, f) in self.fns.iter().enumerate() {
            let mut out = Vec::new();
            collect_calls(&f.decl.node.body, &mut out);
            for (name, span) in out {
                if let Some(Named::Fn(j)) = self.lookup(f.decl.pack, &name) {
                    calls[i].push((j, span));
                }
            }
        }
        // Depth-first search; a back edge closes a cycle.
        let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
        let mut stack: Vec<usize> = Vec::new();
        let mut reported: Vec<Vec<usize>> = Vec::new();
        for start in 0..n {
            self.dfs_fn(start, &calls, &mut state, &mut stack, &mut reported);
        }
        for cycle in reported {
            let first = cycle[0];
            for &i in &cycle {
                self.fns[i].broken = true;
            }
            let mut names: Vec<String> = cycle
                .iter()
                .map(|i| self.fns[*i].decl.name.node.clone())
                .collect();
            names.push(names[0].clone());
            let d = self.fns[first].decl;
            self.error(
                d.file,
                d.name.span,
                CheckErrorKind::Recursion { cycle: names },
            );
        }
    }

    fn dfs_fn(
        &self,
        i: usize,
        calls: &[Vec<(usize, Span)>],
        state: &mut [u8],
        stack: &mut Vec<usize>,
        reported: &mut Vec<Vec<usize>>,
    ) {
        if state[i] != 0 {
            return;
        }
        state[i] = 1;
        stack.push(i);
        for &(j, _) in &calls[i] {
            match state[j] {
                0 => self.dfs_fn(j, calls, state, stack, reported),
                1 => {
                    let pos = stack.iter().position(|x| *x == j).unwrap_or(0);
                    reported.push(stack[pos..].to_vec());
                }
                _ => {}
            }
        }
        stack.pop();
        state[i] = 2;
    }

    /// Checks every function body once, on its own, so that its errors are
    /// reported once however often it is inlined.
    fn check_fns(&mut self) {
        for i in 0..self.fns.len() {
            let f = &self.fns[i];
            let d = f.decl;
            let ret = f.ret;
            let locals = f
                .params
                .iter()
                .enumerate()
                .map(|(k, (n, t))| (n.clone(), LocalRef::Slot(k as u16), *t))
                .collect();
            let slots = f.params.len() as u16;
            let frame = Frame {
                pack: d.pack,
                file: d.file,
                locals,
                ..Frame::default()
            };
            let mut b = Body::new(frame, d.name.node.clone());
            b.next_slot = slots;
            b.max_slot = slots;
            b.inlining.push(i);
            let (_, found) = self.expr(&mut b, &d.node.body, Some(ret));
            if !self.fns[i].broken && !self.assignable(found, ret) {
                self.error(
                    d.file,
                    d.node.body.span,
                    CheckErrorKind::DeclaredType {
                        what: "fn".into(),
                        name: d.name.node.clone(),
                        declared: self.type_name(ret),
                        found: self.type_name(found),
                    },
                );
            }
        }
    }

    // ---------------------------------------------------------------------
    // Pass 6: derives
    // ---------------------------------------------------------------------

    fn lower_derives(&mut self) {
        for i in 0..self.derives.len() {
            let d = self.derives[i].decl;
            let Some(kind) = self.derives[i].kind else {
                continue;
            };
            let ty = self.derives[i].ty;
            let frame = Frame {
                pack: d.pack,
                file: d.file,
                this: Some((d.node.entity.node.clone(), kind)),
                ..Frame::default()
            };
            let mut b = Body::new(frame, d.name.node.clone());
            let (body, found) = self.expr(&mut b, &d.node.body, Some(ty));
            if ty != Type::MISSING && !self.assignable(found, ty) {
                self.error(
                    d.file,
                    d.node.body.span,
                    CheckErrorKind::DeclaredType {
                        what: "derive".into(),
                        name: d.name.node.clone(),
                        declared: self.type_name(ty),
                        found: self.type_name(found),
                    },
                );
            }
            let info = &mut self.derives[i];
            info.body = Some(body);
            info.slots = b.max_slot;
            b.deps.sort_unstable();
            b.deps.dedup();
            info.deps = b.deps;
        }
    }

    /// Orders derives so that each comes after those it reads, reports
    /// cycles, and renumbers `Derived` nodes to the final order.
    fn order_derives(&mut self) {
        let n = self.derives.len();
        let mut state = vec![0u8; n];
        let mut order = Vec::with_capacity(n);
        let mut stack = Vec::new();
        let mut cycles: Vec<Vec<usize>> = Vec::new();
        for i in 0..n {
            self.dfs_derive(i, &mut state, &mut stack, &mut order, &mut cycles);
        }
        for cycle in cycles {
            let mut names: Vec<String> = cycle
                .iter()
                .map(|i| {
                    let d = &self.derives[*i];
                    match d.kind {
                        Some(k) => format!("{}.{}", self.kind_name(k), d.decl.name.node),
                        None => d.decl.name.node.clone(),
                    }
                })
                .collect();
            names.push(names[0].clone());
            let d = self.derives[cycle[0]].decl;
            let src = self.srcs.get(d.file as usize).cloned();
            let mut err = CheckError::new(
                CheckErrorKind::DeriveCycle {
                    cycle: names.clone(),
                },
                src,
                Some(d.name.span),
            );
            // Point at every other member declared in the same file.
            for (k, i) in cycle.iter().enumerate().skip(1) {
                let o = self.derives[*i].decl;
                if o.file == d.file {
                    err = err.with_note(o.name.span, format!("reads `{}`", names[k + 1]));
                }
            }
            self.errors.push(err);
        }
        let mut new_id = vec![u32::MAX; n];
        for (pos, &i) in order.iter().enumerate() {
            new_id[i] = pos as u32;
        }
        for node in &mut self.prog.nodes {
            if let N::Derived(_, d) = node {
                *d = DeriveId(new_id.get(d.0 as usize).copied().unwrap_or(u32::MAX));
            }
        }
        for &i in &order {
            let info = &self.derives[i];
            let (Some(kind), Some(body)) = (info.kind, info.body) else {
                continue;
            };
            let d = info.decl;
            self.prog.derives.push(ir::Derive {
                pack: self.units[d.pack].name.clone(),
                name: d.name.node.clone(),
                doc: d.doc.map(str::to_string),
                kind,
                ty: info.ty,
                loc: loc(d.file, d.name.span),
                body,
                slots: info.slots,
                group: 0,
            });
        }
        self.prog.group_derives();
    }

    fn dfs_derive(
        &self,
        i: usize,
        state: &mut [u8],
        stack: &mut Vec<usize>,
        order: &mut Vec<usize>,
        cycles: &mut Vec<Vec<usize>>,
    ) {
        if state[i] != 0 {
            return;
        }
        state[i] = 1;
        stack.push(i);
        for &j in &self.derives[i].deps {
            match state[j] {
                0 => self.dfs_derive(j, state, stack, order, cycles),
                1 => {
                    let pos = stack.iter().position(|x| *x == j).unwrap_or(0);
                    cycles.push(stack[pos..].to_vec());
                }
                _ => {}
            }
        }
        stack.pop();
        state[i] = 2;
        order.push(i);
    }

    // ---------------------------------------------------------------------
    // Pass 7: rules
    // ---------------------------------------------------------------------

    fn plain(&mut self, file: u32, s: &ast::StrLit, clause: &str) -> Option<String> {
        match s.as_plain() {
            Some(t) => Some(t),
            None => {
                self.error(
                    file,
                    s.span,
                    CheckErrorKind::NotAllowed {
                        what: format!("interpolation in `{clause}`"),
                        allowed: "`{…}` interpolates only in `message`".into(),
                    },
                );
                None
            }
        }
    }

    fn lower_rules(&mut self, settings: &[SettingIn]) {
        // Settings first: which rules are off or re-graded.
        let mut setting: HashMap<(usize, String), Option<Severity>> = HashMap::new();
        for s in settings {
            let Some((pack, id)) = self.split_key(s) else {
                continue;
            };
            if !self
                .rules
                .iter()
                .any(|r| r.pack == pack && r.name.node == id)
            {
                let suggestion = suggest(
                    &id,
                    self.rules
                        .iter()
                        .filter(|r| r.pack == pack)
                        .map(|r| r.name.node.as_str()),
                );
                self.error_at_origin(
                    &s.origin,
                    CheckErrorKind::UnknownRule {
                        pack: self.units[pack].name.clone(),
                        id,
                        suggestion,
                    },
                );
                continue;
            }
            let value = s.value.trim();
            let parsed = if value == "off" {
                Some(None)
            } else {
                Severity::from_keyword(value).map(Some)
            };
            match parsed {
                Some(sev) => {
                    setting.insert((pack, id), sev);
                }
                None => {
                    let suggestion = suggest(value, ["off", "error", "warning", "info"]);
                    self.error_at_origin(
                        &s.origin,
                        CheckErrorKind::RuleSetting {
                            key: s.key.clone(),
                            value: value.to_string(),
                            suggestion,
                        },
                    );
                }
            }
        }
        for i in 0..self.rules.len() {
            let d = self.rules[i];
            let over = setting.get(&(d.pack, d.name.node.clone())).copied();
            if let Some(rule) = self.lower_rule(d) {
                let rule = match over {
                    Some(None) => continue,
                    Some(Some(sev)) => ir::Rule {
                        severity: sev,
                        ..rule
                    },
                    None => rule,
                };
                self.prog.rules.push(rule);
            }
        }
    }

    fn lower_rule(&mut self, d: Decl<'a, ast::Rule>) -> Option<ir::Rule> {
        let r = d.node;
        let file = d.file;
        let (entity, group_key) = match &r.scope.node {
            ast::Scope::Entity(e) => (e, None),
            ast::Scope::Group { entity, key } => (entity, Some(key)),
        };
        let kind = self.resolve_entity(file, entity);
        let frame = Frame {
            pack: d.pack,
            file,
            this: kind.map(|k| (entity.node.clone(), k)),
            ..Frame::default()
        };
        let mut b = Body::new(frame, d.name.node.clone());
        self.bind_unknown_entity(&mut b, kind, entity);
        let filter = r
            .filter
            .as_ref()
            .map(|f| self.condition(&mut b, f, "where"));
        let mut key_nodes = Vec::new();
        let mut key_types = Vec::new();
        if let Some(key) = group_key {
            let parts: Vec<&ast::Expr> = match &key.node {
                ast::ExprKind::Tuple(items) => items.iter().collect(),
                _ => vec![key],
            };
            for part in parts {
                let (n, t) = self.expr(&mut b, part, None);
                if t.list || matches!(t.base, Base::Key) {
                    self.error(
                        file,
                        part.span,
                        CheckErrorKind::KeyType {
                            found: self.type_name(t),
                        },
                    );
                }
                key_nodes.push(n);
                key_types.push(t);
            }
            // The body of a group rule sees `key` and `members`, not the entity.
            b.frame.this = None;
            b.frame.group = kind.map(|k| (entity.node.clone(), k));
            b.frame.key_types = key_types;
        }
        let when = match r.when() {
            Some(w) => self.condition(&mut b, w, "when"),
            None => self
                .prog
                .push(N::Const(OwnedValue::Bool(false)), Loc::default()),
        };
        let mut message = ir::Template::default();
        if let Some(m) = r.message() {
            for part in &m.parts {
                match part {
                    ast::TemplatePart::Text(t) => message
                        .parts
                        .push(ir::TemplatePart::Text(t.node.as_str().into())),
                    ast::TemplatePart::Interp(e) => {
                        let (n, _) = self.expr(&mut b, e, None);
                        message.parts.push(ir::TemplatePart::Expr(n));
                    }
                }
            }
        }
        let title = r.title().and_then(|s| self.plain(file, s, "title"));
        let help = r.help().and_then(|s| self.plain(file, s, "help"));
        let rationale = r.rationale().and_then(|s| self.plain(file, s, "rationale"));
        let reference = r.reference().and_then(|s| self.plain(file, s, "reference"));
        let tags = r
            .tags()
            .iter()
            .filter_map(|t| self.plain(file, t, "tags"))
            .collect();
        let (suggest, suggest_expr) = match r.suggest() {
            Some(e) => self.outcome(&mut b, e),
            None => (None, None),
        };
        let severity = r.severity().map_or(Severity::Warning, |s| s.node);
        let kind = kind?;
        Some(ir::Rule {
            pack: self.units[d.pack].name.clone(),
            id: d.name.node.clone(),
            doc: d.doc.map(str::to_string),
            title,
            severity,
            scope: if group_key.is_some() {
                ir::Scope::Group(kind)
            } else {
                ir::Scope::Each(kind)
            },
            help,
            suggest,
            rationale,
            reference,
            tags,
            loc: loc(file, d.name.span),
            filter,
            group_key: key_nodes.into_boxed_slice(),
            when,
            message,
            suggest_expr,
            slots: b.max_slot,
        })
    }

    /// After an unknown `for ENTITY` was reported, binds the name to a
    /// `missing` of type `missing`, so that the body does not report every
    /// use of it again.
    fn bind_unknown_entity(&mut self, b: &mut Body, kind: Option<KindId>, entity: &ast::Ident) {
        if kind.is_none() {
            let n = self.prog.push(
                N::Const(OwnedValue::Missing(None)),
                loc(b.frame.file, entity.span),
            );
            b.frame
                .locals
                .push((entity.node.clone(), LocalRef::Node(n), Type::MISSING));
        }
    }

    /// `suggest OUTCOME`: a value of the schema's `outcome` enumeration,
    /// written as a name (static metadata) or computed by an expression of
    /// that type (evaluated when the rule fires).
    fn outcome(&mut self, b: &mut Body, e: &ast::Expr) -> (Option<String>, Option<NodeId>) {
        let file = b.frame.file;
        let outcome = self.schema.enum_named("outcome");
        let outcomes: Vec<String> = outcome
            .map(|o| self.schema.enum_def(o).values.clone())
            .unwrap_or_default();
        let written = match &e.node {
            ast::ExprKind::Name(n) => n.clone(),
            ast::ExprKind::String(t) => t.as_plain().unwrap_or_default(),
            _ => {
                let hint = outcome.map(Type::enumeration);
                let (n, t) = self.expr(b, e, hint);
                if hint.is_some_and(|h| self.assignable(t, h)) {
                    return (None, Some(n));
                }
                let found = self.type_name(t);
                self.error(
                    file,
                    e.span,
                    CheckErrorKind::DeclaredType {
                        what: "suggest".into(),
                        name: "outcome".into(),
                        declared: "outcome".into(),
                        found,
                    },
                );
                return (None, None);
            }
        };
        if outcomes.contains(&written) {
            return (Some(written), None);
        }
        let suggestion = suggest(&written, outcomes.iter().map(|s| s.as_str()));
        self.error(
            file,
            e.span,
            CheckErrorKind::UnknownOutcome {
                value: written,
                suggestion,
                outcomes,
            },
        );
        (None, None)
    }
}

/// Names called in an expression (for the recursion check).
fn collect_calls(e: &ast::Expr, out: &mut Vec<(String, Span)>) {
    use ast::ExprKind as E;
    match &e.node {
        E::Call { func, args } => {
            out.push((func.node.clone(), func.span));
            for a in args {
                collect_calls(a, out);
            }
        }
        E::Field { base, .. } => collect_calls(base, out),
        E::Aggregate(a) => {
            collect_calls(&a.collection, out);
            if let Some(f) = &a.filter {
                collect_calls(f, out);
            }
            if let Some(m) = &a.map {
                collect_calls(m, out);
            }
        }
        E::Unary { operand, .. } | E::IsMissing { operand, .. } => collect_calls(operand, out),
        E::Binary { lhs, rhs, .. } => {
            collect_calls(lhs, out);
            collect_calls(rhs, out);
        }
        E::If {
            cond,
            then,
            otherwise,
        } => {
            collect_calls(cond, out);
            collect_calls(then, out);
            collect_calls(otherwise, out);
        }
        E::List(items) | E::Tuple(items) => {
            for i in items {
                collect_calls(i, out);
            }
        }
        E::Paren(inner) => collect_calls(inner, out),
        E::String(t) => {
            for i in t.interpolations() {
                collect_calls(i, out);
            }
        }
        E::Number(_) | E::Bool(_) | E::Missing | E::Name(_) => {}
    }
}
