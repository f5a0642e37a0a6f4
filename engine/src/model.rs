//! The resolved plan model: every plan of a corpus in flat, index-addressed
//! tables, each value with the span it was read from.
//!
//! The loader builds it; the evaluator and the reports read it. Nothing here
//! reads files or knows TOML: references are already resolved to indices,
//! and a value's location is a [`Span`] into [`Corpus::files`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Index of a source file in [`Corpus::files`].
pub type FileId = u32;

/// Where a value came from: a byte range in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, range: std::ops::Range<usize>) -> Self {
        Span {
            file,
            start: range.start as u32,
            end: range.end as u32,
        }
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A value and where it was written.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Located<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Located<T> {
    pub fn new(value: T, span: Span) -> Self {
        Located { value, span }
    }
}

/// A source file of the corpus, kept whole so diagnostics can quote it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as given on the command line (relative when it was).
    pub name: String,
    pub text: Arc<str>,
}

/// An exact decimal as written in the plan file: `mantissa × 10^-scale`.
///
/// Kept exact (never `f64`) so that `35.0 / 50` compares equal to `70 %`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Decimal {
    pub mantissa: i64,
    pub scale: u8,
}

impl Decimal {
    pub fn from_int(n: i64) -> Self {
        Decimal {
            mantissa: n,
            scale: 0,
        }
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let neg = self.mantissa < 0;
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let (int, frac) = if digits.len() > scale {
            let (i, fr) = digits.split_at(digits.len() - scale);
            (i.to_string(), fr.to_string())
        } else {
            ("0".to_string(), format!("{digits:0>scale$}"))
        };
        write!(f, "{}{}.{}", if neg { "-" } else { "" }, int, frac)
    }
}

/// Why an indicator has no value where one was expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NoValue {
    /// `—`, `─`, `-`: not recorded in the source.
    NotRecorded,
    /// `集計中`
    BeingCompiled,
    /// `調査中`
    BeingSurveyed,
    /// `設定なし`
    NotSet,
    /// `未把握`
    Unknown,
    /// `調査未実施`
    NotSurveyed,
}

impl NoValue {
    /// Every token accepted in a value position, with its meaning.
    pub const TOKENS: &'static [(&'static str, NoValue)] = &[
        ("—", NoValue::NotRecorded),
        ("─", NoValue::NotRecorded),
        ("-", NoValue::NotRecorded),
        ("－", NoValue::NotRecorded),
        ("集計中", NoValue::BeingCompiled),
        ("調査中", NoValue::BeingSurveyed),
        ("設定なし", NoValue::NotSet),
        ("未把握", NoValue::Unknown),
        ("調査未実施", NoValue::NotSurveyed),
    ];

    pub fn from_token(token: &str) -> Option<NoValue> {
        Self::TOKENS
            .iter()
            .find(|(t, _)| *t == token.trim())
            .map(|(_, v)| *v)
    }

    /// The reason as the source writes it.
    pub fn token(self) -> &'static str {
        match self {
            NoValue::NotRecorded => "—",
            NoValue::BeingCompiled => "集計中",
            NoValue::BeingSurveyed => "調査中",
            NoValue::NotSet => "設定なし",
            NoValue::Unknown => "未把握",
            NoValue::NotSurveyed => "調査未実施",
        }
    }
}

/// A value cell: a number or the reason there is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Amount {
    Number(Decimal),
    Missing(NoValue),
}

impl Amount {
    pub fn number(&self) -> Option<Decimal> {
        match self {
            Amount::Number(d) => Some(*d),
            Amount::Missing(_) => None,
        }
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Amount::Number(d) => d.fmt(f),
            Amount::Missing(r) => f.write_str(r.token()),
        }
    }
}

/// An observed value: baseline or one year's actual.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The column's year.
    pub year: Located<i32>,
    pub value: Located<Amount>,
    /// The value's own year when it differs from the column ("18人 (2021)").
    pub as_of: Option<Located<i32>>,
    pub note: Option<String>,
    pub span: Span,
}

