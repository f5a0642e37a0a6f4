//! Evaluation of a compiled [`Program`] over any [`Data`].
//!
//! The evaluator walks the program's node arena (never the syntax tree),
//! generic over the data source so that field access is a direct,
//! inlinable call. Values are `Copy`; local slots live in a stack buffer;
//! nothing allocates unless a rule fires (the message is rendered then),
//! something fails, a body needs more than 16 slots, or `distinct` sees more
//! than 16 values. The same walk, instantiated with a recording tracer,
//! gives the step-by-step trace that `hyoka explain` shows.
//!
//! [`Program::eval_derives_batch`] and [`Program::screen_rules`] (module
//! `batch`) evaluate the same nodes for many entities at once, with the
//! same operations; the engine computes derives and screens rules with
//! them, and uses this walk for single entities, messages and traces.
//!
//! Missing values follow docs/rule-language.md ("Missing values"): they
//! propagate through arithmetic, comparisons and field access (keeping the
//! plan's reason), `and` / `or` are three-valued, and a rule whose `when` is
//! missing does not fire. Division by zero and arithmetic overflow are
//! [`RuntimeError`]s naming the rule or derive, the entity and the values.
//!
//! **Invariant:** evaluation is pure and deterministic: it reads the data
//! and the context year, and nothing else.

use std::cmp::Ordering;
use std::fmt::{self, Write as _};

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

use crate::ir::{
    AggKind, Arith, Builtin, Cmp, Loc, Node, NodeId, Program, Rule, RuleId, Scale, SeriesFields,
    Template, TemplatePart,
};
use crate::number::{ArithError, Number};
use crate::schema::ScaleId;
use crate::value::{Data, DeriveId, Key, KeyPart, Latest, Obj, OwnedValue, Value};

mod batch;
mod repeat;

/// What an evaluation may depend on besides the data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ctx {
    /// The evaluation year (`year` in rules).
    pub year: i32,
}

/// A rule that fired: its message, rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Firing {
    /// The rendered `message` (or the rule's title, or its id, when it has
    /// no message).
    pub message: String,
    /// The suggested review outcome: the rule's `suggest`, computed for
    /// this entity when it is an expression.
    pub suggest: Option<String>,
}

/// The kind of a [`RuntimeError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuntimeErrorKind {
    /// `x / 0`.
    DivisionByZero,
    /// An exact result too large for the number representation.
    Overflow,
}

/// A rule or derive that could not be evaluated on one entity. Its details
/// ([`RuntimeErrorInfo`]) are boxed so that the evaluation entry points
/// return a `Result` no larger than a value; read them through `Deref`
/// (`err.kind`, `err.entity`).
#[derive(Clone, Debug)]
pub struct RuntimeError(Box<RuntimeErrorInfo>);

/// The details of a [`RuntimeError`].
#[derive(Clone, Debug)]
pub struct RuntimeErrorInfo {
    /// What went wrong.
    pub kind: RuntimeErrorKind,
    /// ``rule `grades.target_met_early` `` or ``derive `rates.rate` ``.
    pub subject: String,
    /// The entity (or group key) it ran on, as the data describes it.
    pub entity: String,
    /// The operation and its values (`238 ÷ 0`).
    pub detail: String,
    /// Where in the rule source.
    pub loc: Loc,
    src: NamedSource<std::sync::Arc<str>>,
}

impl std::ops::Deref for RuntimeError {
    type Target = RuntimeErrorInfo;

    fn deref(&self) -> &RuntimeErrorInfo {
        &self.0
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            RuntimeErrorKind::DivisionByZero => "division by zero",
            RuntimeErrorKind::Overflow => "number too large",
        };
        write!(
            f,
            "{what} in {} for `{}`: {}",
            self.subject, self.entity, self.detail
        )
    }
}

impl std::error::Error for RuntimeError {}

impl Diagnostic for RuntimeError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(match self.kind {
            RuntimeErrorKind::DivisionByZero => "hyoka::eval::division_by_zero",
            RuntimeErrorKind::Overflow => "hyoka::eval::overflow",
        }))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(match self.kind {
            RuntimeErrorKind::DivisionByZero => {
                "guard the division: `if t == 0 then missing else a / t`"
            }
            RuntimeErrorKind::Overflow => {
                "exact numbers are limited to 64-bit numerators and denominators; round intermediate results with `round(x, digits)`"
            }
        }))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.0.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = (
            self.loc.start as usize,
            (self.loc.end - self.loc.start) as usize,
        );
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.detail.clone()),
            span,
        ))))
    }
}

/// A failure inside the walk, before it is attributed to a rule and entity.
#[derive(Debug)]
pub(crate) struct Fault {
    kind: RuntimeErrorKind,
    node: NodeId,
    detail: String,
}

/// Receives every node's value during a traced evaluation.
pub(crate) trait Tracer {
    const ON: bool;
    fn record(&mut self, prog: &Program, node: NodeId, value: Value<'_>);
}

struct NoTrace;

impl Tracer for NoTrace {
    const ON: bool = false;
    #[inline(always)]
    fn record(&mut self, _: &Program, _: NodeId, _: Value<'_>) {}
}

/// One step of a traced evaluation: a sub-expression and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    /// Where the sub-expression is.
    pub loc: Loc,
    /// Its source text.
    pub source: String,
    /// Its value, as messages show values.
    pub value: String,
}

struct Recorder<'d, D> {
    data: &'d D,
    steps: Vec<TraceStep>,
}

impl<D: Data> Tracer for Recorder<'_, D> {
    const ON: bool = true;
    fn record(&mut self, prog: &Program, node: NodeId, value: Value<'_>) {
        let loc = prog.loc(node);
        // Constants folded from parameters and literals are not steps worth
        // showing; neither are nodes without a place in the source.
        if loc.end <= loc.start || matches!(prog.node(node), Node::Const(_)) {
            return;
        }
        let source = prog
            .sources
            .get(loc.file as usize)
            .and_then(|s| s.text.get(loc.start as usize..loc.end as usize))
            .unwrap_or("")
            .to_string();
        let value = prog.show(value, self.data);
        self.steps.push(TraceStep { loc, source, value });
    }
}

/// Local slots kept on the stack; programs needing more use the heap.
const INLINE_SLOTS: usize = 16;

