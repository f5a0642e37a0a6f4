//! The syntax tree of a rule file — **the contract between the front end
//! ([`crate::syntax`], [`crate::fmt`]) and the checker ([`crate::check`])**.
//!
//! The tree mirrors what was written, nothing more: names are not resolved,
//! types are not checked, numbers are kept as their source text. Every node
//! carries the [`Span`] of its source; equality ignores spans (see [`Node`]).
//! Comments are not part of the tree (the formatter collects them itself);
//! doc comments are, as [`Item::doc`].
//!
//! This file changes **additively only**: new variants and fields may appear,
//! existing names keep their meaning, so the checker can rely on them.
//!
//! **Invariants** that [`crate::syntax::parse`] guarantees for every tree it
//! returns (a tree built by hand need not hold them):
//! - no [`Expr`] is nested deeper than [`MAX_EXPR_DEPTH`], so code walking an
//!   expression recursively cannot overflow the stack;
//! - names ([`Ident`]) are never reserved words (field names after `.` may be);
//! - a [`Number`]'s text is ASCII digits with optional `_` between digits, an
//!   optional `.` fraction and an optional trailing `%`;
//! - a rule has at least the `severity`, `when` and `message` clauses and no
//!   clause twice;
//! - a [`Band`] has at least one bound, and `..=` always has an upper bound;
//! - comparisons (`==`, `<`, `in`, …) are never operands of comparisons
//!   without parentheses (`a < b < c` is a syntax error);
//! - a [`Template`] never holds two [`TemplatePart::Text`] parts in a row;
//! - a scale label written as a string holds no interpolation.
//!
//! This module must not depend on pest or on the checker's types.

use std::fmt;

pub use crate::span::{Node, Span};

/// How deep an expression tree may be; deeper input is a syntax error
/// (`hyoka::syntax::too_deep`) rather than a stack overflow later on.
pub const MAX_EXPR_DEPTH: usize = 256;

/// A name as written: a declaration's name, a field name, a binder.
pub type Ident = Node<String>;

/// An expression with its span.
pub type Expr = Node<ExprKind>;

/// A string literal with its span (quotes included).
pub type StrLit = Node<Template>;

/// A whole rule file: its top-level declarations in source order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct File {
    /// The declarations, in source order.
    pub items: Vec<Node<Item>>,
}

/// A top-level declaration with its doc comment. In a `Node<Item>` the
/// span runs from the declaration's keyword to its end; the doc comment has
/// its own span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The `///` lines directly before the declaration, without the `///`
    /// and one following space, joined with `\n`.
    pub doc: Option<Node<String>>,
    /// What is declared.
    pub kind: ItemKind,
}

/// The kinds of top-level declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// `param NAME: TYPE = EXPR`
    Param(Param),
    /// `fn NAME(P: TYPE, …): TYPE = EXPR`
    Fn(FnDecl),
    /// `derive NAME for ENTITY: TYPE = EXPR`
    Derive(Derive),
    /// `scale NAME { … }`
    Scale(Scale),
    /// `rule ID for SCOPE [where FILTER] { … }`
    Rule(Rule),
}

impl Item {
    /// The declared name (a rule's id).
    pub fn name(&self) -> &Ident {
        match &self.kind {
            ItemKind::Param(p) => &p.name,
            ItemKind::Fn(f) => &f.name,
            ItemKind::Derive(d) => &d.name,
            ItemKind::Scale(s) => &s.name,
            ItemKind::Rule(r) => &r.id,
        }
    }

    /// The keyword that introduces the declaration (`"param"`, `"rule"`, …).
    pub fn keyword(&self) -> &'static str {
        match &self.kind {
            ItemKind::Param(_) => "param",
            ItemKind::Fn(_) => "fn",
            ItemKind::Derive(_) => "derive",
            ItemKind::Scale(_) => "scale",
            ItemKind::Rule(_) => "rule",
        }
    }
}

/// A type as written: `number`, `grade(abc)`, `list(indicator)`.
///
/// Which names are types is the checker's business.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TypeExpr {
    /// `number`, `grade`, `list`, an entity or enum name, …
    pub name: Ident,
    /// The parenthesised arguments, empty when there are none.
    pub args: Vec<Node<TypeExpr>>,
}

