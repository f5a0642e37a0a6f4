//! The compiled program: what the checker produces and the evaluator runs.
//!
//! Expressions are compiled into one arena of nodes per program. Every
//! name is already resolved (fields to [`FieldId`]s, parameters to their
//! values, user functions inlined with `let` slots, scale bands to their
//! bounds) and constant sub-expressions are folded while the arena is built,
//! so evaluation never looks at the syntax tree or at a name.
//!
//! Each node keeps a [`Loc`] (file and byte range) beside it, for runtime
//! errors and for the evaluation trace of `hyoka explain`.
//!
//! **Invariant:** nothing here knows the syntax tree; the checker lowers it.
//! Everything here is immutable after [`crate::compile`] returns, which is
//! what makes [`Program`] `Send + Sync`.

use std::sync::Arc;

use crate::number::Number;
use crate::schema::{FieldId, KindId, ScaleId, Type};
use crate::value::{DeriveId, OwnedValue};

/// Index of a node in the program's arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct NodeId(pub(crate) u32);

/// Where a node came from: a source file of the program and a byte range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loc {
    /// Index into [`Program::sources`].
    pub file: u32,
    /// Byte offset of the start.
    pub start: u32,
    /// Byte offset of the end.
    pub end: u32,
}

/// A binary arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// What an aggregate computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AggKind {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    Any,
    All,
    Distinct,
}

/// Field ids a list-walking built-in needs (`latest(indicator)` walks
/// `indicator.actuals` and reads each observation's `year` and `value`).
pub(crate) use crate::value::Series as SeriesFields;

/// A built-in function, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    /// `latest(x)`: value of the latest observation in or before `year`.
    Latest(SeriesFields),
    /// `latest_year(x)`: the year of that observation.
    LatestYear(SeriesFields),
    /// `actual(x, y)`: the value observed for year `y`.
    Actual(SeriesFields),
    Abs,
    Min,
    Max,
    Round,
    Len,
    Contains,
    StartsWith,
    EndsWith,
}

impl Builtin {
    /// Whether the result depends only on the arguments (so constant
    /// arguments may be folded).
    pub(crate) fn is_pure(self) -> bool {
        !matches!(
            self,
            Builtin::Latest(_) | Builtin::LatestYear(_) | Builtin::Actual(_)
        )
    }
}

/// One node of a compiled expression.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// A constant (literals, parameters, folded sub-expressions).
    Const(OwnedValue),
    /// The entity the rule or derive runs on.
    This,
    /// The evaluation year.
    Year,
    /// A `let` slot (function argument or aggregate variable).
    Local(u16),
    /// The group key (group rules only).
    Key,
    /// One component of the group key (group rules only).
    KeyPart(u16),
    /// The group members (group rules only).
    Members,
    /// `obj.field`.
    Field(NodeId, FieldId),
    /// `obj.derive_name`.
    Derived(NodeId, DeriveId),
    /// `-x`.
    Neg(NodeId),
    /// `a op b` on numbers (and years).
    Arith(Arith, NodeId, NodeId),
    /// `a op b`.
    Cmp(Cmp, NodeId, NodeId),
    /// `a and b` (three-valued).
    And(NodeId, NodeId),
    /// `a or b` (three-valued).
    Or(NodeId, NodeId),
    /// `not a`.
    Not(NodeId),
    /// `if c then a else b`.
    If(NodeId, NodeId, NodeId),
    /// `x is missing` (never missing itself).
    IsMissing(NodeId),
    /// `x ?? d`.
    Coalesce(NodeId, NodeId),
    /// `reason(x)`.
    Reason(NodeId),
    /// `x in [a, b, c]`.
    InList(NodeId, Box<[NodeId]>),
    /// `x in collection`.
    InCollection(NodeId, NodeId),
    /// Binds slot to value, then evaluates body (inlined function calls).
    Let(u16, NodeId, NodeId),
    /// A built-in function call.
    Call(Builtin, Box<[NodeId]>),
    /// `latest(x)` (`year: false`) or `latest_year(x)` (`year: true`): its
    /// own node because grade rules call it once per entity, and the general
    /// call path moves its arguments through memory.
    Latest {
        fields: SeriesFields,
        obj: NodeId,
        year: bool,
    },
    /// An aggregate: `kind(var in coll where filter => map)`.
    Agg {
        kind: AggKind,
        var: u16,
        coll: NodeId,
        filter: Option<NodeId>,
        map: Option<NodeId>,
    },
    /// `grade(scale, x)`.
    Grade(ScaleId, NodeId),
}