struct Cx<'a, 'l, D, T> {
    data: &'a D,
    this: Obj,
    year: i32,
    key: Option<&'a Key>,
    members: &'a [Obj],
    locals: &'l mut [Value<'a>],
    trace: &'l mut T,
    /// The derives of `this` computed so far by [`Program::eval_derives`]:
    /// `group[k]` is derive `group_first + k`, for `k < ready`.
    group: &'l mut [Value<'a>],
    group_first: u32,
    ready: usize,
    /// The first failure of this evaluation. Failing nodes record it here
    /// and go on as missing, so the hot path returns plain values instead of
    /// a `Result` per node; entry points check it when the walk ends.
    fault: Option<Box<Fault>>,
}

impl<'a, D: Data, T> Cx<'a, '_, D, T> {
    /// Derive `d` of `o`: from the group being computed when it is `this`'s
    /// and computed already, from the data otherwise.
    #[inline(always)]
    fn derived(&self, d: DeriveId, o: Obj) -> Value<'a> {
        let k = d.0.wrapping_sub(self.group_first) as usize;
        if k < self.ready && o == self.this {
            self.group[k]
        } else {
            self.data.derived(d, o)
        }
    }
}

impl<'a, D, T> Cx<'a, '_, D, T> {
    #[cold]
    fn fail(&mut self, f: Box<Fault>) -> Value<'a> {
        if self.fault.is_none() {
            self.fault = Some(f);
        }
        Value::Missing(None)
    }

    /// `x`, unless the walk that produced it failed.
    #[inline]
    fn done<X>(&mut self, x: X) -> Result<X, Box<Fault>> {
        match self.fault.take() {
            Some(f) => Err(f),
            None => Ok(x),
        }
    }
}

pub(crate) fn arith_fault(e: ArithError, node: NodeId, detail: String) -> Box<Fault> {
    Box::new(Fault {
        kind: match e {
            ArithError::DivisionByZero => RuntimeErrorKind::DivisionByZero,
            ArithError::Overflow => RuntimeErrorKind::Overflow,
        },
        node,
        detail,
    })
}

/// The first missing of two operands, keeping its reason.
#[inline]
pub(crate) fn first_missing<'a>(a: Value<'a>, b: Value<'a>) -> Value<'a> {
    match a {
        Value::Missing(_) => a,
        _ => match b {
            Value::Missing(_) => b,
            _ => Value::Missing(None),
        },
    }
}

/// Equality of two non-missing values; `None` when they are not comparable
/// (the checker rules that out; a data source of the wrong type may not).
#[inline]
/// `x in candidates`, three-valued: true on a match, missing when no
/// candidate matches but some comparison was unknown, false otherwise.
fn member_of<'a>(x: Value<'a>, candidates: impl Iterator<Item = Value<'a>>) -> Value<'a> {
    let mut unknown = false;
    for c in candidates {
        match values_eq(x, c) {
            Some(true) => return Value::Bool(true),
            Some(false) => {}
            None => unknown = true,
        }
    }
    if unknown {
        Value::Missing(None)
    } else {
        Value::Bool(false)
    }
}

