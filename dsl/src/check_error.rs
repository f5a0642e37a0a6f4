//! Semantic errors of rule files and rule packs: what is wrong
//! ([`CheckErrorKind`], each with a stable code `hyoka::check::…`), where
//! (a span in a named source), and how to fix it (help).
//!
//! Style (after cedar): messages are lowercase with no final period, user
//! input is in backticks, the fix goes in the help. Errors are data: this
//! module describes them and never prints them.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

use crate::span::Span;
use crate::syntax_error::SyntaxError;

/// A named source text that errors point into (a rule file, or the
/// `pack.toml` / `hyoka.toml` a setting came from).
pub type ErrorSource = NamedSource<Arc<str>>;

/// A semantic error found while checking rule packs.
#[derive(Clone)]
pub struct CheckError {
    /// What is wrong.
    pub kind: CheckErrorKind,
    span: Option<Span>,
    notes: Vec<(Span, String)>,
    src: Option<ErrorSource>,
}

/// Any error [`crate::compile`] reports: a syntax error of a file, or a
/// semantic error of the packs.
#[derive(Clone, Debug, thiserror::Error, Diagnostic)]
pub enum CompileError {
    /// The file does not parse.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Syntax(#[from] SyntaxError),
    /// The file parses but is wrong.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Check(#[from] CheckError),
}