/// A message template: literal text and interpolated expressions.
#[derive(Clone, Debug, Default)]
pub(crate) struct Template {
    pub(crate) parts: Vec<TemplatePart>,
}

/// One piece of a [`Template`].
#[derive(Clone, Debug)]
pub(crate) enum TemplatePart {
    Text(Box<str>),
    Expr(NodeId),
}

pub use crate::ast::Severity;

/// What a rule runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Once per entity of the kind: [`Program::eval_rule`].
    Each(KindId),
    /// Once per distinct key over the entities of the kind:
    /// [`Program::eval_group_key`] then [`Program::eval_group_rule`].
    Group(KindId),
}

impl Scope {
    /// The kind of entity the rule reads.
    pub fn kind(self) -> KindId {
        match self {
            Scope::Each(k) | Scope::Group(k) => k,
        }
    }
}

/// Index of a rule in [`Program::rules`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u32);

/// A compiled rule and its metadata.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The pack that declares it.
    pub pack: String,
    /// The rule's id within its pack; `PACK.ID` is its qualified name.
    pub id: String,
    /// Doc comment.
    pub doc: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `severity`, after pack and user overrides.
    pub severity: Severity,
    /// What it runs on.
    pub scope: Scope,
    /// `help` (plain text; shown with every finding).
    pub help: Option<String>,
    /// `suggest` when written as an outcome (`suggest 拡充`); a computed
    /// suggestion is in [`crate::Firing::suggest`] instead.
    pub suggest: Option<String>,
    /// `rationale`.
    pub rationale: Option<String>,
    /// `reference`.
    pub reference: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// Where it is declared.
    pub loc: Loc,
    pub(crate) filter: Option<NodeId>,
    pub(crate) group_key: Box<[NodeId]>,
    pub(crate) when: NodeId,
    pub(crate) message: Template,
    pub(crate) suggest_expr: Option<NodeId>,
    pub(crate) slots: u16,
}

impl Rule {
    /// `PACK.ID`.
    pub fn qualified_id(&self) -> String {
        format!("{}.{}", self.pack, self.id)
    }
}

/// A compiled derived value.
#[derive(Clone, Debug)]
pub struct Derive {
    /// The pack that declares it.
    pub pack: String,
    /// Its name, read as a field of `kind` (`indicator.rate`).
    pub name: String,
    /// Doc comment.
    pub doc: Option<String>,
    /// The kind it is computed for.
    pub kind: KindId,
    /// Its declared type.
    pub ty: Type,
    /// Where it is declared.
    pub loc: Loc,
    pub(crate) body: NodeId,
    pub(crate) slots: u16,
    /// Index of its group in [`Program::derive_groups`].
    pub(crate) group: u32,
}

/// A run of consecutive derives (in [`Program::derives`] order) of one
/// kind that may be computed entity by entity: none reads the value of
/// another derive of the group on another entity (only on `this`, and only
/// of derives before it). [`Program::eval_derives`] computes a group, or a
/// prefix of one, for one entity in one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeriveGroup {
    /// The kind of every derive of the group.
    pub kind: KindId,
    /// The first derive of the group.
    pub first: DeriveId,
    /// How many derives it has (at least one).
    pub len: u32,
}

impl DeriveGroup {
    /// The derives of the group.
    pub fn derives(&self) -> impl ExactSizeIterator<Item = DeriveId> {
        (self.first.0..self.first.0 + self.len).map(DeriveId)
    }
}

/// A parameter with its resolved value.
#[derive(Clone, Debug)]
pub struct Param {
    /// The pack that declares it.
    pub pack: String,
    /// Its name; `PACK.NAME` is its qualified name.
    pub name: String,
    /// Doc comment.
    pub doc: Option<String>,
    /// Declared type.
    pub ty: Type,
    /// The value after pack and user overrides.
    pub value: OwnedValue,
    /// Where the value came from (`default`, a pack name, or `hyoka.toml`).
    pub set_by: String,
    /// Where it is declared.
    pub loc: Loc,
}

/// One band of a grade scale: `lo .. hi` (or `..=`), either end open.
#[derive(Clone, Debug)]
pub struct Band {
    /// Band name (`A`, `◎`).
    pub name: String,
    /// Lower bound, always inclusive; `None` for `.. hi`.
    pub lo: Option<Number>,
    /// Upper bound and whether it is inclusive; `None` for `lo ..`.
    pub hi: Option<(Number, bool)>,
}