/// What an indicator aims at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub year: Located<i32>,
    /// Numeric target; `None` for qualitative or to-be-set targets.
    pub value: Option<Located<Amount>>,
    /// Qualitative target ("整備完了").
    pub text: Option<Located<String>>,
    /// The year in which the target is to be set (目標値は2022年度に設定).
    pub set_in: Option<Located<i32>>,
    pub note: Option<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Direction {
    Increase,
    Decrease,
    Maintain,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum IndicatorKind {
    Activity,
    Output,
    Outcome,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum YearBasis {
    Fiscal,
    Calendar,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PlanKind {
    Top,
    Sectoral,
    Strategy,
    WideArea,
    BudgetPolicy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ProjectStatus {
    New,
    Continuing,
    Completed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RevisionKind {
    /// 【追加】
    Added,
    /// 【変更】 replaced by another indicator
    Replaced,
    /// 【修正】 target revised
    TargetRevised,
}

/// A revision marker on an indicator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub kind: RevisionKind,
    pub year: Option<Located<i32>>,
    pub reason: Option<Located<String>>,
    pub from: Option<Located<Amount>>,
    pub to: Option<Located<Amount>>,
    /// The replacing indicator, resolved by the loader.
    pub by: Option<Located<IndicatorIdx>>,
    pub span: Span,
}

/// A declared link to the same indicator in another plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub indicator: IndicatorIdx,
    /// Why the targets may differ, when they do on purpose.
    pub target_differs: Option<Located<String>>,
    pub span: Span,
}

pub type PlanIdx = u32;
pub type NodeIdx = u32;
pub type ProjectIdx = u32;
pub type IndicatorIdx = u32;

/// A plan known only by reference (a parent that is not transcribed).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExternalPlan {
    pub id: Located<String>,
    pub name: Option<String>,
    pub period: Option<Period>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Period {
    pub from: Located<i32>,
    pub to: Located<i32>,
    pub span: Span,
}

/// A plan's parent: a transcribed plan of the corpus, or a declared
/// external one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParentPlan {
    Plan(PlanIdx),
    External(u32),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanRevision {
    pub year: Located<i32>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourceNote {
    pub document: String,
    pub section: Option<String>,
}

/// One row of a summary table the source publishes itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SummaryRow {
    pub category: Option<String>,
    pub grade: Option<String>,
    pub count: Located<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecordedSummary {
    pub year: Option<Located<i32>>,
    pub title: String,
    pub rows: Vec<SummaryRow>,
    pub note: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    pub file: FileId,
    pub id: Located<String>,
    pub name: Located<String>,
    pub municipality: Located<String>,
    pub kind: Located<PlanKind>,
    pub period: Period,
    pub year_basis: YearBasis,
    pub parent: Option<Located<ParentPlan>>,
    pub departments: Vec<Located<String>>,
    pub grade_scale: Option<Located<String>>,
    pub revisions: Vec<PlanRevision>,
    pub source: Option<SourceNote>,
    pub note: Option<String>,
    pub externals: Vec<u32>,
    pub recorded_summaries: Vec<RecordedSummary>,
    /// Children, in file order.
    pub nodes: Vec<NodeIdx>,
    pub projects: Vec<ProjectIdx>,
    pub indicators: Vec<IndicatorIdx>,
    /// The `[plan]` table's span: where plan-level findings point.
    pub span: Span,
}

/// The level of a tree node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    /// 基本目標 / 柱
    Goal,
    /// 基本方針
    Policy,
    /// 施策 / 基本施策
    Measure,
}

/// What a node, project or indicator hangs from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Owner {
    Plan,
    Node(NodeIdx),
    Project(ProjectIdx),
}

/// A goal, policy or measure.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Node {
    pub plan: PlanIdx,
    pub level: Level,
    pub id: Located<String>,
    pub name: Located<String>,
    pub under: Owner,
    pub note: Option<String>,
    pub children: Vec<NodeIdx>,
    pub projects: Vec<ProjectIdx>,
    pub indicators: Vec<IndicatorIdx>,
    pub span: Span,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Cost {
    pub year: Located<i32>,
    pub value: Located<Amount>,
    pub unit: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Review {
    pub year: Located<i32>,
    pub outcome: Located<String>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Project {
    pub plan: PlanIdx,
    pub id: Located<String>,
    pub number: Option<Located<String>>,
    pub name: Located<String>,
    pub under: Owner,
    pub category: Option<Located<String>>,
    pub status: Located<ProjectStatus>,
    pub relisted_from: Option<Located<ProjectIdx>>,
    pub sdgs: Vec<Located<i64>>,
    pub department: Option<Located<String>>,
    pub costs: Vec<Cost>,
    pub reviews: Vec<Review>,
    pub completed_in: Option<Located<i32>>,
    pub note: Option<String>,
    pub indicators: Vec<IndicatorIdx>,
    pub span: Span,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndicatorPart {
    pub group: String,
    pub label: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Indicator {
    pub plan: PlanIdx,
    pub id: Located<String>,
    pub name: Located<String>,
    pub under: Owner,
    pub unit: Option<Located<String>>,
    /// Absent for qualitative targets, where no direction applies.
    pub direction: Option<Located<Direction>>,
    pub kind: Option<Located<IndicatorKind>>,
    pub department: Option<Located<String>>,
    pub description: Option<String>,
    pub baseline: Option<Observation>,
    /// Sorted by year (stable: two values of one year keep file order).
    pub actuals: Vec<Observation>,
    pub target: Option<Target>,
    pub cumulative: bool,
    pub cumulative_from: Option<Located<i32>>,
    pub monitoring: bool,
    pub year_basis: YearBasis,
    pub links: Vec<Link>,
    pub part: Option<IndicatorPart>,
    pub revisions: Vec<Revision>,
    pub note: Option<String>,
    pub span: Span,
}

/// Every plan loaded from a set of files, with references resolved.
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    pub files: Vec<SourceFile>,
    pub plans: Vec<Plan>,
    pub externals: Vec<ExternalPlan>,
    pub nodes: Vec<Node>,
    pub projects: Vec<Project>,
    pub indicators: Vec<Indicator>,
}

impl Corpus {
    pub fn plan_by_id(&self, id: &str) -> Option<PlanIdx> {
        self.plans
            .iter()
            .position(|p| p.id.value == id)
            .map(|i| i as PlanIdx)
    }

    /// The measure an indicator belongs to, directly or through its project.
    pub fn measure_of(&self, i: &Indicator) -> Option<NodeIdx> {
        let mut owner = i.under;
        loop {
            match owner {
                Owner::Plan => return None,
                Owner::Node(n) => {
                    let node = &self.nodes[n as usize];
                    if node.level == Level::Measure {
                        return Some(n);
                    }
                    return None;
                }
                Owner::Project(p) => owner = self.projects[p as usize].under,
            }
        }
    }

    pub fn file_of(&self, span: Span) -> &SourceFile {
        &self.files[span.file as usize]
    }
}