/// `param NAME: TYPE = DEFAULT`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// The parameter's name (qualified by its pack when overridden).
    pub name: Ident,
    /// Its declared type.
    pub ty: Node<TypeExpr>,
    /// Its default value.
    pub default: Expr,
}

/// `fn NAME(P: TYPE, …): TYPE = BODY`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnDecl {
    /// The function's name.
    pub name: Ident,
    /// Its parameters in order (possibly none).
    pub params: Vec<Node<FnParam>>,
    /// The declared result type.
    pub ret: Node<TypeExpr>,
    /// The body.
    pub body: Expr,
}

/// One parameter of a `fn`: `NAME: TYPE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnParam {
    /// The parameter's name.
    pub name: Ident,
    /// Its type.
    pub ty: Node<TypeExpr>,
}

/// `derive NAME for ENTITY: TYPE = BODY`
///
/// Inside `body` the entity is in scope under the entity's name
/// (`derive rate for indicator: … = indicator.target.value`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Derive {
    /// The derived field's name (`rate` in `indicator.rate`).
    pub name: Ident,
    /// The entity kind it is computed for.
    pub entity: Ident,
    /// The declared type.
    pub ty: Node<TypeExpr>,
    /// The formula.
    pub body: Expr,
}

/// `scale NAME { ENTRY … }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scale {
    /// The scale's name.
    pub name: Ident,
    /// Bands and states in source order (bands best first, by convention).
    pub entries: Vec<Node<ScaleEntry>>,
}

/// One line of a scale: `LABEL = BAND`, `LABEL = missing` or `LABEL = state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleEntry {
    /// The band's or state's name.
    pub label: Node<Label>,
    /// What the label stands for.
    pub kind: ScaleEntryKind,
}

/// A band or state name: an identifier (`A`, `未算出`) or a string (`"◎"`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Label {
    /// The name, unquoted and unescaped.
    pub name: String,
    /// Whether it was written as a string.
    pub quoted: bool,
}

/// What a scale entry stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScaleEntryKind {
    /// `lo .. hi`, `lo ..`, `.. hi`, `lo ..= hi`, `..= hi`
    Band(Band),
    /// `= missing`: the grade of a missing input.
    Missing,
    /// `= state`: a grade assigned explicitly, never computed from a number.
    State,
}

/// A half-open or closed interval of numbers.
///
/// `lo .. hi` is `lo ≤ x < hi`; `lo ..= hi` is `lo ≤ x ≤ hi`; a missing bound
/// is unbounded on that side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    /// Inclusive lower bound, if any.
    pub lo: Option<Expr>,
    /// Upper bound, if any.
    pub hi: Option<Expr>,
    /// True for `..=` (the upper bound belongs to the band).
    pub hi_inclusive: bool,
}

/// `rule ID for SCOPE [where FILTER] { CLAUSE … }`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The rule's id (qualified by its pack in `pack.toml`).
    pub id: Ident,
    /// What the rule runs on.
    pub scope: Node<Scope>,
    /// `where FILTER`: entities it is false or missing for are skipped. For a
    /// group rule it filters the entities before they are grouped.
    pub filter: Option<Expr>,
    /// The clauses in source order; see the accessors for each kind.
    pub clauses: Vec<Node<Clause>>,
}

/// What a rule runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `for ENTITY`: once per entity, bound to the entity's name.
    Entity(Ident),
    /// `for group ENTITY by KEY`: once per distinct key, with `key` and
    /// `members` in scope. `key` may be a [`ExprKind::Tuple`].
    Group {
        /// The entity kind being grouped.
        entity: Ident,
        /// The grouping key, evaluated per entity.
        key: Expr,
    },
}

/// A line of a rule's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clause {
    /// `title "…"`
    Title(StrLit),
    /// `severity error | warning | info`
    Severity(Node<Severity>),
    /// `when CONDITION`
    When(Expr),
    /// `message "… {expr} …"`
    Message(StrLit),
    /// `help "…"`
    Help(StrLit),
    /// `suggest OUTCOME` (any expression; usually an outcome name such as `拡充`)
    Suggest(Expr),
    /// `rationale "…"`
    Rationale(StrLit),
    /// `reference "…"`
    Reference(StrLit),
    /// `tags ["…", …]`
    Tags(Vec<StrLit>),
}