impl Band {
    /// Whether `x` falls in this band.
    #[inline]
    pub fn contains(&self, x: Number) -> bool {
        self.lo.is_none_or(|lo| x >= lo)
            && self
                .hi
                .is_none_or(|(hi, inclusive)| if inclusive { x <= hi } else { x < hi })
    }
}

impl Band {
    /// [`Band::contains`], both ends always tested: the outcome depends
    /// on the data, and a branch on it is mispredicted.
    #[inline(always)]
    fn holds(&self, x: Number) -> bool {
        let lo = match self.lo {
            Some(lo) => x >= lo,
            None => true,
        };
        let hi = match self.hi {
            Some((hi, true)) => x <= hi,
            Some((hi, false)) => x < hi,
            None => true,
        };
        lo & hi
    }
}

/// A grade scale. A grade value `Value::Grade(scale, i)` is band `i` for
/// `i < bands.len()` and state `i - bands.len()` after that.
#[derive(Clone, Debug)]
pub struct Scale {
    /// The pack that declares it.
    pub pack: String,
    /// Its name.
    pub name: String,
    /// Doc comment.
    pub doc: Option<String>,
    /// Bands from best to worst.
    pub bands: Vec<Band>,
    /// States (`未算出 = missing`, `完了 = state`), in order.
    pub states: Vec<String>,
    /// Index into `states` of the state given to a missing input.
    pub missing_state: u16,
    /// Where it is declared.
    pub loc: Loc,
}

impl Scale {
    /// The name of grade `i` (band or state).
    pub fn label(&self, i: u16) -> &str {
        let i = i as usize;
        match self.bands.get(i) {
            Some(b) => &b.name,
            None => self
                .states
                .get(i - self.bands.len())
                .map_or("?", |s| s.as_str()),
        }
    }

    /// The first band that contains `x`, if any. Every band is tested
    /// (without a branch on the outcome, which depends on the data).
    #[inline]
    pub fn band_of(&self, x: Number) -> Option<u16> {
        if self.bands.len() > 64 {
            return self
                .bands
                .iter()
                .position(|b| b.contains(x))
                .map(|i| i as u16);
        }
        let mut hits = 0u64;
        for (i, b) in self.bands.iter().enumerate() {
            hits |= (b.holds(x) as u64) << i;
        }
        (hits != 0).then(|| hits.trailing_zeros() as u16)
    }

    /// The grade index of the missing state.
    pub fn missing_grade(&self) -> u16 {
        self.bands.len() as u16 + self.missing_state
    }
}

/// A source file the program was compiled from, kept for diagnostics.
#[derive(Clone, Debug)]
pub struct Source {
    /// The name given by the caller (a path, for the engine).
    pub name: String,
    /// The text.
    pub text: Arc<str>,
}

/// A checked, compiled set of rule packs. Immutable, `Send + Sync`.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub(crate) nodes: Vec<Node>,
    pub(crate) locs: Vec<Loc>,
    pub(crate) derives: Vec<Derive>,
    pub(crate) derive_groups: Vec<DeriveGroup>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) params: Vec<Param>,
    pub(crate) scales: Vec<Scale>,
    pub(crate) sources: Vec<Source>,
    /// Names of the schema's enumerations and values, for displaying values.
    pub(crate) enum_names: Vec<(String, Vec<String>)>,
    /// Names of the schema's kinds, for messages.
    pub(crate) kind_names: Vec<String>,
    /// Per node: 1 + the id of its memo when it is a sub-expression
    /// computed more than once per entity, else 0 (`eval/repeat.rs`).
    pub(crate) repeats: Vec<u32>,
}

impl Program {
    /// Derived values in dependency order: compute `derives()[0]` for every
    /// entity of its kind, then `derives()[1]`, …; `DeriveId(i)` is
    /// `derives()[i]`.
    pub fn derives(&self) -> &[Derive] {
        &self.derives
    }

    /// The derives cut into groups that may be computed entity by entity
    /// (see [`DeriveGroup`]): compute `derive_groups()[0]` for every entity
    /// of its kind ([`Program::eval_derives`]), then `derive_groups()[1]`,
    /// …. Together they list [`Program::derives`] in order.
    pub fn derive_groups(&self) -> &[DeriveGroup] {
        &self.derive_groups
    }

    /// Rules, enabled ones only (`off` rules are dropped); `RuleId(i)` is
    /// `rules()[i]`.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Parameters with their resolved values.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// Grade scales; `ScaleId(i)` is `scales()[i]`.
    pub fn scales(&self) -> &[Scale] {
        &self.scales
    }

