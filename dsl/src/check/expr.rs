//! Typing and lowering of expressions: one walk that resolves every name,
//! checks every type, inlines user functions and folds constants, producing
//! nodes of the program's arena.
//!
//! On an error the walk reports it and goes on with a `missing` constant of
//! type `missing` (which fits anywhere), so one mistake yields one error
//! rather than a cascade.

use super::{loc, Body, Checker, Frame, LocalRef, Named, MAX_BODY_NODES, MAX_INLINE_DEPTH};
use crate::ast::{self, AggFunc, BinaryOp, ExprKind as E, UnaryOp};
use crate::check_error::{suggest, CheckErrorKind};
use crate::ir::{AggKind, Arith, Builtin, Cmp, Node as N, NodeId, SeriesFields};
use crate::number::Number;
use crate::schema::{Base, KindId, ScaleId, Type};
use crate::span::Span;
use crate::value::{DeriveId, OwnedValue};

type Typed = (NodeId, Type);

fn is_num(t: Type) -> bool {
    !t.list && matches!(t.base, Base::Number | Base::Missing)
}

fn is_bool(t: Type) -> bool {
    !t.list && matches!(t.base, Base::Bool | Base::Missing)
}

/// Unwraps parentheses.
fn strip(e: &ast::Expr) -> &ast::Expr {
    match &e.node {
        E::Paren(inner) => strip(inner),
        _ => e,
    }
}

fn is_bare_name(e: &ast::Expr) -> bool {
    matches!(strip(e).node, E::Name(_))
}