pub(crate) fn values_eq(a: Value<'_>, b: Value<'_>) -> Option<bool> {
    Some(match (a, b) {
        (Value::Num(x), Value::Num(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Year(x), Value::Year(y)) => x == y,
        (Value::Year(y), Value::Num(n)) | (Value::Num(n), Value::Year(y)) => {
            Number::from_i64(y as i64) == n
        }
        (Value::Enum(e, x), Value::Enum(f, y)) => e == f && x == y,
        (Value::Grade(s, x), Value::Grade(t, y)) => s == t && x == y,
        (Value::Obj(x), Value::Obj(y)) => x == y,
        _ => return None,
    })
}

impl Program {
    /// Order of two non-missing values; `None` when unordered (states of a
    /// scale, values of different types).
    #[inline]
    pub(crate) fn values_cmp(&self, a: Value<'_>, b: Value<'_>) -> Option<Ordering> {
        match (a, b) {
            (Value::Num(x), Value::Num(y)) => Some(x.cmp(&y)),
            (Value::Year(x), Value::Year(y)) => Some(x.cmp(&y)),
            (Value::Year(y), Value::Num(n)) => Some(Number::from_i64(y as i64).cmp(&n)),
            (Value::Num(n), Value::Year(y)) => Some(n.cmp(&Number::from_i64(y as i64))),
            (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
            (Value::Grade(s, x), Value::Grade(t, y)) if s == t => {
                // Bands are written best first: a lower index is a better,
                // greater grade. States have no order.
                let bands = self.scales.get(s.0 as usize)?.bands.len() as u16;
                (x < bands && y < bands).then(|| y.cmp(&x))
            }
            _ => None,
        }
    }

    /// Evaluates node `n`, recording its value when tracing.
    #[inline]
    fn ev<'a, D: Data, T: Tracer>(&'a self, n: NodeId, cx: &mut Cx<'a, '_, D, T>) -> Value<'a> {
        let v = self.ev_inner(n, cx);
        if T::ON {
            cx.trace.record(self, n, v);
        }
        v
    }

    /// Evaluates a child node. Leaves (constants, `this`, locals, fields and
    /// derived values of `this`, `this.a.b`) are read in place, without a
    /// call: they are most of what a grade rule evaluates.
    #[inline(always)]
    fn arg<'a, D: Data, T: Tracer>(&'a self, n: NodeId, cx: &mut Cx<'a, '_, D, T>) -> Value<'a> {
        if !T::ON {
            match self.node(n) {
                Node::Const(c) => return c.as_value(),
                Node::This => return Value::Obj(cx.this),
                Node::Local(s) => return cx.locals[*s as usize],
                Node::Field(o, f) => match self.node(*o) {
                    Node::This => return cx.data.field(cx.this, *f),
                    Node::Field(oo, g) if matches!(self.node(*oo), Node::This) => {
                        return match cx.data.field(cx.this, *g) {
                            Value::Obj(x) => cx.data.field(x, *f),
                            m @ Value::Missing(_) => m,
                            _ => Value::Missing(None),
                        };
                    }
                    _ => {}
                },
                Node::Derived(o, d) if matches!(self.node(*o), Node::This) => {
                    return cx.derived(*d, cx.this);
                }
                _ => {}
            }
        }
        self.ev(n, cx)
    }

    /// Evaluates a condition: a comparison is done in place (conditions are
    /// mostly comparisons), anything else as [`Program::arg`].
    #[inline(always)]
    fn cond<'a, D: Data, T: Tracer>(&'a self, n: NodeId, cx: &mut Cx<'a, '_, D, T>) -> Value<'a> {
        if !T::ON {
            if let Node::Cmp(op, a, b) = self.node(n) {
                let x = self.arg(*a, cx);
                let y = self.arg(*b, cx);
                return self.compare(*op, x, y);
            }
        }
        self.arg(n, cx)
    }

    fn ev_inner<'a, D: Data, T: Tracer>(
        &'a self,
        mut n: NodeId,
        cx: &mut Cx<'a, '_, D, T>,
    ) -> Value<'a> {
        // Tail positions (the branch `if` takes, the body of a `let`) loop
        // instead of recursing; when tracing they recurse, so that every
        // node's value is recorded.
        loop {
            return match self.node(n) {
                Node::Const(c) => c.as_value(),
                Node::This => Value::Obj(cx.this),
                Node::Year => Value::Year(cx.year),
                Node::Local(s) => cx.locals[*s as usize],
                Node::Field(obj, f) => match self.arg(*obj, cx) {
                    Value::Obj(o) => cx.data.field(o, *f),
                    m @ Value::Missing(_) => m,
                    _ => Value::Missing(None),
                },
                Node::Derived(obj, d) => match self.arg(*obj, cx) {
                    Value::Obj(o) => cx.derived(*d, o),
                    m @ Value::Missing(_) => m,
                    _ => Value::Missing(None),
                },
                Node::Neg(a) => match self.arg(*a, cx) {
                    Value::Num(x) => match x.checked_neg() {
                        Ok(v) => Value::Num(v),
                        Err(e) => cx.fail(arith_fault(e, n, format!("-{x}"))),
                    },
                    m @ Value::Missing(_) => m,
                    _ => Value::Missing(None),
                },
                Node::Arith(op, a, b) => {
                    let x = self.arg(*a, cx);
                    let y = self.arg(*b, cx);
                    match self.arith(*op, x, y, n) {
                        Ok(v) => v,
                        Err(f) => cx.fail(f),
                    }
                }
                Node::Cmp(op, a, b) => {
                    let x = self.arg(*a, cx);
                    let y = self.arg(*b, cx);
                    self.compare(*op, x, y)
                }
                Node::And(a, b) => match self.cond(*a, cx) {
                    Value::Bool(false) => Value::Bool(false),
                    x => match (x, self.cond(*b, cx)) {
                        (_, Value::Bool(false)) => Value::Bool(false),
                        (Value::Bool(true), Value::Bool(true)) => Value::Bool(true),
                        (x, y) => first_missing(x, y),
                    },
                },
                Node::Or(a, b) => match self.cond(*a, cx) {
                    Value::Bool(true) => Value::Bool(true),
                    x => match (x, self.cond(*b, cx)) {
                        (_, Value::Bool(true)) => Value::Bool(true),
                        (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
                        (x, y) => first_missing(x, y),
                    },
                },
                Node::Not(a) => match self.arg(*a, cx) {
                    Value::Bool(b) => Value::Bool(!b),
                    m @ Value::Missing(_) => m,
                    _ => Value::Missing(None),
                },
                Node::If(c, t, e) => {
                    let next = match self.cond(*c, cx) {
                        Value::Bool(true) => *t,
                        Value::Bool(false) => *e,
                        m @ Value::Missing(_) => return m,
                        _ => return Value::Missing(None),
                    };
                    if T::ON {
                        return self.ev(next, cx);
                    }
                    n = next;
                    continue;
                }
                Node::IsMissing(a) => Value::Bool(self.arg(*a, cx).is_missing()),
                Node::Coalesce(a, d) => match self.arg(*a, cx) {
                    Value::Missing(_) => self.arg(*d, cx),
                    v => v,
                },
                Node::Let(slot, v, body) => {
                    let v = self.arg(*v, cx);
                    cx.locals[*slot as usize] = v;
                    if T::ON {
                        return self.ev(*body, cx);
                    }
                    n = *body;
                    continue;
                }
                Node::Call(f, args) => self.call(*f, args, n, cx),
                Node::Latest { fields, obj, year } => match self.arg(*obj, cx) {
                    Value::Obj(o) => match cx.data.latest(o, *fields, cx.year) {
                        Ok((y, _)) if *year => Value::Year(y),
                        Ok((_, v)) => v,
                        Err(reason) => Value::Missing(reason),
                    },
                    m @ Value::Missing(_) => m,
                    _ => Value::Missing(None),
                },
                Node::Grade(s, x) => {
                    let x = self.arg(*x, cx);
                    self.grade(*s, x)
                }
                _ => self.ev_cold(n, cx),
            };
        }
    }

    /// The rarer nodes, kept out of [`Program::ev_inner`] so that its stack
    /// frame stays small: it is entered once per node of every evaluation.
    #[inline(never)]
    fn ev_cold<'a, D: Data, T: Tracer>(
        &'a self,
        n: NodeId,
        cx: &mut Cx<'a, '_, D, T>,
    ) -> Value<'a> {
        match self.node(n) {
            Node::Key => match cx.key {
                Some(k) => Value::Key(k),
                None => Value::Missing(None),
            },
            Node::KeyPart(i) => match cx.key.and_then(|k| k.0.get(*i as usize)) {
                Some(p) => p.as_value(),
                None => Value::Missing(None),
            },
            Node::Members => Value::Members(cx.members),
            Node::Reason(a) => match self.arg(*a, cx) {
                Value::Missing(Some(r)) => Value::Str(r),
                _ => Value::Missing(None),
            },
            Node::InList(x, items) => {
                let x = self.arg(*x, cx);
                if x.is_missing() {
                    return x;
                }
                member_of(x, items.iter().map(|item| self.arg(*item, cx)))
            }
            Node::InCollection(x, coll) => {
                let x = self.arg(*x, cx);
                let coll = self.arg(*coll, cx);
                if x.is_missing() {
                    return x;
                }
                let len = match coll {
                    Value::List(l) => l.len as usize,
                    Value::Members(m) => m.len(),
                    other => return first_missing(other, Value::Missing(None)),
                };
                member_of(x, (0..len).map(|i| element(cx.data, coll, i)))
            }
            Node::Call(f, args) => self.call(*f, args, n, cx),
            Node::Agg {
                kind,
                var,
                coll,
                filter,
                map,
            } => self.aggregate(*kind, *var, *coll, *filter, *map, n, cx),
            // The hot nodes are handled by `ev_inner`.
            _ => self.ev_inner(n, cx),
        }
    }

    #[inline]
    pub(crate) fn arith<'a>(
        &self,
        op: Arith,
        x: Value<'a>,
        y: Value<'a>,
        n: NodeId,
    ) -> Result<Value<'a>, Box<Fault>> {
        if let (Value::Num(a), Value::Num(b)) = (x, y) {
            // Numbers (the common case): a number.
            let r = match op {
                Arith::Add => a.checked_add(b),
                Arith::Sub => a.checked_sub(b),
                Arith::Mul => a.checked_mul(b),
                Arith::Div => a.checked_div(b),
            };
            if let Ok(r) = r {
                return Ok(Value::Num(r));
            }
        }
        let num = |v: Value<'_>| match v {
            Value::Num(n) => Some(n),
            Value::Year(y) => Some(Number::from_i64(y as i64)),
            _ => None,
        };
        let (a, b) = match (num(x), num(y)) {
            (Some(a), Some(b)) => (a, b),
            _ => return Ok(first_missing(x, y)),
        };
        let r = match op {
            Arith::Add => a.checked_add(b),
            Arith::Sub => a.checked_sub(b),
            Arith::Mul => a.checked_mul(b),
            Arith::Div => a.checked_div(b),
        };
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                let sym = match op {
                    Arith::Add => "+",
                    Arith::Sub => "-",
                    Arith::Mul => "×",
                    Arith::Div => "÷",
                };
                return Err(arith_fault(e, n, format!("{a} {sym} {b}")));
            }
        };
        // year ± number and number + year are years; year - year is a
        // number (the checker gives the same types).
        let year_result = match (x, y) {
            (Value::Year(_), Value::Num(_)) => matches!(op, Arith::Add | Arith::Sub),
            (Value::Num(_), Value::Year(_)) => op == Arith::Add,
            _ => false,
        };
        if year_result {
            return Ok(match r.to_i64().and_then(|y| i32::try_from(y).ok()) {
                Some(y) => Value::Year(y),
                None => Value::Missing(None),
            });
        }
        Ok(Value::Num(r))
    }

    #[inline(always)]
    pub(crate) fn compare<'a>(&self, op: Cmp, x: Value<'a>, y: Value<'a>) -> Value<'a> {
        // The common cases first: numbers (thresholds) and enum values
        // (`direction == increase`).
        match (x, y) {
            (Value::Num(a), Value::Num(b)) => {
                return Value::Bool(match op {
                    Cmp::Eq => a == b,
                    Cmp::Ne => a != b,
                    Cmp::Lt => a < b,
                    Cmp::Le => a <= b,
                    Cmp::Gt => a > b,
                    Cmp::Ge => a >= b,
                })
            }
            (Value::Enum(e, a), Value::Enum(f, b)) if op == Cmp::Eq || op == Cmp::Ne => {
                return Value::Bool((e == f && a == b) == (op == Cmp::Eq));
            }
            _ => {}
        }
        if x.is_missing() || y.is_missing() {
            return first_missing(x, y);
        }
        match op {
            Cmp::Eq | Cmp::Ne => match values_eq(x, y) {
                Some(eq) => Value::Bool(eq == (op == Cmp::Eq)),
                None => Value::Missing(None),
            },
            _ => match self.values_cmp(x, y) {
                Some(o) => Value::Bool(match op {
                    Cmp::Lt => o == Ordering::Less,
                    Cmp::Le => o != Ordering::Greater,
                    Cmp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                }),
                None => Value::Missing(None),
            },
        }
    }

    #[inline]
    pub(crate) fn grade<'a>(&self, s: ScaleId, x: Value<'a>) -> Value<'a> {
        let Some(scale) = self.scales.get(s.0 as usize) else {
            return Value::Missing(None);
        };
        let x = match x {
            Value::Num(x) => x,
            Value::Year(y) => Number::from_i64(y as i64),
            _ => return Value::Grade(s, scale.missing_grade()),
        };
        match scale.band_of(x) {
            Some(i) => Value::Grade(s, i),
            // The checker proved the bands cover every number; keep a total
            // answer anyway.
            None => Value::Grade(s, scale.missing_grade()),
        }
    }

    #[inline(never)]
    fn call<'a, D: Data, T: Tracer>(
        &'a self,
        f: Builtin,
        args: &[NodeId],
        n: NodeId,
        cx: &mut Cx<'a, '_, D, T>,
    ) -> Value<'a> {
        let mut vals = [Value::Missing(None); 3];
        for (slot, a) in vals.iter_mut().zip(args) {
            *slot = self.arg(*a, cx);
        }
        let [a, b, _] = vals;
        match apply_builtin(f, a, b, n, cx.data, cx.year) {
            Ok(v) => v,
            Err(fault) => cx.fail(fault),
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn aggregate<'a, D: Data, T: Tracer>(
        &'a self,
        kind: AggKind,
        var: u16,
        coll: NodeId,
        filter: Option<NodeId>,
        map: Option<NodeId>,
        n: NodeId,
        cx: &mut Cx<'a, '_, D, T>,
    ) -> Value<'a> {
        let coll = self.arg(coll, cx);
        let len = match coll {
            Value::List(l) => l.len as usize,
            Value::Members(m) => m.len(),
            other => return first_missing(other, Value::Missing(None)),
        };
        let mut acc = Acc::new(kind, map.is_some(), n);
        for i in 0..len {
            let item = element(cx.data, coll, i);
            cx.locals[var as usize] = item;
            let selected = match filter {
                Some(f) => self.arg(f, cx),
                None => Value::Bool(true),
            };
            let v = if acc.predicate_only {
                selected
            } else if !matches!(selected, Value::Bool(true)) {
                continue;
            } else {
                match map {
                    Some(m) => self.arg(m, cx),
                    None => item,
                }
            };
            match acc.add(self, v) {
                Ok(true) => {}
                Ok(false) => break,
                Err(f) => return cx.fail(f),
            }
        }
        match acc.finish() {
            Ok(v) => v,
            Err(f) => cx.fail(f),
        }
    }

    /// Shows a value as messages do: numbers exactly (or to six places),
    /// enum values and grades by name, entities as the data describes them,
    /// missing values as their reason or `—`.
    pub fn show<D: Data>(&self, v: Value<'_>, data: &D) -> String {
        let mut out = String::new();
        self.show_into(&mut out, v, data);
        out
    }

    fn show_into<D: Data>(&self, out: &mut String, v: Value<'_>, data: &D) {
        // Writing to a String cannot fail.
        let _ = match v {
            Value::Missing(Some(r)) => write!(out, "{r}"),
            Value::Missing(None) => write!(out, "—"),
            Value::Bool(b) => write!(out, "{b}"),
            Value::Num(n) => write!(out, "{n}"),
            Value::Str(s) => write!(out, "{s}"),
            Value::Year(y) => write!(out, "{y}"),
            Value::Enum(e, i) => match self.enum_names.get(e.0 as usize) {
                Some((_, values)) => {
                    write!(out, "{}", values.get(i as usize).map_or("?", |s| s))
                }
                None => write!(out, "?"),
            },
            Value::Grade(s, i) => write!(
                out,
                "{}",
                self.scales.get(s.0 as usize).map_or("?", |sc| sc.label(i))
            ),
            Value::Obj(o) => write!(out, "{}", data.describe(o)),
            Value::List(l) => {
                for i in 0..l.len {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.show_into(out, data.list_get(l, i), data);
                }
                Ok(())
            }
            Value::Members(m) => {
                for (i, o) in m.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&data.describe(*o));
                }
                Ok(())
            }
            Value::Key(k) => {
                if k.0.len() != 1 {
                    out.push('(');
                }
                for (i, p) in k.0.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.show_into(out, p.as_value(), data);
                }
                if k.0.len() != 1 {
                    out.push(')');
                }
                Ok(())
            }
        };
    }

    fn render<'a, D: Data, T: Tracer>(
        &'a self,
        t: &'a Template,
        cx: &mut Cx<'a, '_, D, T>,
    ) -> String {
        let mut out = String::new();
        for part in &t.parts {
            match part {
                TemplatePart::Text(s) => out.push_str(s),
                TemplatePart::Expr(e) => {
                    let v = self.ev(*e, cx);
                    self.show_into(&mut out, v, cx.data);
                }
            }
        }
        out
    }

    /// Runs `f` with a fresh frame of `slots` local slots.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn with_frame<'a, D: Data, T: Tracer, R>(
        &'a self,
        slots: u16,
        this: Obj,
        key: Option<&'a Key>,
        members: &'a [Obj],
        data: &'a D,
        ctx: &Ctx,
        trace: &mut T,
        (group_first, group): (u32, &mut [Value<'a>]),
        f: impl FnOnce(&'a Program, &mut Cx<'a, '_, D, T>) -> R,
    ) -> R {
        // Only as many slots as the body uses are initialised: most bodies
        // use none or a few, and this runs once per evaluation.
        let run = |locals: &mut [Value<'a>]| {
            let mut cx = Cx {
                data,
                this,
                year: ctx.year,
                key,
                members,
                locals,
                trace,
                group,
                group_first,
                ready: 0,
                fault: None,
            };
            f(self, &mut cx)
        };
        match slots as usize {
            0 => run(&mut []),
            1..=4 => run(&mut [Value::Missing(None); 4]),
            5..=INLINE_SLOTS => run(&mut [Value::Missing(None); INLINE_SLOTS]),
            n => run(&mut vec![Value::Missing(None); n]),
        }
    }

    pub(crate) fn fault_to_error(
        &self,
        fault: Fault,
        subject: String,
        entity: String,
    ) -> RuntimeError {
        let loc = self.loc(fault.node);
        let src = match self.sources.get(loc.file as usize) {
            Some(s) => NamedSource::new(&s.name, s.text.clone()),
            None => NamedSource::new("", std::sync::Arc::from("")),
        };
        RuntimeError(Box::new(RuntimeErrorInfo {
            kind: fault.kind,
            subject,
            entity,
            detail: fault.detail,
            loc,
            src,
        }))
    }

    pub(crate) fn derive_subject(&self, d: DeriveId) -> String {
        match self.derives.get(d.0 as usize) {
            Some(d) => format!("derive `{}.{}`", d.pack, d.name),
            None => "derive".to_string(),
        }
    }

    pub(crate) fn rule_subject(rule: &Rule) -> String {
        format!("rule `{}`", rule.qualified_id())
    }

    /// Computes derive `d` for `obj` (an entity of the derive's kind).
    /// The caller stores the result and answers it through [`Data::derived`].
    pub fn eval_derive<'a, D: Data>(
        &'a self,
        d: DeriveId,
        obj: Obj,
        data: &'a D,
        ctx: &Ctx,
    ) -> Result<Value<'a>, RuntimeError> {
        let Some(def) = self.derives.get(d.0 as usize) else {
            return Ok(Value::Missing(None));
        };
        self.with_frame(
            def.slots,
            obj,
            None,
            &[],
            data,
            ctx,
            &mut NoTrace,
            (0, &mut []),
            |p, cx| {
                let v = p.ev(def.body, cx);
                cx.done(v)
            },
        )
        .map_err(|f| self.fault_to_error(*f, self.derive_subject(d), data.describe(obj)))
    }

    /// Computes the derives `first`, `first + 1`, … (`out.len()` of them)
    /// for `obj` in one call, into `out`: a derive that reads another of
    /// them on `obj` reads it from `out`, not from [`Data::derived`]. The
    /// derives must lie in one of [`Program::derive_groups`] (a group, or
    /// part of one starting anywhere in it), and `obj` must be of its kind.
    ///
    /// A derive that fails on `obj` is missing in `out` (as a caller of
    /// [`Program::eval_derive`] stores a failed derive) and its error is
    /// pushed to `errors`; the derives after it are still computed.
    ///
    /// # Panics
    ///
    /// When the derives are not all in one group.
    pub fn eval_derives<'a, D: Data>(
        &'a self,
        first: DeriveId,
        obj: Obj,
        data: &'a D,
        ctx: &Ctx,
        out: &mut [Value<'a>],
        errors: &mut Vec<RuntimeError>,
    ) {
        let start = first.0 as usize;
        let defs = &self.derives[start..start + out.len()];
        let (Some(head), Some(last)) = (defs.first(), defs.last()) else {
            return;
        };
        assert!(
            head.group == last.group,
            "eval_derives: derives {start}..{} are not in one group",
            start + out.len()
        );
        let slots = defs.iter().map(|d| d.slots).max().unwrap_or(0);
        self.with_frame(
            slots,
            obj,
            None,
            &[],
            data,
            ctx,
            &mut NoTrace,
            (first.0, out),
            |p, cx| {
                for (k, def) in defs.iter().enumerate() {
                    let v = p.ev(def.body, cx);
                    cx.group[k] = match cx.fault.take() {
                        None => v,
                        Some(f) => {
                            let d = DeriveId(first.0 + k as u32);
                            errors.push(p.fault_to_error(
                                *f,
                                p.derive_subject(d),
                                data.describe(obj),
                            ));
                            Value::Missing(None)
                        }
                    };
                    cx.ready = k + 1;
                }
            },
        )
    }

    /// Evaluates rule `r` (of scope [`crate::Scope::Each`]) on `obj`:
    /// `Some` when it fires, with its message rendered.
    pub fn eval_rule<'a, D: Data>(
        &'a self,
        r: RuleId,
        obj: Obj,
        data: &'a D,
        ctx: &Ctx,
    ) -> Result<Option<Firing>, RuntimeError> {
        self.rule_with(r, obj, None, &[], data, ctx, &mut NoTrace)
    }

    /// The group key of `obj` for group rule `r`, or `None` when `obj` is
    /// filtered out or a component of its key is missing.
    pub fn eval_group_key<D: Data>(
        &self,
        r: RuleId,
        obj: Obj,
        data: &D,
        ctx: &Ctx,
    ) -> Result<Option<Key>, RuntimeError> {
        let Some(rule) = self.rules.get(r.0 as usize) else {
            return Ok(None);
        };
        self.with_frame(
            rule.slots,
            obj,
            None,
            &[],
            data,
            ctx,
            &mut NoTrace,
            (0, &mut []),
            |p, cx| {
                if let Some(f) = rule.filter {
                    let v = p.ev(f, cx);
                    if !matches!(cx.done(v)?, Value::Bool(true)) {
                        return Ok(None);
                    }
                }
                let mut parts = Vec::with_capacity(rule.group_key.len());
                for k in rule.group_key.iter() {
                    let v = p.ev(*k, cx);
                    match KeyPart::from_value(cx.done(v)?) {
                        Some(part) => parts.push(part),
                        None => return Ok(None),
                    }
                }
                Ok(Some(Key(parts.into_boxed_slice())))
            },
        )
        .map_err(|f: Box<Fault>| {
            self.fault_to_error(*f, Self::rule_subject(rule), data.describe(obj))
        })
    }

    /// Evaluates group rule `r` once for `key` and the entities that share
    /// it (`members`, in a deterministic order chosen by the caller).
    pub fn eval_group_rule<'a, D: Data>(
        &'a self,
        r: RuleId,
        key: &'a Key,
        members: &'a [Obj],
        data: &'a D,
        ctx: &Ctx,
    ) -> Result<Option<Firing>, RuntimeError> {
        let this = members.first().copied().unwrap_or(Obj {
            kind: crate::schema::KindId(0),
            index: 0,
        });
        self.rule_with(r, this, Some(key), members, data, ctx, &mut NoTrace)
    }

    #[allow(clippy::too_many_arguments)]
    fn rule_with<'a, D: Data, T: Tracer>(
        &'a self,
        r: RuleId,
        this: Obj,
        key: Option<&'a Key>,
        members: &'a [Obj],
        data: &'a D,
        ctx: &Ctx,
        trace: &mut T,
    ) -> Result<Option<Firing>, RuntimeError> {
        let Some(rule) = self.rules.get(r.0 as usize) else {
            return Ok(None);
        };
        self.with_frame(
            rule.slots,
            this,
            key,
            members,
            data,
            ctx,
            trace,
            (0, &mut []),
            |p, cx| {
                // A group rule's filter was applied when its key was computed.
                if key.is_none() {
                    if let Some(f) = rule.filter {
                        let v = p.ev(f, cx);
                        if !matches!(cx.done(v)?, Value::Bool(true)) {
                            return Ok(None);
                        }
                    }
                }
                let v = p.ev(rule.when, cx);
                if !matches!(cx.done(v)?, Value::Bool(true)) {
                    return Ok(None);
                }
                let message = if rule.message.parts.is_empty() {
                    rule.title.clone().unwrap_or_else(|| rule.qualified_id())
                } else {
                    let m = p.render(&rule.message, cx);
                    cx.done(m)?
                };
                let suggest = match rule.suggest_expr {
                    Some(e) => {
                        let v = p.ev(e, cx);
                        match cx.done(v)? {
                            v @ Value::Enum(..) => Some(p.show(v, cx.data)),
                            _ => None,
                        }
                    }
                    None => rule.suggest.clone(),
                };
                Ok(Some(Firing { message, suggest }))
            },
        )
        .map_err(|f: Box<Fault>| {
            let entity = match key {
                Some(k) => self.show(Value::Key(k), data),
                None => data.describe(this),
            };
            self.fault_to_error(*f, Self::rule_subject(rule), entity)
        })
    }

    /// Like [`Program::eval_rule`] (or [`Program::eval_group_rule`] when
    /// `group` is given), recording every sub-expression's value in
    /// evaluation order, for `hyoka explain`.
    pub fn trace_rule<'a, D: Data>(
        &'a self,
        r: RuleId,
        obj: Obj,
        group: Option<(&'a Key, &'a [Obj])>,
        data: &'a D,
        ctx: &Ctx,
    ) -> (Result<Option<Firing>, RuntimeError>, Vec<TraceStep>) {
        let mut rec = Recorder {
            data,
            steps: Vec::new(),
        };
        let (key, members) = match group {
            Some((k, m)) => (Some(k), m),
            None => (None, &[][..]),
        };
        let result = self.rule_with(r, obj, key, members, data, ctx, &mut rec);
        (result, rec.steps)
    }

    /// Like [`Program::eval_derive`], recording every sub-expression's value.
    pub fn trace_derive<'a, D: Data>(
        &'a self,
        d: DeriveId,
        obj: Obj,
        data: &'a D,
        ctx: &Ctx,
    ) -> (Result<OwnedValue, RuntimeError>, Vec<TraceStep>) {
        let mut rec = Recorder {
            data,
            steps: Vec::new(),
        };
        let Some(def) = self.derives.get(d.0 as usize) else {
            return (Ok(OwnedValue::Missing(None)), Vec::new());
        };
        let result = self
            .with_frame(
                def.slots,
                obj,
                None,
                &[],
                data,
                ctx,
                &mut rec,
                (0, &mut []),
                |p, cx| {
                    let v = p.ev(def.body, cx).to_owned_value();
                    cx.done(v)
                },
            )
            .map_err(|f| self.fault_to_error(*f, self.derive_subject(d), data.describe(obj)));
        (result, rec.steps)
    }

    /// Evaluates a constant expression (no entity, no data) — used by the
    /// checker to fold constants and to compute parameter values.
    pub(crate) fn eval_const(&self, n: NodeId) -> Option<OwnedValue> {
        let data = NoData;
        let ctx = Ctx { year: 0 };
        self.with_frame(
            0,
            Obj::new(crate::schema::KindId(0), 0),
            None,
            &[],
            &data,
            &ctx,
            &mut NoTrace,
            (0, &mut []),
            |p, cx| {
                let v = p.ev(n, cx).to_owned_value();
                cx.done(v).ok()
            },
        )
    }

    /// The scale of a grade value (for callers that show grades).
    pub fn scale(&self, s: ScaleId) -> Option<&Scale> {
        self.scales.get(s.0 as usize)
    }
}