/// The kind of a [`Clause`], without its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClauseKind {
    /// `title`
    Title,
    /// `severity`
    Severity,
    /// `when`
    When,
    /// `message`
    Message,
    /// `help`
    Help,
    /// `suggest`
    Suggest,
    /// `rationale`
    Rationale,
    /// `reference`
    Reference,
    /// `tags`
    Tags,
}

impl ClauseKind {
    /// Every clause kind, in the order the documentation lists them.
    pub const ALL: [ClauseKind; 9] = [
        ClauseKind::Title,
        ClauseKind::Severity,
        ClauseKind::When,
        ClauseKind::Message,
        ClauseKind::Help,
        ClauseKind::Suggest,
        ClauseKind::Rationale,
        ClauseKind::Reference,
        ClauseKind::Tags,
    ];

    /// The keyword that starts the clause.
    pub fn keyword(self) -> &'static str {
        match self {
            ClauseKind::Title => "title",
            ClauseKind::Severity => "severity",
            ClauseKind::When => "when",
            ClauseKind::Message => "message",
            ClauseKind::Help => "help",
            ClauseKind::Suggest => "suggest",
            ClauseKind::Rationale => "rationale",
            ClauseKind::Reference => "reference",
            ClauseKind::Tags => "tags",
        }
    }

    /// Whether every rule must have this clause.
    pub fn is_required(self) -> bool {
        matches!(
            self,
            ClauseKind::Severity | ClauseKind::When | ClauseKind::Message
        )
    }
}

impl Clause {
    /// The clause's kind.
    pub fn kind(&self) -> ClauseKind {
        match self {
            Clause::Title(_) => ClauseKind::Title,
            Clause::Severity(_) => ClauseKind::Severity,
            Clause::When(_) => ClauseKind::When,
            Clause::Message(_) => ClauseKind::Message,
            Clause::Help(_) => ClauseKind::Help,
            Clause::Suggest(_) => ClauseKind::Suggest,
            Clause::Rationale(_) => ClauseKind::Rationale,
            Clause::Reference(_) => ClauseKind::Reference,
            Clause::Tags(_) => ClauseKind::Tags,
        }
    }
}

/// The severity of a rule's findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// `error`
    Error,
    /// `warning`
    Warning,
    /// `info`
    Info,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Info];

    /// The word used in rule files.
    pub fn keyword(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// The severity written as `word`, if any.
    pub fn from_keyword(word: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.keyword() == word)
    }
}

impl Rule {
    /// The first clause of the given kind (the parser allows only one).
    pub fn clause(&self, kind: ClauseKind) -> Option<&Node<Clause>> {
        self.clauses.iter().find(|c| c.kind() == kind)
    }

    /// `title "…"`
    pub fn title(&self) -> Option<&StrLit> {
        self.clauses.iter().find_map(|c| match &c.node {
            Clause::Title(s) => Some(s),
            _ => None,
        })
    }

    /// `severity …`
    pub fn severity(&self) -> Option<&Node<Severity>> {
        self.clauses.iter().find_map(|c| match &c.node {
            Clause::Severity(s) => Some(s),
            _ => None,
        })
    }

    /// `when …`
    pub fn when(&self) -> Option<&Expr> {
        self.clauses.iter().find_map(|c| match &c.node {
            Clause::When(e) => Some(e),
            _ => None,
        })
    }

    /// `message "…"`
    pub fn message(&self) -> Option<&StrLit> {
        self.clauses.iter().find_map(|c| match &c.node {
            Clause::Message(s) => Some(s),
            _ => None,
        })
    }

    /// `help "…"`
    pub fn help(&self) -> Option<&StrLit> {
        self.clauses.iter().find_map(|c| match &c.node {
            Clause::Help(s) => Some(s),
            _ => None,
        })
    }

    /// `suggest …`
    pub fn suggest(&self) -> Option<&Expr> {
        self.clauses.iter().find_map(|c| match &c.node {
            Clause::Suggest(e) => Some(e),
            _ => None,
        })
    }