    /// The source files, indexed by [`Loc::file`].
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// The rule with qualified id `PACK.ID`.
    pub fn rule_named(&self, qualified: &str) -> Option<RuleId> {
        self.rules
            .iter()
            .position(|r| {
                qualified
                    .split_once('.')
                    .is_some_and(|(p, id)| r.pack == p && r.id == id)
            })
            .map(|i| RuleId(i as u32))
    }

    /// The derive `name` for `kind`.
    pub fn derive_named(&self, kind: KindId, name: &str) -> Option<DeriveId> {
        self.derives
            .iter()
            .position(|d| d.kind == kind && d.name == name)
            .map(|i| DeriveId(i as u32))
    }

    /// The scale called `name`.
    pub fn scale_named(&self, name: &str) -> Option<ScaleId> {
        self.scales
            .iter()
            .position(|s| s.name == name)
            .map(|i| ScaleId(i as u16))
    }

    /// The name of kind `k` in the schema the program was checked against.
    pub fn kind_name(&self, k: KindId) -> &str {
        self.kind_names
            .get(k.0 as usize)
            .map_or("?", |s| s.as_str())
    }

    pub(crate) fn node(&self, n: NodeId) -> &Node {
        &self.nodes[n.0 as usize]
    }

    pub(crate) fn loc(&self, n: NodeId) -> Loc {
        self.locs.get(n.0 as usize).copied().unwrap_or_default()
    }

    /// Calls `f` on every child of node `n`.
    pub(crate) fn for_each_child(&self, n: NodeId, mut f: impl FnMut(NodeId)) {
        match self.node(n) {
            Node::Const(_)
            | Node::This
            | Node::Year
            | Node::Local(_)
            | Node::Key
            | Node::KeyPart(_)
            | Node::Members => {}
            Node::Field(a, _)
            | Node::Derived(a, _)
            | Node::Neg(a)
            | Node::Not(a)
            | Node::IsMissing(a)
            | Node::Reason(a)
            | Node::Grade(_, a)
            | Node::Latest { obj: a, .. } => f(*a),
            Node::Arith(_, a, b)
            | Node::Cmp(_, a, b)
            | Node::And(a, b)
            | Node::Or(a, b)
            | Node::Coalesce(a, b)
            | Node::InCollection(a, b)
            | Node::Let(_, a, b) => {
                f(*a);
                f(*b);
            }
            Node::If(a, b, c) => {
                f(*a);
                f(*b);
                f(*c);
            }
            Node::InList(a, items) => {
                f(*a);
                items.iter().for_each(|i| f(*i));
            }
            Node::Call(_, args) => args.iter().for_each(|a| f(*a)),
            Node::Agg {
                coll, filter, map, ..
            } => {
                f(*coll);
                filter.iter().chain(map.iter()).for_each(|a| f(*a));
            }
        }
    }

    /// Cuts the derives (in their final order) into [`DeriveGroup`]s: a
    /// derive starts a new group when its kind differs from the group's, or
    /// when it reads a derive of the group on anything but `this`.
    pub(crate) fn group_derives(&mut self) {
        let mut groups: Vec<DeriveGroup> = Vec::new();
        let mut seen = vec![false; self.nodes.len()];
        let mut todo = Vec::new();
        for i in 0..self.derives.len() {
            let kind = self.derives[i].kind;
            let joins = groups.last().is_some_and(|g| {
                if g.kind != kind {
                    return false;
                }
                let in_group = |d: DeriveId| d.0 >= g.first.0 && d.0 < g.first.0 + g.len;
                seen.fill(false);
                todo.clear();
                todo.push(self.derives[i].body);
                while let Some(n) = todo.pop() {
                    if std::mem::replace(&mut seen[n.0 as usize], true) {
                        continue;
                    }
                    if let Node::Derived(o, d) = self.node(n) {
                        if in_group(*d) && !matches!(self.node(*o), Node::This) {
                            return false;
                        }
                    }
                    self.for_each_child(n, |c| todo.push(c));
                }
                true
            });
            match groups.last_mut() {
                Some(g) if joins => g.len += 1,
                _ => groups.push(DeriveGroup {
                    kind,
                    first: DeriveId(i as u32),
                    len: 1,
                }),
            }
            self.derives[i].group = groups.len() as u32 - 1;
        }
        self.derive_groups = groups;
    }

    /// Appends a node as is (the checker's builder, which folds constants,
    /// is `Checker::mk` in `check/expr.rs`).
    pub(crate) fn push(&mut self, node: Node, loc: Loc) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(node);
        self.locs.push(loc);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn program_is_send_sync() {
        assert_send_sync::<Program>();
    }
}