/// A built-in function applied to its evaluated arguments (`b` is missing
/// for one-argument functions).
#[inline]
pub(crate) fn apply_builtin<'a, D: Data>(
    f: Builtin,
    a: Value<'a>,
    b: Value<'a>,
    n: NodeId,
    data: &'a D,
    year: i32,
) -> Result<Value<'a>, Box<Fault>> {
    Ok(match f {
        Builtin::Latest(sf) | Builtin::LatestYear(sf) => {
            let Value::Obj(o) = a else {
                return Ok(first_missing(a, Value::Missing(None)));
            };
            match data.latest(o, sf, year) {
                Ok((year, value)) => {
                    if matches!(f, Builtin::Latest(_)) {
                        value
                    } else {
                        Value::Year(year)
                    }
                }
                Err(reason) => Value::Missing(reason),
            }
        }
        Builtin::Actual(sf) => {
            let (Value::Obj(o), Some(y)) = (a, as_year(b)) else {
                return Ok(first_missing(a, b));
            };
            data.actual(o, sf, y)
        }
        Builtin::Abs => match a {
            Value::Num(x) => match x.abs() {
                Ok(v) => Value::Num(v),
                Err(e) => return Err(arith_fault(e, n, format!("|{x}|"))),
            },
            _ => first_missing(a, Value::Missing(None)),
        },
        Builtin::Min | Builtin::Max => match (a, b) {
            (Value::Num(x), Value::Num(y)) => Value::Num(if f == Builtin::Min {
                x.min(y)
            } else {
                x.max(y)
            }),
            (Value::Year(x), Value::Year(y)) => Value::Year(if f == Builtin::Min {
                x.min(y)
            } else {
                x.max(y)
            }),
            _ => first_missing(a, b),
        },
        Builtin::Round => match (a, b) {
            (Value::Num(x), Value::Num(d)) => {
                let digits = d
                    .to_i64()
                    .and_then(|d| i32::try_from(d).ok())
                    .unwrap_or(i32::MAX);
                match x.round(digits) {
                    Ok(v) => Value::Num(v),
                    Err(e) => return Err(arith_fault(e, n, format!("round({x}, {d})"))),
                }
            }
            _ => first_missing(a, b),
        },
        Builtin::Len => match a {
            Value::Str(s) => Value::Num(Number::from_i64(s.chars().count() as i64)),
            Value::List(l) => Value::Num(Number::from_i64(l.len as i64)),
            Value::Members(m) => Value::Num(Number::from_i64(m.len() as i64)),
            _ => first_missing(a, Value::Missing(None)),
        },
        Builtin::Contains | Builtin::StartsWith | Builtin::EndsWith => match (a, b) {
            (Value::Str(s), Value::Str(p)) => Value::Bool(match f {
                Builtin::Contains => s.contains(p),
                Builtin::StartsWith => s.starts_with(p),
                _ => s.ends_with(p),
            }),
            _ => first_missing(a, b),
        },
    })
}