    /// `rationale "…"`
    pub fn rationale(&self) -> Option<&StrLit> {
        self.clauses.iter().find_map(|c| match &c.node {
            Clause::Rationale(s) => Some(s),
            _ => None,
        })
    }

    /// `reference "…"`
    pub fn reference(&self) -> Option<&StrLit> {
        self.clauses.iter().find_map(|c| match &c.node {
            Clause::Reference(s) => Some(s),
            _ => None,
        })
    }

    /// `tags [...]`, empty when the rule has none.
    pub fn tags(&self) -> &[StrLit] {
        self.clauses
            .iter()
            .find_map(|c| match &c.node {
                Clause::Tags(t) => Some(t.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }
}

/// The expressions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprKind {
    /// `261`, `61.4`, `1_000`, `90%` (never negative: `-490` is [`UnaryOp::Neg`]).
    Number(Number),
    /// `"…"`, possibly with `{expr}` interpolations.
    String(Template),
    /// `true`, `false`
    Bool(bool),
    /// `missing`
    Missing,
    /// A name: a variable, parameter, entity, scale, enum value, `year`, `key`, …
    Name(String),
    /// `base.field`
    Field {
        /// What the field is read from.
        base: Box<Expr>,
        /// The field's name (may be a reserved word, e.g. `x.state`).
        field: Ident,
    },
    /// `func(arg, …)`
    Call {
        /// The function's name (only names can be called).
        func: Ident,
        /// The arguments, possibly none.
        args: Vec<Expr>,
    },
    /// `count(x in COLLECTION where COND => EXPR)`
    Aggregate(Box<Aggregate>),
    /// `not x`, `-x`
    Unary {
        /// The operator, with its span.
        op: Node<UnaryOp>,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `lhs OP rhs`
    Binary {
        /// The operator, with its span.
        op: Node<BinaryOp>,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `x is missing` (`negated: false`), `x is not missing` (`negated: true`)
    IsMissing {
        /// The tested value.
        operand: Box<Expr>,
        /// True for `is not missing`.
        negated: bool,
    },
    /// `if cond then then else otherwise`
    If {
        /// The condition.
        cond: Box<Expr>,
        /// The value when the condition is true.
        then: Box<Expr>,
        /// The value when the condition is false.
        otherwise: Box<Expr>,
    },
    /// `[a, b, …]`
    List(Vec<Expr>),
    /// `(a, b, …)` with at least two elements, or one and a trailing comma.
    Tuple(Vec<Expr>),
    /// `(x)`: kept so the formatter can keep the author's parentheses;
    /// means exactly `x`.
    Paren(Box<Expr>),
}

/// `func(var in collection [where filter] [=> map])`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aggregate {
    /// Which aggregate.
    pub func: Node<AggFunc>,
    /// The name bound to each element.
    pub var: Ident,
    /// What is iterated over.
    pub collection: Expr,
    /// `where COND`: elements it is false or missing for are skipped.
    pub filter: Option<Expr>,
    /// `=> EXPR`: the value aggregated per element (default: the element).
    pub map: Option<Expr>,
}

/// The aggregates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AggFunc {
    /// `count`
    Count,
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `any`
    Any,
    /// `all`
    All,
    /// `distinct` (the number of distinct values)
    Distinct,
}

impl AggFunc {
    /// Every aggregate.
    pub const ALL: [AggFunc; 8] = [
        AggFunc::Count,
        AggFunc::Sum,
        AggFunc::Avg,
        AggFunc::Min,
        AggFunc::Max,
        AggFunc::Any,
        AggFunc::All,
        AggFunc::Distinct,
    ];

    /// The name used in rule files.
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Any => "any",
            AggFunc::All => "all",
            AggFunc::Distinct => "distinct",
        }
    }

    /// The aggregate called `name`, if any.
    pub fn from_name(name: &str) -> Option<AggFunc> {
        AggFunc::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `not`
    Not,
    /// `-`
    Neg,
}

impl UnaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Not => "not",
            UnaryOp::Neg => "-",
        }
    }
}