/// What is wrong. Each variant's doc shows a rule text that triggers it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckErrorKind {
    /// `when indicatr.monitoring`
    #[error("unknown name `{name}`")]
    UnknownName {
        /// The name written.
        name: String,
        /// A close name in scope.
        suggestion: Option<String>,
    },
    /// `indicator.targt.value`
    #[error("`{kind}` has no field `{field}`")]
    UnknownField {
        /// The kind (`indicator`) or type whose field was read.
        kind: String,
        /// The field written.
        field: String,
        /// A close field name.
        suggestion: Option<String>,
        /// Some of the fields it does have, for the help.
        fields: Vec<String>,
    },
    /// `lates(indicator)`
    #[error("unknown function `{name}`")]
    UnknownFunction {
        /// The name written.
        name: String,
        /// A close function name.
        suggestion: Option<String>,
    },
    /// `indicator.direction == direction.increse`
    #[error("`{value}` is not a value of `{enumeration}`")]
    UnknownEnumValue {
        /// The enumeration.
        enumeration: String,
        /// The value written.
        value: String,
        /// A close value.
        suggestion: Option<String>,
        /// The values it has.
        values: Vec<String>,
    },
    /// `indicator.grade == abc.D`
    #[error("scale `{scale}` has no band or state `{label}`")]
    UnknownBand {
        /// The scale.
        scale: String,
        /// The label written.
        label: String,
        /// A close label.
        suggestion: Option<String>,
        /// The labels it has.
        labels: Vec<String>,
    },
    /// `param a: numbr = 1`
    #[error("unknown type `{name}`")]
    UnknownType {
        /// The name written.
        name: String,
        /// A close type name.
        suggestion: Option<String>,
    },
    /// `rule r for indicatr { … }`
    #[error("unknown entity `{name}`")]
    UnknownEntity {
        /// The name written.
        name: String,
        /// A close entity name.
        suggestion: Option<String>,
    },
    /// `grade(abd, indicator.rate)`
    #[error("unknown scale `{name}`")]
    UnknownScale {
        /// The name written.
        name: String,
        /// A close scale name.
        suggestion: Option<String>,
    },
    /// `derive x for observation: number = 1`
    #[error("`{name}` is a record, not an entity")]
    NotAnEntity {
        /// The record kind.
        name: String,
        /// The entity kinds, for the help.
        entities: Vec<String>,
    },
    /// `when indicator.name + 1 > 2`
    #[error("cannot apply `{op}` to `{left}` and `{right}`")]
    Operands {
        /// The operator.
        op: String,
        /// Type of the left operand.
        left: String,
        /// Type of the right operand.
        right: String,
    },
    /// `when -indicator.name`, `when not indicator.rate`
    #[error("cannot apply `{op}` to `{operand}`")]
    Operand {
        /// The operator.
        op: String,
        /// Type of the operand.
        operand: String,
    },
    /// `when indicator.grade == other.S` (a grade of scale `abc` compared
    /// with a band of scale `other`)
    #[error("cannot compare a grade of scale `{left}` with a grade of scale `{right}`")]
    GradeScales {
        /// The left scale.
        left: String,
        /// The right scale.
        right: String,
    },
    /// `when indicator.rate` (a number, not a condition)
    #[error("`{clause}` needs a `bool`, found `{found}`")]
    NotBool {
        /// `when`, `where`, `if`, `and` …
        clause: String,
        /// Type found.
        found: String,
    },
    /// `derive rate for indicator: number = indicator.name`
    #[error("{what} `{name}` is declared `{declared}` but its value is `{found}`")]
    DeclaredType {
        /// `derive`, `fn`, `param`.
        what: String,
        /// Its name.
        name: String,
        /// The declared type.
        declared: String,
        /// The type of the value.
        found: String,
    },
    /// `round("x", 1)`
    #[error("argument {index} of `{func}` must be {expected}, found `{found}`")]
    ArgumentType {
        /// The function.
        func: String,
        /// 1-based argument number.
        index: usize,
        /// What it takes, in words (`` `number` ``, `a string or a list`).
        expected: String,
        /// What was passed.
        found: String,
    },
    /// `round(indicator.rate)`
    #[error("`{func}` takes {expected}, found {found}")]
    ArgumentCount {
        /// The function.
        func: String,
        /// `2 arguments`, `1 argument`.
        expected: String,
        /// How many were passed.
        found: usize,
    },
    /// `if c then 1 else "x"`, `x ?? "y"` with `x` a number
    #[error("`{what}` has values of different types: `{left}` and `{right}`")]
    Branches {
        /// `if` or `??`.
        what: String,
        /// The first type.
        left: String,
        /// The second type.
        right: String,
    },
    /// `count(x in indicator.rate)`
    #[error("cannot iterate over `{found}`: not a list")]
    NotAList {
        /// The type found.
        found: String,
    },
    /// `sum(o in indicator.actuals => o.reason)`
    #[error("`{agg}` needs {expected}, found `{found}`")]
    AggregateType {
        /// The aggregate.
        agg: String,
        /// What it needs, in words.
        expected: String,
        /// The type of the values.
        found: String,
    },
    /// `indicator.actuals.value`
    #[error("cannot read field `{field}` of a list")]
    FieldOfList {
        /// The field written.
        field: String,
    },
    /// `when count(m in members) > 1` in a rule `for indicator`
    #[error("`{name}` is only available in a group rule")]
    GroupOnly {
        /// `key` or `members`.
        name: String,
    },
    /// `when indicator.rate > 1` in a rule `for group indicator by …`
    #[error("`{name}` is not in scope in the body of a group rule")]
    EntityInGroup {
        /// The grouped entity's name.
        name: String,
    },
    /// `when [1, 2]`, `when (a, b)`, `title "{x}"`
    #[error("{what} is not allowed here")]
    NotAllowed {
        /// What was written, in words.
        what: String,
        /// Where it is allowed, for the help.
        allowed: String,
    },
    /// `derive a … = x.b` / `derive b … = x.a`
    #[error("derived values depend on each other: {}", ticks(cycle))]
    DeriveCycle {
        /// The cycle, first name repeated last.
        cycle: Vec<String>,
    },
    /// `fn f(x: number): number = f(x)`
    #[error("function `{}` is recursive: {}", cycle[0], ticks(cycle))]
    Recursion {
        /// The cycle, first name repeated last.
        cycle: Vec<String>,
    },
    /// `A = 90% ..` / `B = 70% .. 80%` (0.8 falls through)
    #[error("`{value}` is in no band of scale `{scale}`")]
    ScaleGap {
        /// The scale.
        scale: String,
        /// A number that falls through.
        value: String,
        /// The band below the gap, if any.
        below: Option<String>,
        /// The band above the gap, if any.
        above: Option<String>,
    },
    /// `A = 80% ..` / `B = 70% .. 90%` (0.8 is claimed twice)
    #[error("`{value}` is in two bands of scale `{scale}`: `{first}` and `{second}`")]
    ScaleOverlap {
        /// The scale.
        scale: String,
        /// A number claimed twice.
        value: String,
        /// One band.
        first: String,
        /// The other band.
        second: String,
    },
    /// `B = 90% .. 70%`
    #[error("band `{band}` of scale `{scale}` is empty: no number is in `{range}`")]
    EmptyBand {
        /// The scale.
        scale: String,
        /// The band.
        band: String,
        /// The band's range with its values (`0.9 .. 0.7`).
        range: String,
    },
    /// a scale without `未算出 = missing`
    #[error("scale `{scale}` has no `missing` state")]
    NoMissingState {
        /// The scale.
        scale: String,
    },
    /// `A = a_min ..` with `param a_min: string = "x"`
    #[error("a band bound must be a number, found `{found}`")]
    BoundNotNumber {
        /// The type found.
        found: String,
    },
    /// `param a: number = indicator.rate`, `A = latest(indicator) ..`
    #[error("{what} must be a constant")]
    NotConstant {
        /// `the default of parameter `a``, `a band bound`.
        what: String,
    },
    /// `"grades.a_mn" = "85%"` in hyoka.toml
    #[error("pack `{pack}` has no parameter `{name}`")]
    UnknownParam {
        /// The pack.
        pack: String,
        /// The name written.
        name: String,
        /// A close parameter name.
        suggestion: Option<String>,
    },
    /// `"grades.a_min" = "high"` in hyoka.toml
    #[error("`{key}` takes a `{declared}`, not `{text}`")]
    ParamValue {
        /// `PACK.NAME`.
        key: String,
        /// The declared type.
        declared: String,
        /// The text given.
        text: String,
        /// An example of a good value, for the help.
        example: String,
    },
    /// `param a: number = 1` twice in one pack
    #[error("{what} `{name}` is declared twice")]
    Duplicate {
        /// `param`, `derive`, `rule` …
        what: String,
        /// The name.
        name: String,
    },
    /// `rule same for …` in packs `a` and `b`
    #[error("rule id `{id}` is declared by packs `{first}` and `{second}`")]
    DuplicateRule {
        /// The id.
        id: String,
        /// The first pack.
        first: String,
        /// The second pack.
        second: String,
    },
    /// `derive name for indicator: string = …` (`indicator.name` is a field)
    #[error("derive `{name}` has the name of the field `{kind}.{name}`")]
    ShadowsField {
        /// The kind.
        kind: String,
        /// The name.
        name: String,
    },
    /// `suggest 拡張`
    #[error("`{value}` is not a review outcome")]
    UnknownOutcome {
        /// The value written.
        value: String,
        /// A close outcome.
        suggestion: Option<String>,
        /// The outcomes.
        outcomes: Vec<String>,
    },
    /// `"review.merge" = "of"` in hyoka.toml
    #[error("`{key}` = `{value}` is not a rule setting")]
    RuleSetting {
        /// `PACK.ID`.
        key: String,
        /// The value given.
        value: String,
        /// A close setting.
        suggestion: Option<String>,
    },
    /// `extends = ["rate"]` with no pack `rate`
    #[error("unknown pack `{name}`")]
    UnknownPack {
        /// The name written.
        name: String,
        /// A close pack name.
        suggestion: Option<String>,
    },
    /// packs `a` and `b` extending each other
    #[error("packs extend each other: {}", ticks(cycle))]
    PackCycle {
        /// The cycle, first name repeated last.
        cycle: Vec<String>,
    },
    /// two packs named `grades`
    #[error("pack `{name}` is given twice")]
    DuplicatePack {
        /// The name.
        name: String,
    },
    /// `"review.merge_candidate" = "off"` with no such rule
    #[error("pack `{pack}` has no rule `{id}`")]
    UnknownRule {
        /// The pack.
        pack: String,
        /// The id written.
        id: String,
        /// A close rule id.
        suggestion: Option<String>,
    },
    /// `[params] "rates.x" = "1"` in a pack that does not extend `rates`
    #[error("pack `{pack}` sets `{key}` but does not extend `{target}`")]
    NotExtended {
        /// The pack whose pack.toml has the setting.
        pack: String,
        /// The key.
        key: String,
        /// The pack the key names.
        target: String,
    },
    /// `"a_min" = "85%"` (no pack)
    #[error("`{key}` is not a qualified name")]
    Unqualified {
        /// The key.
        key: String,
    },
    /// `x == increase` where two enums have a value `increase`
    #[error("`{name}` is a value of several enumerations: {}", enums.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", "))]
    Ambiguous {
        /// The name.
        name: String,
        /// The enumerations.
        enums: Vec<String>,
    },
    /// a group key that is a list: `for group project by project.sdgs`
    #[error("a group key cannot be `{found}`")]
    KeyType {
        /// The type found.
        found: String,
    },
    /// functions calling each other in a way that expands beyond the limit
    #[error("`{name}` expands to too large a program")]
    TooLarge {
        /// The rule or derive.
        name: String,
    },
    /// `fn f(x: number): number = …` where `f` is a built-in
    #[error("`{name}` is the name of a built-in function")]
    ShadowsBuiltin {
        /// The name.
        name: String,
    },
}