/// The running state of an aggregate.
pub(crate) struct Acc<'a> {
    kind: AggKind,
    node: NodeId,
    /// `any` / `all` without `=>` test the `where` condition itself.
    pub(crate) predicate_only: bool,
    count: i64,
    sum: Number,
    best: Option<Value<'a>>,
    /// any / all: a true (any) or false (all) was seen.
    decided: bool,
    /// any / all: a missing condition was seen.
    unknown: bool,
    seen: Distinct<'a>,
}

impl<'a> Acc<'a> {
    pub(crate) fn new(kind: AggKind, has_map: bool, node: NodeId) -> Acc<'a> {
        Acc {
            kind,
            node,
            predicate_only: !has_map && matches!(kind, AggKind::Any | AggKind::All),
            count: 0,
            sum: Number::ZERO,
            best: None,
            decided: false,
            unknown: false,
            seen: Distinct::default(),
        }
    }

    /// Adds one element's value; `false` when the result is decided.
    #[inline]
    pub(crate) fn add(&mut self, prog: &Program, v: Value<'a>) -> Result<bool, Box<Fault>> {
        match self.kind {
            AggKind::Count => {
                if !v.is_missing() {
                    self.count += 1;
                }
            }
            AggKind::Sum | AggKind::Avg => {
                if let Value::Num(x) = v {
                    let sum = self.sum;
                    self.sum = sum
                        .checked_add(x)
                        .map_err(|e| arith_fault(e, self.node, format!("{sum} + {x}")))?;
                    self.count += 1;
                }
            }
            AggKind::Min | AggKind::Max => {
                if !v.is_missing() {
                    self.best = Some(match self.best {
                        None => v,
                        Some(b) => match prog.values_cmp(v, b) {
                            Some(Ordering::Less) if self.kind == AggKind::Min => v,
                            Some(Ordering::Greater) if self.kind == AggKind::Max => v,
                            _ => b,
                        },
                    });
                }
            }
            AggKind::Any | AggKind::All => match v {
                Value::Bool(b) if b == (self.kind == AggKind::Any) => {
                    self.decided = true;
                    return Ok(false);
                }
                Value::Bool(_) => {}
                _ => self.unknown = true,
            },
            AggKind::Distinct => {
                if !v.is_missing() {
                    self.seen.insert(v);
                }
            }
        }
        Ok(true)
    }

    pub(crate) fn finish(self) -> Result<Value<'a>, Box<Fault>> {
        Ok(match self.kind {
            AggKind::Count => Value::Num(Number::from_i64(self.count)),
            AggKind::Sum => Value::Num(self.sum),
            AggKind::Avg => {
                if self.count == 0 {
                    return Ok(Value::Missing(None));
                }
                let (sum, count) = (self.sum, self.count);
                Value::Num(
                    sum.checked_div(Number::from_i64(count))
                        .map_err(|e| arith_fault(e, self.node, format!("{sum} ÷ {count}")))?,
                )
            }
            AggKind::Min | AggKind::Max => self.best.unwrap_or(Value::Missing(None)),
            AggKind::Any | AggKind::All => {
                if self.decided {
                    Value::Bool(self.kind == AggKind::Any)
                } else if self.unknown {
                    Value::Missing(None)
                } else {
                    Value::Bool(self.kind == AggKind::All)
                }
            }
            AggKind::Distinct => Value::Num(Number::from_i64(self.seen.len() as i64)),
        })
    }
}