/// Infix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `??`
    Coalesce,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// Binding strength of operators, weakest first. `not` sits between `and`
/// and the comparisons, `is missing` between the comparisons and `??`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precedence {
    /// `or`
    Or,
    /// `and`
    And,
    /// `not x`
    Not,
    /// `==` `!=` `<` `<=` `>` `>=` `in` `not in` (not associative)
    Comparison,
    /// `x is missing`, `x is not missing`
    Is,
    /// `??`
    Coalesce,
    /// `+` `-`
    Additive,
    /// `*` `/`
    Multiplicative,
    /// `-x`
    Negation,
    /// `x.field`, calls, literals, parentheses
    Postfix,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Coalesce => "??",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }

    /// How strongly the operator binds.
    pub fn precedence(self) -> Precedence {
        match self {
            BinaryOp::Or => Precedence::Or,
            BinaryOp::And => Precedence::And,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::In
            | BinaryOp::NotIn => Precedence::Comparison,
            BinaryOp::Coalesce => Precedence::Coalesce,
            BinaryOp::Add | BinaryOp::Sub => Precedence::Additive,
            BinaryOp::Mul | BinaryOp::Div => Precedence::Multiplicative,
        }
    }

    /// True for the non-associative comparison operators, `in` and `not in`.
    pub fn is_comparison(self) -> bool {
        self.precedence() == Precedence::Comparison
    }
}

impl UnaryOp {
    /// How strongly the operator binds.
    pub fn precedence(self) -> Precedence {
        match self {
            UnaryOp::Not => Precedence::Not,
            UnaryOp::Neg => Precedence::Negation,
        }
    }
}

/// A number literal as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Number {
    /// The exact source text, including `_` separators and a trailing `%`.
    pub text: String,
    /// True for `90%` (the value is the digits divided by 100).
    pub is_percent: bool,
}

impl Number {
    /// The digits without `_` and `%`, ready for an exact decimal parser:
    /// `1_000` → `1000`, `90%` → `90`, `61.4` → `61.4`.
    pub fn digits(&self) -> String {
        self.text
            .chars()
            .filter(|c| *c != '_' && *c != '%')
            .collect()
    }
}

/// A string literal: text and `{expr}` interpolations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Template {
    /// The parts in order; empty for `""`.
    pub parts: Vec<TemplatePart>,
}

/// A piece of a [`Template`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text, escapes (`\n`, `\"`, `{{`) already decoded.
    Text(Node<String>),
    /// `{expr}`
    Interp(Expr),
}

impl Template {
    /// The text, if the literal has no interpolation.
    pub fn as_plain(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Text(t) => out.push_str(t),
                TemplatePart::Interp(_) => return None,
            }
        }
        Some(out)
    }

    /// The interpolated expressions, in order.
    pub fn interpolations(&self) -> impl Iterator<Item = &Expr> {
        self.parts.iter().filter_map(|p| match p {
            TemplatePart::Interp(e) => Some(e),
            TemplatePart::Text(_) => None,
        })
    }
}

// ---------------------------------------------------------------------------
// Display: a readable, unambiguous rendering of the tree for tests and
// debugging. Operators are shown as s-expressions (`(+ a b)`) so the
// structure the parser chose is visible; this is not the formatter.
// ---------------------------------------------------------------------------

impl fmt::Display for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(doc) = &self.doc {
            for line in doc.split('\n') {
                if line.is_empty() {
                    writeln!(f, "///")?;
                } else {
                    writeln!(f, "/// {line}")?;
                }
            }
        }
        match &self.kind {
            ItemKind::Param(p) => writeln!(f, "param {}: {} = {}", p.name, p.ty, p.default),
            ItemKind::Fn(d) => {
                write!(f, "fn {}(", d.name)?;
                for (i, p) in d.params.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{}: {}", p.name, p.ty)?;
                }
                writeln!(f, "): {} = {}", d.ret, d.body)
            }
            ItemKind::Derive(d) => writeln!(
                f,
                "derive {} for {}: {} = {}",
                d.name, d.entity, d.ty, d.body
            ),
            ItemKind::Scale(s) => {
                writeln!(f, "scale {}", s.name)?;
                for e in &s.entries {
                    writeln!(f, "    {e}")?;
                }
                Ok(())
            }
            ItemKind::Rule(r) => {
                write!(f, "rule {} for {}", r.id, r.scope)?;
                if let Some(filter) = &r.filter {
                    write!(f, " where {filter}")?;
                }
                writeln!(f)?;
                for c in &r.clauses {
                    writeln!(f, "    {c}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for TypeExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if !self.args.is_empty() {
            write!(f, "(")?;
            write_list(f, &self.args)?;
            write!(f, ")")?;
        }
        Ok(())
    }
}