/// `` `a` → `b` → `a` ``
fn ticks(cycle: &[String]) -> String {
    cycle
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(" → ")
}

fn did_you_mean(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| format!("did you mean `{s}`?"))
}

fn list(items: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut out: Vec<String> = items.iter().take(SHOWN).map(|i| format!("`{i}`")).collect();
    if items.len() > SHOWN {
        out.push("…".to_string());
    }
    out.join(", ")
}

impl CheckErrorKind {
    /// The stable code, `hyoka::check::…`.
    pub fn code(&self) -> &'static str {
        use CheckErrorKind::*;
        match self {
            UnknownName { .. } => "hyoka::check::unknown_name",
            UnknownField { .. } => "hyoka::check::unknown_field",
            UnknownFunction { .. } => "hyoka::check::unknown_function",
            UnknownEnumValue { .. } => "hyoka::check::unknown_enum_value",
            UnknownBand { .. } => "hyoka::check::unknown_band",
            UnknownType { .. } => "hyoka::check::unknown_type",
            UnknownEntity { .. } => "hyoka::check::unknown_entity",
            UnknownScale { .. } => "hyoka::check::unknown_scale",
            NotAnEntity { .. } => "hyoka::check::not_an_entity",
            Operands { .. } | Operand { .. } => "hyoka::check::operand_types",
            GradeScales { .. } => "hyoka::check::grade_scales",
            NotBool { .. } => "hyoka::check::not_bool",
            DeclaredType { .. } => "hyoka::check::declared_type",
            ArgumentType { .. } => "hyoka::check::argument_type",
            ArgumentCount { .. } => "hyoka::check::argument_count",
            Branches { .. } => "hyoka::check::branch_types",
            NotAList { .. } => "hyoka::check::not_a_list",
            AggregateType { .. } => "hyoka::check::aggregate_type",
            FieldOfList { .. } => "hyoka::check::field_of_list",
            GroupOnly { .. } => "hyoka::check::group_only",
            EntityInGroup { .. } => "hyoka::check::entity_in_group",
            NotAllowed { .. } => "hyoka::check::not_allowed",
            DeriveCycle { .. } => "hyoka::check::derive_cycle",
            Recursion { .. } => "hyoka::check::recursion",
            ScaleGap { .. } => "hyoka::check::scale_gap",
            ScaleOverlap { .. } => "hyoka::check::scale_overlap",
            EmptyBand { .. } => "hyoka::check::empty_band",
            NoMissingState { .. } => "hyoka::check::no_missing_state",
            BoundNotNumber { .. } => "hyoka::check::bound_type",
            NotConstant { .. } => "hyoka::check::not_constant",
            UnknownParam { .. } => "hyoka::check::unknown_param",
            ParamValue { .. } => "hyoka::check::param_value",
            Duplicate { .. } => "hyoka::check::duplicate",
            DuplicateRule { .. } => "hyoka::check::duplicate_rule",
            ShadowsField { .. } => "hyoka::check::shadows_field",
            UnknownOutcome { .. } => "hyoka::check::unknown_outcome",
            RuleSetting { .. } => "hyoka::check::rule_setting",
            UnknownPack { .. } => "hyoka::check::unknown_pack",
            PackCycle { .. } => "hyoka::check::pack_cycle",
            DuplicatePack { .. } => "hyoka::check::duplicate_pack",
            UnknownRule { .. } => "hyoka::check::unknown_rule",
            NotExtended { .. } => "hyoka::check::not_extended",
            Unqualified { .. } => "hyoka::check::unqualified",
            Ambiguous { .. } => "hyoka::check::ambiguous",
            KeyType { .. } => "hyoka::check::key_type",
            TooLarge { .. } => "hyoka::check::too_large",
            ShadowsBuiltin { .. } => "hyoka::check::shadows_builtin",
        }
    }

    /// How to fix it.
    pub fn help(&self) -> Option<String> {
        use CheckErrorKind::*;
        match self {
            UnknownName { suggestion, .. }
            | UnknownFunction { suggestion, .. }
            | UnknownType { suggestion, .. }
            | UnknownScale { suggestion, .. }
            | UnknownParam { suggestion, .. }
            | UnknownPack { suggestion, .. }
            | UnknownRule { suggestion, .. } => did_you_mean(suggestion),
            UnknownEntity { suggestion, .. } => did_you_mean(suggestion).or_else(|| {
                Some("rules and derives run on `plan`, `goal`, `policy`, `measure`, `project` or `indicator`".into())
            }),
            UnknownField {
                suggestion, fields, ..
            } => did_you_mean(suggestion).or_else(|| {
                (!fields.is_empty()).then(|| format!("fields: {}", list(fields)))
            }),
            UnknownEnumValue {
                suggestion, values, ..
            } => did_you_mean(suggestion).or_else(|| Some(format!("values: {}", list(values)))),
            UnknownBand {
                suggestion, labels, ..
            } => did_you_mean(suggestion).or_else(|| Some(format!("bands and states: {}", list(labels)))),
            UnknownOutcome {
                suggestion,
                outcomes,
                ..
            } => did_you_mean(suggestion).or_else(|| Some(format!("outcomes: {}", list(outcomes)))),
            NotAnEntity { entities, .. } => Some(format!(
                "rules and derives run on entities: {}; records are read through their fields",
                list(entities)
            )),
            Operands { op, left, right } => Some(match (op.as_str(), left.as_str(), right.as_str()) {
                (_, "string", _) | (_, _, "string") if op == "+" => {
                    "strings are not added; interpolate them in a message instead: `\"{a}{b}\"`".into()
                }
                (">" | ">=" | "<" | "<=", l, r) if l == r && !matches!(l, "number" | "year" | "string") && !l.starts_with("grade") => {
                    format!("values of `{l}` have no order: compare them with `==`, `!=` or `in`")
                }
                (_, l, r) if l.starts_with("grade") || r.starts_with("grade") => {
                    "grades compare with `==` and `!=`, and bands by order (`<`, `>`); compute on the underlying number instead".into()
                }
                _ => "both operands must have types the operator accepts, e.g. two numbers".into(),
            }),
            Operand { op, .. } => Some(match op.as_str() {
                "not" => "`not` takes a condition (`bool`)".into(),
                _ => "`-` takes a number".into(),
            }),
            GradeScales { left, .. } => Some(format!(
                "compare with a band of the same scale, e.g. `{left}.A`"
            )),
            NotBool { .. } => Some("write a comparison, e.g. `x >= 90%`, or test a value with `x is missing`".into()),
            DeclaredType { .. } => Some("change the declared type or the expression so that they agree".into()),
            ArgumentType { .. } | ArgumentCount { .. } => None,
            Branches { .. } => Some("both sides must have the same type; use `missing` for no value".into()),
            NotAList { .. } => Some("aggregates iterate a list, such as `measure.indicators`, `indicator.actuals` or `members`".into()),
            AggregateType { .. } => Some("select the values with `=> expression`, e.g. `sum(c in project.costs => c.value)`".into()),
            FieldOfList { field } => Some(format!(
                "read it per element with an aggregate, e.g. `max(x in LIST => x.{field})`"
            )),
            GroupOnly { .. } => Some("declare the rule `for group ENTITY by KEY` to have `key` and `members`".into()),
            EntityInGroup { .. } => Some("a group rule runs once per key: read the entities through `members` and the key through `key`".into()),
            NotAllowed { allowed, .. } => Some(allowed.clone()),
            DeriveCycle { .. } => Some("a derived value may not read itself, directly or through other derived values".into()),
            Recursion { .. } => Some("functions may not call themselves, directly or through others: rule packs must terminate".into()),
            ScaleGap { below, above, .. } => Some(match (below, above) {
                (Some(b), Some(a)) => format!("make band `{a}` start where band `{b}` ends"),
                (None, Some(a)) => format!("leave the lower end of band `{a}` open (`.. x`) or add a band below it"),
                (Some(b), None) => format!("leave the upper end of band `{b}` open (`x ..`) or add a band above it"),
                (None, None) => "add bands that cover every number".into(),
            }),
            ScaleOverlap { .. } => Some("`lo .. hi` excludes `hi`: make each band end exactly where the next begins".into()),
            EmptyBand { .. } => Some("bands are written `lo .. hi` with `lo` below `hi`".into()),
            NoMissingState { .. } => Some("add a state for missing inputs, e.g. `未算出 = missing`".into()),
            BoundNotNumber { .. } => None,
            NotConstant { .. } => Some("use literals and parameters only".into()),
            ParamValue { example, .. } => Some(format!("write a value such as `{example}`")),
            Duplicate { .. } => Some("rename or remove one of them".into()),
            DuplicateRule { .. } => Some("rule ids are shown in reports without their pack: give each rule its own id".into()),
            ShadowsField { .. } => Some("choose another name for the derived value".into()),
            RuleSetting { suggestion, .. } => did_you_mean(suggestion)
                .or_else(|| Some("use `off`, `error`, `warning` or `info`".into())),
            PackCycle { .. } => Some("remove one of the `extends` entries".into()),
            DuplicatePack { .. } => Some("list each pack once".into()),
            NotExtended { target, .. } => Some(format!("add `{target}` to `extends`")),
            Unqualified { .. } => Some("write `PACK.NAME`, e.g. `grades.a_min`".into()),
            Ambiguous { name, enums } => Some(format!(
                "qualify it, e.g. `{}.{name}`",
                enums.first().map_or("", |e| e.as_str())
            )),
            KeyType { .. } => Some("group by values: strings, numbers, years, enum values or entities".into()),
            TooLarge { .. } => Some("functions are expanded where they are called; call fewer functions from one another".into()),
            ShadowsBuiltin { .. } => Some("choose another name".into()),
        }
    }

    /// The label under the span.
    fn label(&self) -> Option<String> {
        use CheckErrorKind::*;
        Some(match self {
            UnknownName { .. } => "not defined".into(),
            UnknownField { .. } => "no such field".into(),
            UnknownFunction { .. } => "no such function".into(),
            UnknownEnumValue { .. } | UnknownBand { .. } => "no such value".into(),
            UnknownType { .. } => "no such type".into(),
            UnknownEntity { .. } => "no such entity".into(),
            UnknownScale { .. } => "no such scale".into(),
            Operands { left, right, .. } => format!("`{left}` and `{right}`"),
            Operand { operand, .. } => format!("`{operand}`"),
            NotBool { found, .. } => format!("this is `{found}`"),
            DeclaredType { found, .. } => format!("this is `{found}`"),
            ArgumentType { found, .. } => format!("this is `{found}`"),
            NotAList { found } => format!("this is `{found}`"),
            AggregateType { found, .. } => format!("this is `{found}`"),
            ScaleGap { value, .. } => format!("`{value}` falls through"),
            ScaleOverlap { value, .. } => format!("`{value}` is claimed twice"),
            DeriveCycle { .. } => "declared here".into(),
            Recursion { .. } => "declared here".into(),
            Duplicate { .. } | DuplicateRule { .. } => "declared again here".into(),
            _ => return None,
        })
    }
}