/// Element `i` of a list or of the members.
#[inline]
pub(crate) fn element<'a, D: Data>(data: &'a D, coll: Value<'a>, i: usize) -> Value<'a> {
    match coll {
        Value::List(l) => data.list_get(l, i as u32),
        Value::Members(m) => Value::Obj(m[i]),
        _ => Value::Missing(None),
    }
}

pub(crate) fn as_year(v: Value<'_>) -> Option<i32> {
    match v {
        Value::Year(y) => Some(y),
        Value::Num(n) => n.to_i64().and_then(|y| i32::try_from(y).ok()),
        _ => None,
    }
}

/// The latest observation of `obj`'s series in or before `year` that has a
/// value: `(year, value)`; otherwise the reason of the latest observation
/// without one (`集計中`), if any. This is [`Data::latest`]'s default: it
/// walks the list through [`Data::field`] and [`Data::list_get`].
#[inline]
pub fn walk_latest<'a, D: Data + ?Sized>(
    data: &'a D,
    obj: Obj,
    sf: SeriesFields,
    year: i32,
) -> Latest<'a> {
    let Value::List(list) = data.field(obj, sf.list) else {
        return Err(None);
    };
    let mut best: Option<(i32, Value<'a>)> = None;
    let mut reason: Option<(i32, Option<&'a str>)> = None;
    for i in 0..list.len {
        let Value::Obj(o) = data.list_get(list, i) else {
            continue;
        };
        let Value::Year(y) = data.field(o, sf.year) else {
            continue;
        };
        if y > year {
            continue;
        }
        match data.field(o, sf.value) {
            Value::Missing(r) => {
                if reason.is_none_or(|(ry, _)| y >= ry) {
                    reason = Some((y, r));
                }
            }
            v => {
                // Later entries win ties: a corrected value listed after the
                // first one for the same year replaces it.
                if best.is_none_or(|(by, _)| y >= by) {
                    best = Some((y, v));
                }
            }
        }
    }
    best.ok_or_else(|| reason.and_then(|(_, r)| r))
}

/// The value observed for `year` exactly (the last one listed), or missing.
/// This is [`Data::actual`]'s default: it walks the list.
pub fn walk_actual<'a, D: Data + ?Sized>(
    data: &'a D,
    obj: Obj,
    sf: SeriesFields,
    year: i32,
) -> Value<'a> {
    let Value::List(list) = data.field(obj, sf.list) else {
        return Value::Missing(None);
    };
    let mut found = Value::Missing(None);
    for i in 0..list.len {
        let Value::Obj(o) = data.list_get(list, i) else {
            continue;
        };
        if matches!(data.field(o, sf.year), Value::Year(y) if y == year) {
            found = data.field(o, sf.value);
        }
    }
    found
}