impl fmt::Display for ScaleEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = ", self.label)?;
        match &self.kind {
            ScaleEntryKind::Band(b) => write!(f, "{b}"),
            ScaleEntryKind::Missing => write!(f, "missing"),
            ScaleEntryKind::State => write!(f, "state"),
        }
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(lo) = &self.lo {
            write!(f, "{lo} ")?;
        }
        write!(f, "{}", if self.hi_inclusive { "..=" } else { ".." })?;
        if let Some(hi) = &self.hi {
            write!(f, " {hi}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.quoted {
            write!(f, "\"{}\"", escape_text(&self.name))
        } else {
            write!(f, "{}", self.name)
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Entity(e) => write!(f, "{e}"),
            Scope::Group { entity, key } => write!(f, "group {entity} by {key}"),
        }
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.kind().keyword())?;
        match self {
            Clause::Title(s)
            | Clause::Message(s)
            | Clause::Help(s)
            | Clause::Rationale(s)
            | Clause::Reference(s) => write!(f, "{s}"),
            Clause::Severity(s) => write!(f, "{s}"),
            Clause::When(e) | Clause::Suggest(e) => write!(f, "{e}"),
            Clause::Tags(tags) => {
                write!(f, "[")?;
                write_list(f, tags)?;
                write!(f, "]")
            }
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

impl fmt::Display for AggFunc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for UnaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"")?;
        for part in &self.parts {
            match part {
                TemplatePart::Text(t) => write!(f, "{}", escape_text(t))?,
                TemplatePart::Interp(e) => write!(f, "{{{e}}}")?,
            }
        }
        write!(f, "\"")
    }
}

impl fmt::Display for ExprKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExprKind::Number(n) => write!(f, "{n}"),
            ExprKind::String(t) => write!(f, "{t}"),
            ExprKind::Bool(b) => write!(f, "{b}"),
            ExprKind::Missing => write!(f, "missing"),
            ExprKind::Name(n) => write!(f, "{n}"),
            ExprKind::Field { base, field } => write!(f, "{base}.{field}"),
            ExprKind::Call { func, args } => {
                write!(f, "{func}(")?;
                write_list(f, args)?;
                write!(f, ")")
            }
            ExprKind::Aggregate(a) => {
                write!(f, "{}({} in {}", a.func, a.var, a.collection)?;
                if let Some(filter) = &a.filter {
                    write!(f, " where {filter}")?;
                }
                if let Some(map) = &a.map {
                    write!(f, " => {map}")?;
                }
                write!(f, ")")
            }
            ExprKind::Unary { op, operand } => write!(f, "({op} {operand})"),
            ExprKind::Binary { op, lhs, rhs } => write!(f, "({op} {lhs} {rhs})"),
            ExprKind::IsMissing { operand, negated } => {
                let op = if *negated {
                    "is-not-missing"
                } else {
                    "is-missing"
                };
                write!(f, "({op} {operand})")
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => write!(f, "(if {cond} {then} {otherwise})"),
            ExprKind::List(items) => {
                write!(f, "[")?;
                write_list(f, items)?;
                write!(f, "]")
            }
            ExprKind::Tuple(items) => {
                write!(f, "(tuple")?;
                for item in items {
                    write!(f, " {item}")?;
                }
                write!(f, ")")
            }
            ExprKind::Paren(inner) => write!(f, "(paren {inner})"),
        }
    }
}

fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// Escapes literal text so it reads back as the same string: `"`, `\`,
/// control characters and braces (`{{`, `}}`).
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '{' => out.push_str("{{"),
            '}' => out.push_str("}}"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