impl Checker<'_> {
    fn err(&mut self, b: &Body, span: Span, kind: CheckErrorKind) {
        if b.quiet == 0 {
            self.error(b.frame.file, span, kind);
        }
    }

    /// Appends a node, folding it to a constant when all its inputs are.
    fn mk(&mut self, b: &mut Body, node: N, span: Span) -> NodeId {
        b.size += 1;
        let c = |id: &NodeId, p: &crate::ir::Program| matches!(p.node(*id), N::Const(_));
        let p = &self.prog;
        let foldable = match &node {
            N::Neg(a) | N::Not(a) | N::IsMissing(a) | N::Reason(a) | N::Grade(_, a) => c(a, p),
            N::Arith(_, x, y)
            | N::Cmp(_, x, y)
            | N::And(x, y)
            | N::Or(x, y)
            | N::Coalesce(x, y) => c(x, p) && c(y, p),
            N::If(x, y, z) => c(x, p) && c(y, p) && c(z, p),
            N::InList(x, items) => c(x, p) && items.iter().all(|i| c(i, p)),
            N::Call(f, args) => f.is_pure() && args.iter().all(|a| c(a, p)),
            _ => false,
        };
        let id = self.prog.push(node, loc(b.frame.file, span));
        if foldable {
            // A constant that fails (a division by zero) stays a node and
            // fails at run time with its values named.
            if let Some(v) = self.prog.eval_const(id) {
                self.prog.nodes[id.0 as usize] = N::Const(v);
            }
        }
        id
    }

    fn constant(&mut self, b: &mut Body, v: OwnedValue, span: Span) -> NodeId {
        self.mk(b, N::Const(v), span)
    }

    fn missing(&mut self, b: &mut Body, span: Span) -> Typed {
        (
            self.constant(b, OwnedValue::Missing(None), span),
            Type::MISSING,
        )
    }

    /// Whether a value of type `found` may be used where `want` is declared.
    pub(super) fn assignable(&self, found: Type, want: Type) -> bool {
        found == want
            || found == Type::MISSING
            || want == Type::MISSING
            || (found == Type::NUMBER && want == Type::YEAR)
    }

    /// Whether `==` / `!=` may compare values of these types.
    fn comparable(&self, a: Type, b: Type) -> bool {
        if a.base == Base::Missing || b.base == Base::Missing {
            return !(a.list || b.list);
        }
        if a.list || b.list {
            return false;
        }
        a.base == b.base
            || matches!(
                (a.base, b.base),
                (Base::Number, Base::Year) | (Base::Year, Base::Number)
            )
    }

    /// A lowered condition, reported unless it is a `bool`.
    pub(super) fn condition(&mut self, b: &mut Body, e: &ast::Expr, clause: &str) -> NodeId {
        let (n, t) = self.expr(b, e, Some(Type::BOOL));
        if !is_bool(t) {
            let found = self.type_name(t);
            self.err(
                b,
                e.span,
                CheckErrorKind::NotBool {
                    clause: clause.to_string(),
                    found,
                },
            );
        }
        n
    }

    /// Lowers `e`. `hint` is the type expected from context, used only to
    /// resolve bare enum values and scale bands (`== increase`, `== A`).
    pub(super) fn expr(&mut self, b: &mut Body, e: &ast::Expr, hint: Option<Type>) -> Typed {
        if b.size > MAX_BODY_NODES {
            if !b.too_large {
                b.too_large = true;
                let name = b.name.clone();
                // Reported even inside an inlined body: it is about the caller.
                self.error(b.frame.file, e.span, CheckErrorKind::TooLarge { name });
            }
            return self.missing(b, e.span);
        }
        let span = e.span;
        match &e.node {
            E::Number(n) => match Number::parse(&n.text) {
                Ok(v) => (self.constant(b, OwnedValue::Num(v), span), Type::NUMBER),
                Err(_) => {
                    self.err(
                        b,
                        span,
                        CheckErrorKind::NotAllowed {
                            what: format!("the number `{}`", n.text),
                            allowed: "numbers have at most 18 digits".into(),
                        },
                    );
                    self.missing(b, span)
                }
            },
            E::String(t) => match t.as_plain() {
                Some(s) => (
                    self.constant(b, OwnedValue::Str(s.into()), span),
                    Type::STRING,
                ),
                None => {
                    self.err(
                        b,
                        span,
                        CheckErrorKind::NotAllowed {
                            what: "interpolation".into(),
                            allowed: "`{…}` interpolates only in `message`".into(),
                        },
                    );
                    self.missing(b, span)
                }
            },
            E::Bool(v) => (self.constant(b, OwnedValue::Bool(*v), span), Type::BOOL),
            E::Missing => self.missing(b, span),
            E::Name(n) => self.name(b, n, span, hint),
            E::Field { base, field } => self.field(b, base, field, span),
            E::Call { func, args } => self.call(b, func, args, span),
            E::Aggregate(a) => self.aggregate(b, a, span),
            E::Unary { op, operand } => {
                let (x, t) = self.expr(b, operand, None);
                let ok = match op.node {
                    UnaryOp::Not => is_bool(t),
                    UnaryOp::Neg => is_num(t),
                };
                if !ok {
                    let operand = self.type_name(t);
                    self.err(
                        b,
                        span,
                        CheckErrorKind::Operand {
                            op: op.node.symbol().to_string(),
                            operand,
                        },
                    );
                    return self.missing(b, span);
                }
                match op.node {
                    UnaryOp::Not => (self.mk(b, N::Not(x), span), Type::BOOL),
                    UnaryOp::Neg => (self.mk(b, N::Neg(x), span), Type::NUMBER),
                }
            }
            E::Binary { op, lhs, rhs } => self.binary(b, op, lhs, rhs, span),
            E::IsMissing { operand, negated } => {
                let (x, _) = self.expr(b, operand, None);
                let test = self.mk(b, N::IsMissing(x), span);
                let n = if *negated {
                    self.mk(b, N::Not(test), span)
                } else {
                    test
                };
                (n, Type::BOOL)
            }
            E::If {
                cond,
                then,
                otherwise,
            } => {
                let c = self.condition(b, cond, "if");
                let (t, tt) = self.expr(b, then, hint);
                let (o, ot) = self.expr(b, otherwise, hint.or(Some(tt)));
                let Some(ty) = self.unify(tt, ot) else {
                    let (left, right) = (self.type_name(tt), self.type_name(ot));
                    self.err(
                        b,
                        span,
                        CheckErrorKind::Branches {
                            what: "if".into(),
                            left,
                            right,
                        },
                    );
                    return self.missing(b, span);
                };
                // A constant condition picks its branch at compile time.
                if let N::Const(OwnedValue::Bool(v)) = self.prog.node(c) {
                    return (if *v { t } else { o }, ty);
                }
                (self.mk(b, N::If(c, t, o), span), ty)
            }
            E::List(_) => {
                self.err(
                    b,
                    span,
                    CheckErrorKind::NotAllowed {
                        what: "a list literal".into(),
                        allowed: "a list literal may only follow `in`: `x in [a, b]`".into(),
                    },
                );
                self.missing(b, span)
            }
            E::Tuple(_) => {
                self.err(
                    b,
                    span,
                    CheckErrorKind::NotAllowed {
                        what: "a tuple".into(),
                        allowed: "tuples are group keys: `for group indicator by (a, b)`".into(),
                    },
                );
                self.missing(b, span)
            }
            E::Paren(inner) => self.expr(b, inner, hint),
        }
    }

    /// The common type of two branches, if they have one.
    fn unify(&self, a: Type, b: Type) -> Option<Type> {
        if a == b || b == Type::MISSING {
            Some(a)
        } else if a == Type::MISSING {
            Some(b)
        } else if matches!(
            (a.base, b.base, a.list || b.list),
            (Base::Number, Base::Year, false) | (Base::Year, Base::Number, false)
        ) {
            Some(Type::NUMBER)
        } else {
            None
        }
    }

    // ---------------------------------------------------------------------
    // Names
    // ---------------------------------------------------------------------

    fn local(&mut self, b: &mut Body, name: &str, span: Span) -> Option<Typed> {
        let (_, r, t) = b
            .frame
            .locals
            .iter()
            .rev()
            .find(|(n, _, _)| n == name)?
            .clone();
        Some(match r {
            LocalRef::Slot(s) => (self.mk(b, N::Local(s), span), t),
            LocalRef::Node(n) => (n, t),
        })
    }

    /// Whether `name` denotes a value here (so `name.x` is a field access,
    /// not an enum value or scale band).
    fn is_value_name(&self, b: &Body, name: &str) -> bool {
        b.frame.locals.iter().any(|(n, _, _)| n == name)
            || b.frame.this.as_ref().is_some_and(|(n, _)| n == name)
            || matches!(name, "year" | "key" | "members")
            || matches!(self.lookup(b.frame.pack, name), Some(Named::Param(_)))
    }

    fn name(&mut self, b: &mut Body, name: &str, span: Span, hint: Option<Type>) -> Typed {
        if let Some(t) = self.local(b, name, span) {
            return t;
        }
        if let Some((n, k)) = &b.frame.this {
            if n == name {
                let k = *k;
                return (self.mk(b, N::This, span), Type::obj(k));
            }
        }
        match name {
            "year" => return (self.mk(b, N::Year, span), Type::YEAR),
            "key" | "members" => {
                let Some((_, k)) = b.frame.group.clone() else {
                    self.err(
                        b,
                        span,
                        CheckErrorKind::GroupOnly {
                            name: name.to_string(),
                        },
                    );
                    return self.missing(b, span);
                };
                if name == "members" {
                    return (self.mk(b, N::Members, span), Type::list_of(Type::obj(k)));
                }
                return match b.frame.key_types.as_slice() {
                    [t] => {
                        let t = *t;
                        (self.mk(b, N::KeyPart(0), span), t)
                    }
                    _ => (self.mk(b, N::Key, span), Type::base(Base::Key)),
                };
            }
            _ => {}
        }
        if let Some((g, _)) = &b.frame.group {
            if g == name {
                self.err(
                    b,
                    span,
                    CheckErrorKind::EntityInGroup {
                        name: name.to_string(),
                    },
                );
                return self.missing(b, span);
            }
        }
        if let Some(Named::Param(i)) = self.lookup(b.frame.pack, name) {
            let ty = self.param_types[i].unwrap_or(Type::MISSING);
            let v = self.param_value(i).unwrap_or(OwnedValue::Missing(None));
            return (self.constant(b, v, span), ty);
        }
        // A bare enum value or band, resolved by the expected type first.
        if let Some(h) = hint.filter(|h| !h.list) {
            match h.base {
                Base::Enum(e) => {
                    if let Some(i) = self
                        .schema
                        .enum_def(e)
                        .values
                        .iter()
                        .position(|v| v == name)
                    {
                        return (self.constant(b, OwnedValue::Enum(e, i as u16), span), h);
                    }
                }
                Base::Grade(s) => {
                    if let Some(g) = self.label_index(s, name) {
                        return (self.constant(b, OwnedValue::Grade(s, g), span), h);
                    }
                }
                _ => {}
            }
        }
        let enums: Vec<_> = self
            .schema
            .enums()
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                e.values
                    .iter()
                    .position(|v| v == name)
                    .map(|v| (crate::schema::EnumId(i as u16), v as u16))
            })
            .collect();
        match enums.as_slice() {
            [(e, v)] => {
                let (e, v) = (*e, *v);
                return (
                    self.constant(b, OwnedValue::Enum(e, v), span),
                    Type::enumeration(e),
                );
            }
            [] => {}
            many => {
                let names = many
                    .iter()
                    .map(|(e, _)| self.schema.enum_def(*e).name.clone())
                    .collect();
                self.err(
                    b,
                    span,
                    CheckErrorKind::Ambiguous {
                        name: name.to_string(),
                        enums: names,
                    },
                );
                return self.missing(b, span);
            }
        }
        // A band of a visible scale, when only one scale has it.
        let scales: Vec<(ScaleId, u16)> = (0..self.prog.scales.len())
            .map(|i| ScaleId(i as u16))
            .filter(|s| {
                self.lookup_scale(b.frame.pack, &self.prog.scales[s.0 as usize].name) == Some(*s)
            })
            .filter_map(|s| self.label_index(s, name).map(|g| (s, g)))
            .collect();
        if let [(s, g)] = scales.as_slice() {
            let (s, g) = (*s, *g);
            return (
                self.constant(b, OwnedValue::Grade(s, g), span),
                Type::base(Base::Grade(s)),
            );
        }
        let suggestion = self.suggest_name(b, name);
        self.err(
            b,
            span,
            CheckErrorKind::UnknownName {
                name: name.to_string(),
                suggestion,
            },
        );
        self.missing(b, span)
    }

    fn suggest_name(&self, b: &Body, name: &str) -> Option<String> {
        let mut candidates: Vec<String> =
            b.frame.locals.iter().map(|(n, _, _)| n.clone()).collect();
        candidates.extend(b.frame.this.iter().map(|(n, _)| n.clone()));
        candidates.push("year".into());
        if b.frame.group.is_some() {
            candidates.push("key".into());
            candidates.push("members".into());
        }
        candidates.extend(self.visible_names(b.frame.pack, |n| matches!(n, Named::Param(_))));
        for e in self.schema.enums() {
            candidates.extend(e.values.iter().cloned());
        }
        suggest(name, candidates.iter().map(|s| s.as_str()))
    }

    /// The grade index of label `name` in scale `s`.
    fn label_index(&self, s: ScaleId, name: &str) -> Option<u16> {
        let decl = self.scales.get(s.0 as usize)?;
        let entry = decl
            .node
            .entries
            .iter()
            .position(|e| e.label.name == name)?;
        self.grade_index(s, entry)
    }

    // ---------------------------------------------------------------------
    // Fields
    // ---------------------------------------------------------------------

    fn field(&mut self, b: &mut Body, base: &ast::Expr, field: &ast::Ident, span: Span) -> Typed {
        // `direction.increase`, `abc.A`: a qualified enum value or band.
        if let E::Name(n) = &base.node {
            if !self.is_value_name(b, n) {
                if let Some(e) = self.schema.enum_named(n) {
                    let def = self.schema.enum_def(e);
                    return match def.values.iter().position(|v| *v == field.node) {
                        Some(i) => (
                            self.constant(b, OwnedValue::Enum(e, i as u16), span),
                            Type::enumeration(e),
                        ),
                        None => {
                            let values = def.values.clone();
                            let suggestion =
                                suggest(&field.node, values.iter().map(|s| s.as_str()));
                            self.err(
                                b,
                                field.span,
                                CheckErrorKind::UnknownEnumValue {
                                    enumeration: n.clone(),
                                    value: field.node.clone(),
                                    suggestion,
                                    values,
                                },
                            );
                            self.missing(b, span)
                        }
                    };
                }
                if let Some(s) = self.lookup_scale(b.frame.pack, n) {
                    return match self.label_index(s, &field.node) {
                        Some(g) => (
                            self.constant(b, OwnedValue::Grade(s, g), span),
                            Type::base(Base::Grade(s)),
                        ),
                        None => {
                            let labels: Vec<String> = self.scales[s.0 as usize]
                                .node
                                .entries
                                .iter()
                                .map(|e| e.label.name.clone())
                                .collect();
                            let suggestion =
                                suggest(&field.node, labels.iter().map(|s| s.as_str()));
                            self.err(
                                b,
                                field.span,
                                CheckErrorKind::UnknownBand {
                                    scale: n.clone(),
                                    label: field.node.clone(),
                                    suggestion,
                                    labels,
                                },
                            );
                            self.missing(b, span)
                        }
                    };
                }
            }
        }
        let (obj, t) = self.expr(b, base, None);
        if t == Type::MISSING {
            return (obj, t);
        }
        if t.list {
            self.err(
                b,
                field.span,
                CheckErrorKind::FieldOfList {
                    field: field.node.clone(),
                },
            );
            return self.missing(b, span);
        }
        let Base::Obj(k) = t.base else {
            let kind = self.type_name(t);
            self.err(
                b,
                field.span,
                CheckErrorKind::UnknownField {
                    kind,
                    field: field.node.clone(),
                    suggestion: None,
                    fields: Vec::new(),
                },
            );
            return self.missing(b, span);
        };
        if let Some(f) = self.schema.field_named(k, &field.node) {
            let ty = self.schema.field_def(f).ty;
            return (self.mk(b, N::Field(obj, f), span), ty);
        }
        if let Some(d) = self.lookup_derive(b.frame.pack, k, &field.node) {
            b.deps.push(d);
            let ty = self.derives[d].ty;
            return (self.mk(b, N::Derived(obj, DeriveId(d as u32)), span), ty);
        }
        let fields = self.field_names(b.frame.pack, k);
        let suggestion = suggest(&field.node, fields.iter().map(|s| s.as_str()));
        self.err(
            b,
            field.span,
            CheckErrorKind::UnknownField {
                kind: self.kind_name(k).to_string(),
                field: field.node.clone(),
                suggestion,
                fields,
            },
        );
        self.missing(b, span)
    }

    /// Fields and visible derives of kind `k`.
    fn field_names(&self, pack: usize, k: KindId) -> Vec<String> {
        let mut out: Vec<String> = self
            .schema
            .kind(k)
            .fields
            .iter()
            .map(|f| self.schema.field_def(*f).name.clone())
            .collect();
        for d in &self.derives {
            if d.kind == Some(k) && self.lookup_derive(pack, k, &d.decl.name.node).is_some() {
                out.push(d.decl.name.node.clone());
            }
        }
        out
    }

    // ---------------------------------------------------------------------
    // Operators
    // ---------------------------------------------------------------------

    fn binary(
        &mut self,
        b: &mut Body,
        op: &ast::Node<BinaryOp>,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        span: Span,
    ) -> Typed {
        let op_name = op.node.symbol().to_string();
        match op.node {
            BinaryOp::And | BinaryOp::Or => {
                let clause = op_name.as_str();
                let x = self.condition(b, lhs, clause);
                let y = self.condition(b, rhs, clause);
                let node = if op.node == BinaryOp::And {
                    N::And(x, y)
                } else {
                    N::Or(x, y)
                };
                (self.mk(b, node, span), Type::BOOL)
            }
            BinaryOp::In | BinaryOp::NotIn => {
                let (x, xt) = self.expr(b, lhs, None);
                let n = match &strip(rhs).node {
                    E::List(items) => {
                        let mut nodes = Vec::with_capacity(items.len());
                        for item in items {
                            let (n, t) = self.expr(b, item, Some(xt));
                            self.check_comparable(b, &op_name, xt, t, item.span);
                            nodes.push(n);
                        }
                        self.mk(b, N::InList(x, nodes.into_boxed_slice()), span)
                    }
                    _ => {
                        let (c, ct) = self.expr(b, rhs, None);
                        if ct != Type::MISSING && !ct.list {
                            let found = self.type_name(ct);
                            self.err(b, rhs.span, CheckErrorKind::NotAList { found });
                        } else if ct.list {
                            self.check_comparable(b, &op_name, xt, ct.elem(), span);
                        }
                        self.mk(b, N::InCollection(x, c), span)
                    }
                };
                let n = if op.node == BinaryOp::NotIn {
                    self.mk(b, N::Not(n), span)
                } else {
                    n
                };
                (n, Type::BOOL)
            }
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => {
                let ((x, xt), (y, yt)) = self.operands(b, lhs, rhs);
                let cmp = match op.node {
                    BinaryOp::Eq => Cmp::Eq,
                    BinaryOp::Ne => Cmp::Ne,
                    BinaryOp::Lt => Cmp::Lt,
                    BinaryOp::Le => Cmp::Le,
                    BinaryOp::Gt => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                let ordered = !matches!(cmp, Cmp::Eq | Cmp::Ne);
                if !self.check_comparable(b, &op_name, xt, yt, span) {
                    return self.missing(b, span);
                }
                let orderable = |t: Type| {
                    matches!(
                        t.base,
                        Base::Number | Base::Year | Base::String | Base::Grade(_) | Base::Missing
                    )
                };
                if ordered && !(orderable(xt) && orderable(yt)) {
                    let (left, right) = (self.type_name(xt), self.type_name(yt));
                    self.err(
                        b,
                        span,
                        CheckErrorKind::Operands {
                            op: op_name,
                            left,
                            right,
                        },
                    );
                    return self.missing(b, span);
                }
                (self.mk(b, N::Cmp(cmp, x, y), span), Type::BOOL)
            }
            BinaryOp::Coalesce => {
                let (x, xt) = self.expr(b, lhs, None);
                let (y, yt) = self.expr(b, rhs, Some(xt));
                let Some(ty) = self.unify(xt, yt) else {
                    let (left, right) = (self.type_name(xt), self.type_name(yt));
                    self.err(
                        b,
                        span,
                        CheckErrorKind::Branches {
                            what: "??".into(),
                            left,
                            right,
                        },
                    );
                    return self.missing(b, span);
                };
                (self.mk(b, N::Coalesce(x, y), span), ty)
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                let (x, xt) = self.expr(b, lhs, None);
                let (y, yt) = self.expr(b, rhs, None);
                let arith = match op.node {
                    BinaryOp::Add => Arith::Add,
                    BinaryOp::Sub => Arith::Sub,
                    BinaryOp::Mul => Arith::Mul,
                    _ => Arith::Div,
                };
                let num = |t: Type| !t.list && matches!(t.base, Base::Number | Base::Missing);
                let year = |t: Type| !t.list && t.base == Base::Year;
                let ty = match arith {
                    _ if num(xt) && num(yt) => Some(Type::NUMBER),
                    Arith::Add if (year(xt) && num(yt)) || (num(xt) && year(yt)) => {
                        Some(Type::YEAR)
                    }
                    Arith::Sub if year(xt) && num(yt) => Some(Type::YEAR),
                    Arith::Sub if year(xt) && year(yt) => Some(Type::NUMBER),
                    Arith::Sub if num(xt) && year(yt) => Some(Type::NUMBER),
                    _ => None,
                };
                let Some(ty) = ty else {
                    let (left, right) = (self.type_name(xt), self.type_name(yt));
                    self.err(
                        b,
                        span,
                        CheckErrorKind::Operands {
                            op: op_name,
                            left,
                            right,
                        },
                    );
                    return self.missing(b, span);
                };
                (self.mk(b, N::Arith(arith, x, y), span), ty)
            }
        }
    }

    /// Lowers two compared operands; a bare name is lowered after the other
    /// side so that its type can resolve it (`increase == indicator.direction`).
    fn operands(&mut self, b: &mut Body, lhs: &ast::Expr, rhs: &ast::Expr) -> (Typed, Typed) {
        if is_bare_name(lhs) && !is_bare_name(rhs) {
            let r = self.expr(b, rhs, None);
            let l = self.expr(b, lhs, Some(r.1));
            (l, r)
        } else {
            let l = self.expr(b, lhs, None);
            let r = self.expr(b, rhs, Some(l.1));
            (l, r)
        }
    }

    /// Reports values that cannot be compared; returns whether they can.
    fn check_comparable(&mut self, b: &mut Body, op: &str, x: Type, y: Type, span: Span) -> bool {
        if let (Base::Grade(s), Base::Grade(t)) = (x.base, y.base) {
            if s != t && !x.list && !y.list {
                let left = self.prog.scales[s.0 as usize].name.clone();
                let right = self.prog.scales[t.0 as usize].name.clone();
                self.err(b, span, CheckErrorKind::GradeScales { left, right });
                return false;
            }
        }
        if self.comparable(x, y) && x.base != Base::Key && y.base != Base::Key {
            return true;
        }
        let (left, right) = (self.type_name(x), self.type_name(y));
        self.err(
            b,
            span,
            CheckErrorKind::Operands {
                op: op.to_string(),
                left,
                right,
            },
        );
        false
    }

    // ---------------------------------------------------------------------
    // Calls
    // ---------------------------------------------------------------------

    fn arg_count(&mut self, b: &Body, func: &ast::Ident, args: &[ast::Expr], n: usize) -> bool {
        if args.len() == n {
            return true;
        }
        self.err(
            b,
            func.span,
            CheckErrorKind::ArgumentCount {
                func: func.node.clone(),
                expected: if n == 1 {
                    "1 argument".into()
                } else {
                    format!("{n} arguments")
                },
                found: args.len(),
            },
        );
        false
    }

    fn arg_type(
        &mut self,
        b: &Body,
        func: &str,
        index: usize,
        expected: &str,
        found: Type,
        span: Span,
    ) {
        let found = self.type_name(found);
        self.err(
            b,
            span,
            CheckErrorKind::ArgumentType {
                func: func.to_string(),
                index,
                expected: expected.to_string(),
                found,
            },
        );
    }

    /// The fields `latest(x)` and friends walk: `x.actuals`, a list of
    /// records with `year` and `value`.
    fn series(&self, k: KindId) -> Option<(SeriesFields, Type)> {
        let list = self.schema.field_named(k, "actuals")?;
        let lt = self.schema.field_def(list).ty;
        let Base::Obj(r) = lt.base else { return None };
        if !lt.list {
            return None;
        }
        let year = self.schema.field_named(r, "year")?;
        let value = self.schema.field_named(r, "value")?;
        if self.schema.field_def(year).ty != Type::YEAR {
            return None;
        }
        Some((
            SeriesFields { list, year, value },
            self.schema.field_def(value).ty,
        ))
    }

    fn call(&mut self, b: &mut Body, func: &ast::Ident, args: &[ast::Expr], span: Span) -> Typed {
        let name = func.node.as_str();
        match name {
            "grade" => {
                if !self.arg_count(b, func, args, 2) {
                    return self.missing(b, span);
                }
                let scale = match &strip(&args[0]).node {
                    E::Name(n) => self.lookup_scale(b.frame.pack, n),
                    _ => None,
                };
                let Some(s) = scale else {
                    let written = args[0].node.to_string();
                    let suggestion = suggest(
                        &written,
                        self.visible_names(b.frame.pack, |n| matches!(n, Named::Scale(_)))
                            .iter()
                            .map(|s| s.as_str()),
                    );
                    self.err(
                        b,
                        args[0].span,
                        CheckErrorKind::UnknownScale {
                            name: written,
                            suggestion,
                        },
                    );
                    return self.missing(b, span);
                };
                let (x, t) = self.expr(b, &args[1], None);
                if !is_num(t) {
                    self.arg_type(b, name, 2, "a `number`", t, args[1].span);
                    return self.missing(b, span);
                }
                (self.mk(b, N::Grade(s, x), span), Type::base(Base::Grade(s)))
            }
            "reason" => {
                if !self.arg_count(b, func, args, 1) {
                    return self.missing(b, span);
                }
                let (x, _) = self.expr(b, &args[0], None);
                (self.mk(b, N::Reason(x), span), Type::STRING)
            }
            "latest" | "latest_year" | "actual" => {
                let n = if name == "actual" { 2 } else { 1 };
                if !self.arg_count(b, func, args, n) {
                    return self.missing(b, span);
                }
                let (x, t) = self.expr(b, &args[0], None);
                let series = match t.base {
                    Base::Obj(k) if !t.list => self.series(k),
                    _ => None,
                };
                let Some((sf, value_ty)) = series else {
                    if t != Type::MISSING {
                        self.arg_type(b, name, 1, "an entity with `actuals`", t, args[0].span);
                    }
                    return self.missing(b, span);
                };
                let (f, ty) = match name {
                    "latest" => (Builtin::Latest(sf), value_ty),
                    "latest_year" => (Builtin::LatestYear(sf), Type::YEAR),
                    _ => (Builtin::Actual(sf), value_ty),
                };
                if let Builtin::Latest(fields) | Builtin::LatestYear(fields) = f {
                    let year = matches!(f, Builtin::LatestYear(_));
                    return (
                        self.mk(
                            b,
                            N::Latest {
                                fields,
                                obj: x,
                                year,
                            },
                            span,
                        ),
                        ty,
                    );
                }
                let mut nodes = vec![x];
                if n == 2 {
                    let (y, yt) = self.expr(b, &args[1], None);
                    if !self.assignable(yt, Type::YEAR) {
                        self.arg_type(b, name, 2, "a `year`", yt, args[1].span);
                    }
                    nodes.push(y);
                }
                (self.mk(b, N::Call(f, nodes.into_boxed_slice()), span), ty)
            }
            "abs" | "min" | "max" | "round" | "len" | "contains" | "starts_with" | "ends_with" => {
                self.builtin(b, func, args, span)
            }
            _ => self.user_call(b, func, args, span),
        }
    }

    fn builtin(
        &mut self,
        b: &mut Body,
        func: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Typed {
        let name = func.node.as_str();
        let (f, arity) = match name {
            "abs" => (Builtin::Abs, 1),
            "min" => (Builtin::Min, 2),
            "max" => (Builtin::Max, 2),
            "round" => (Builtin::Round, 2),
            "len" => (Builtin::Len, 1),
            "contains" => (Builtin::Contains, 2),
            "starts_with" => (Builtin::StartsWith, 2),
            _ => (Builtin::EndsWith, 2),
        };
        if !self.arg_count(b, func, args, arity) {
            return self.missing(b, span);
        }
        let mut nodes = Vec::with_capacity(arity);
        let mut types = Vec::with_capacity(arity);
        for a in args {
            let (n, t) = self.expr(b, a, None);
            nodes.push(n);
            types.push(t);
        }
        let text = |t: Type| !t.list && matches!(t.base, Base::String | Base::Missing);
        let ty = match f {
            Builtin::Abs | Builtin::Round => {
                for (i, t) in types.iter().enumerate() {
                    if !is_num(*t) {
                        self.arg_type(b, name, i + 1, "a `number`", *t, args[i].span);
                        return self.missing(b, span);
                    }
                }
                Type::NUMBER
            }
            Builtin::Min | Builtin::Max => {
                let (x, y) = (types[0], types[1]);
                match self.unify(x, y) {
                    Some(t)
                        if !t.list
                            && matches!(t.base, Base::Number | Base::Year | Base::Missing) =>
                    {
                        if x.base == Base::Year && y.base == Base::Year {
                            Type::YEAR
                        } else {
                            Type::NUMBER
                        }
                    }
                    _ => {
                        let bad = if is_num(x) || x.base == Base::Year {
                            1
                        } else {
                            0
                        };
                        self.arg_type(b, name, bad + 1, "a `number`", types[bad], args[bad].span);
                        return self.missing(b, span);
                    }
                }
            }
            Builtin::Len => {
                let t = types[0];
                if !(text(t) || t.list) {
                    self.arg_type(b, name, 1, "a `string` or a list", t, args[0].span);
                    return self.missing(b, span);
                }
                Type::NUMBER
            }
            _ => {
                for (i, t) in types.iter().enumerate() {
                    if !text(*t) {
                        self.arg_type(b, name, i + 1, "a `string`", *t, args[i].span);
                        return self.missing(b, span);
                    }
                }
                Type::BOOL
            }
        };
        (self.mk(b, N::Call(f, nodes.into_boxed_slice()), span), ty)
    }

    /// A call of a user function: type-checked, then inlined with its
    /// arguments bound to fresh slots.
    fn user_call(
        &mut self,
        b: &mut Body,
        func: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> Typed {
        let name = func.node.as_str();
        let Some(Named::Fn(fi)) = self.lookup(b.frame.pack, name) else {
            if AggFunc::from_name(name).is_some() {
                self.err(
                    b,
                    span,
                    CheckErrorKind::NotAllowed {
                        what: format!("`{name}` without `in`"),
                        allowed: format!(
                            "aggregates name their variable: `{name}(x in LIST where …)`"
                        ),
                    },
                );
                return self.missing(b, span);
            }
            let mut candidates: Vec<String> =
                super::BUILTINS.iter().map(|s| s.to_string()).collect();
            candidates.extend(self.visible_names(b.frame.pack, |n| matches!(n, Named::Fn(_))));
            let suggestion = suggest(name, candidates.iter().map(|s| s.as_str()));
            self.err(
                b,
                func.span,
                CheckErrorKind::UnknownFunction {
                    name: name.to_string(),
                    suggestion,
                },
            );
            for a in args {
                self.expr(b, a, None);
            }
            return self.missing(b, span);
        };
        let params = self.fns[fi].params.clone();
        let ret = self.fns[fi].ret;
        if args.len() != params.len() {
            self.err(
                b,
                func.span,
                CheckErrorKind::ArgumentCount {
                    func: name.to_string(),
                    expected: if params.len() == 1 {
                        "1 argument".into()
                    } else {
                        format!("{} arguments", params.len())
                    },
                    found: args.len(),
                },
            );
            return (self.missing(b, span).0, ret);
        }
        // Slots for the parameters come before any slot the arguments use, so
        // evaluating a later argument cannot overwrite an earlier parameter.
        let base = b.next_slot;
        let Some(next) = base.checked_add(params.len() as u16) else {
            b.size = MAX_BODY_NODES + 1;
            return self.missing(b, span);
        };
        b.next_slot = next;
        b.max_slot = b.max_slot.max(next);
        let mut bound = Vec::with_capacity(params.len());
        for (i, (a, (_, pt))) in args.iter().zip(&params).enumerate() {
            let (n, t) = self.expr(b, a, Some(*pt));
            if !self.assignable(t, *pt) {
                let expected = format!("`{}`", self.type_name(*pt));
                self.arg_type(b, name, i + 1, &expected, t, a.span);
            }
            bound.push(n);
        }
        if b.inlining.len() > MAX_INLINE_DEPTH && !b.too_large {
            b.too_large = true;
            let name = b.name.clone();
            // Reported even inside an inlined body: it is about the caller.
            self.error(b.frame.file, span, CheckErrorKind::TooLarge { name });
        }
        if self.fns[fi].broken || b.inlining.contains(&fi) || b.too_large {
            b.next_slot = base;
            return (self.missing(b, span).0, ret);
        }
        let decl = self.fns[fi].decl;
        let mut lets = Vec::new();
        let mut locals = Vec::with_capacity(params.len());
        for (i, ((pn, pt), n)) in params.iter().zip(&bound).enumerate() {
            // The language is pure, so an argument may be evaluated where
            // the parameter is used instead of once up front: cheap leaves
            // always, any argument used once outside an aggregate when it
            // binds no slot of its own (a slot it bound could be one the
            // body's own bindings use). Others are bound to their slot.
            let cheap = matches!(
                self.prog.node(*n),
                N::Const(_) | N::This | N::Local(_) | N::Year | N::Key | N::KeyPart(_) | N::Members
            );
            let (uses, in_aggregate) = count_uses(&decl.node.body, pn);
            let r = if cheap || (uses <= 1 && !in_aggregate && !self.binds_slots(*n)) {
                LocalRef::Node(*n)
            } else {
                lets.push((base + i as u16, *n));
                LocalRef::Slot(base + i as u16)
            };
            locals.push((pn.clone(), r, *pt));
        }
        let inner = Frame {
            pack: decl.pack,
            file: decl.file,
            locals,
            ..Frame::default()
        };
        let outer = std::mem::replace(&mut b.frame, inner);
        b.quiet += 1;
        b.inlining.push(fi);
        let (mut body, _) = self.expr(b, &decl.node.body, Some(ret));
        b.inlining.pop();
        b.quiet -= 1;
        b.frame = outer;
        for (slot, value) in lets.into_iter().rev() {
            body = self.mk(b, N::Let(slot, value, body), span);
        }
        b.next_slot = base;
        (body, ret)
    }

    /// Whether the subtree at `n` writes a slot (`let`, aggregates).
    fn binds_slots(&self, n: NodeId) -> bool {
        let mut todo = vec![n];
        while let Some(n) = todo.pop() {
            match self.prog.node(n) {
                N::Let(..) | N::Agg { .. } => return true,
                N::Const(_)
                | N::This
                | N::Year
                | N::Local(_)
                | N::Key
                | N::KeyPart(_)
                | N::Members => {}
                N::Field(a, _)
                | N::Derived(a, _)
                | N::Neg(a)
                | N::Not(a)
                | N::IsMissing(a)
                | N::Reason(a)
                | N::Grade(_, a) => todo.push(*a),
                N::Arith(_, a, b)
                | N::Cmp(_, a, b)
                | N::And(a, b)
                | N::Or(a, b)
                | N::Coalesce(a, b)
                | N::InCollection(a, b) => todo.extend([*a, *b]),
                N::If(a, b, c) => todo.extend([*a, *b, *c]),
                N::InList(a, items) => {
                    todo.push(*a);
                    todo.extend(items.iter().copied());
                }
                N::Call(_, args) => todo.extend(args.iter().copied()),
                N::Latest { obj, .. } => todo.push(*obj),
            }
        }
        false
    }

    // ---------------------------------------------------------------------
    // Aggregates
    // ---------------------------------------------------------------------

    fn aggregate(&mut self, b: &mut Body, a: &ast::Aggregate, span: Span) -> Typed {
        let (coll, ct) = self.expr(b, &a.collection, None);
        if !ct.list {
            if ct != Type::MISSING {
                let found = self.type_name(ct);
                self.err(b, a.collection.span, CheckErrorKind::NotAList { found });
            }
            return self.missing(b, span);
        }
        let slot = b.next_slot;
        let Some(next) = slot.checked_add(1) else {
            b.size = MAX_BODY_NODES + 1;
            return self.missing(b, span);
        };
        b.next_slot = next;
        b.max_slot = b.max_slot.max(next);
        b.frame
            .locals
            .push((a.var.node.clone(), LocalRef::Slot(slot), ct.elem()));
        let filter = a.filter.as_ref().map(|f| self.condition(b, f, "where"));
        let map = a.map.as_ref().map(|m| self.expr(b, m, None));
        b.frame.locals.pop();
        b.next_slot = slot;
        let vt = map.map_or(ct.elem(), |(_, t)| t);
        let func = a.func.node;
        let name = func.name();
        let value_span = a.map.as_ref().map_or(a.collection.span, |m| m.span);
        let bad = |c: &mut Self, b: &mut Body, expected: &str| {
            let found = c.type_name(vt);
            c.err(
                b,
                value_span,
                CheckErrorKind::AggregateType {
                    agg: name.to_string(),
                    expected: expected.to_string(),
                    found,
                },
            );
            c.missing(b, span)
        };
        let (kind, ty) = match func {
            AggFunc::Count => (AggKind::Count, Type::NUMBER),
            AggFunc::Distinct => {
                if vt.list {
                    return bad(self, b, "single values");
                }
                (AggKind::Distinct, Type::NUMBER)
            }
            AggFunc::Sum | AggFunc::Avg => {
                if !is_num(vt) {
                    return bad(self, b, "numbers");
                }
                let k = if func == AggFunc::Sum {
                    AggKind::Sum
                } else {
                    AggKind::Avg
                };
                (k, Type::NUMBER)
            }
            AggFunc::Min | AggFunc::Max => {
                if vt.list
                    || !matches!(
                        vt.base,
                        Base::Number | Base::Year | Base::String | Base::Grade(_) | Base::Missing
                    )
                {
                    return bad(self, b, "numbers, years, strings or grades");
                }
                let k = if func == AggFunc::Min {
                    AggKind::Min
                } else {
                    AggKind::Max
                };
                (k, vt)
            }
            AggFunc::Any | AggFunc::All => {
                if map.is_some() && !is_bool(vt) {
                    return bad(self, b, "conditions (`bool`)");
                }
                let k = if func == AggFunc::Any {
                    AggKind::Any
                } else {
                    AggKind::All
                };
                (k, Type::BOOL)
            }
        };
        let node = N::Agg {
            kind,
            var: slot,
            coll,
            filter,
            map: map.map(|(n, _)| n),
        };
        (self.mk(b, node, span), ty)
    }
}

/// How often `name` is read in `e`, and whether any read is inside an
/// aggregate (where it would be evaluated once per element).
fn count_uses(e: &ast::Expr, name: &str) -> (usize, bool) {
    fn walk(e: &ast::Expr, name: &str, in_agg: bool, out: &mut (usize, bool)) {
        match &e.node {
            E::Name(n) => {
                if n == name {
                    out.0 += 1;
                    out.1 |= in_agg;
                }
            }
            E::Number(_) | E::Bool(_) | E::Missing => {}
            E::String(t) => t.interpolations().for_each(|i| walk(i, name, in_agg, out)),
            E::Field { base, .. } => walk(base, name, in_agg, out),
            E::Call { args, .. } => args.iter().for_each(|a| walk(a, name, in_agg, out)),
            E::Aggregate(a) => {
                walk(&a.collection, name, in_agg, out);
                // The aggregate's variable shadows the name inside it.
                if a.var.node != name {
                    for x in a.filter.iter().chain(a.map.iter()) {
                        walk(x, name, true, out);
                    }
                }
            }
            E::Unary { operand, .. } | E::IsMissing { operand, .. } => {
                walk(operand, name, in_agg, out)
            }
            E::Binary { lhs, rhs, .. } => {
                walk(lhs, name, in_agg, out);
                walk(rhs, name, in_agg, out);
            }
            E::If {
                cond,
                then,
                otherwise,
            } => {
                walk(cond, name, in_agg, out);
                walk(then, name, in_agg, out);
                walk(otherwise, name, in_agg, out);
            }
            E::List(items) | E::Tuple(items) => {
                items.iter().for_each(|i| walk(i, name, in_agg, out))
            }
            E::Paren(inner) => walk(inner, name, in_agg, out),
        }
    }
    let mut out = (0, false);
    walk(e, name, false, &mut out);
    out
}