/// Counts distinct values without allocating for small collections.
#[derive(Default)]
struct Distinct<'a> {
    small: [Option<Value<'a>>; 16],
    n: usize,
    big: Option<std::collections::HashSet<KeyPart>>,
}

impl<'a> Distinct<'a> {
    fn insert(&mut self, v: Value<'a>) {
        if let Some(big) = &mut self.big {
            if let Some(k) = KeyPart::from_value(v) {
                big.insert(k);
            }
            return;
        }
        if self.small[..self.n]
            .iter()
            .flatten()
            .any(|s| values_eq(*s, v) == Some(true))
        {
            return;
        }
        if self.n < self.small.len() {
            self.small[self.n] = Some(v);
            self.n += 1;
            return;
        }
        let mut big: std::collections::HashSet<KeyPart> = self.small[..self.n]
            .iter()
            .flatten()
            .filter_map(|s| KeyPart::from_value(*s))
            .collect();
        if let Some(k) = KeyPart::from_value(v) {
            big.insert(k);
        }
        self.big = Some(big);
    }

    fn len(&self) -> usize {
        match &self.big {
            Some(b) => b.len(),
            None => self.n,
        }
    }
}

/// Data with nothing in it, for constant folding.
struct NoData;

impl Data for NoData {
    fn field(&self, _: Obj, _: crate::schema::FieldId) -> Value<'_> {
        Value::Missing(None)
    }
    fn list_get(&self, _: crate::value::ListRef, _: u32) -> Value<'_> {
        Value::Missing(None)
    }
    fn derived(&self, _: DeriveId, _: Obj) -> Value<'_> {
        Value::Missing(None)
    }
}