impl CheckError {
    /// An error at `span` of `src`.
    pub fn new(kind: CheckErrorKind, src: Option<ErrorSource>, span: Option<Span>) -> CheckError {
        CheckError {
            kind,
            span,
            notes: Vec::new(),
            src,
        }
    }

    /// Adds a secondary label in the same source.
    pub fn with_note(mut self, span: Span, text: impl Into<String>) -> CheckError {
        self.notes.push((span, text.into()));
        self
    }

    /// The primary span, if the error has a place.
    pub fn span(&self) -> Option<Span> {
        self.span
    }
}

impl fmt::Debug for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckError")
            .field("kind", &self.kind)
            .field("span", &self.span)
            .finish()
    }
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for CheckError {}

impl Diagnostic for CheckError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.kind
            .help()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.src.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.src.as_ref()?;
        let span = self.span?;
        let primary = LabeledSpan::new_primary_with_span(self.kind.label(), span);
        let notes = self
            .notes
            .iter()
            .map(|(s, t)| LabeledSpan::new_with_span(Some(t.clone()), *s));
        Some(Box::new(std::iter::once(primary).chain(notes)))
    }
}

/// The closest of `candidates` to `name`, if one is close enough to be a
/// likely typo (edit distance at most a third of the length, at least 1,
/// and less than the whole name).
pub fn suggest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<String> {
    let len = name.chars().count();
    let limit = (len / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        // Replacing every character is no typo: `D` is not a misspelt `A`,
        // but `拡張` is a misspelt `拡充`.
        .filter(|(d, _)| *d <= limit && *d < len)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c.to_string())
}
