//! The report as data: everything every format shows, already computed,
//! sorted and formatted where a format needs text. [`super::build`] makes it
//! from an evaluation; the renderers only lay it out.
//!
//! This is also the JSON format: each type serialises field by field into
//! the document described by `docs/report-schema.json`, so a change here is
//! a change of the published schema (bump [`SCHEMA_VERSION`]).

use serde::{Serialize, Serializer};

/// The version of the JSON document (`docs/report-schema.json`). Bump the
/// minor version for added fields, the major version for anything else.
pub const SCHEMA_VERSION: &str = "1.0.0";

/// An exact decimal as text (`61.4`, `-490`, `454897`), serialised as a
/// JSON number. Values from the plan files keep the digits they were
/// written with; computed values are rounded where they are made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dec(pub String);

impl Dec {
    /// The text with thousands separators in the integer part
    /// (`454,897`, `-1,128.5`), as Japanese official tables print numbers.
    pub fn grouped(&self) -> String {
        let (sign, rest) = match self.0.strip_prefix('-') {
            Some(r) => ("-", r),
            None => ("", self.0.as_str()),
        };
        let (int, frac) = match rest.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (rest, None),
        };
        let mut out = String::from(sign);
        let digits: Vec<char> = int.chars().collect();
        for (i, c) in digits.iter().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(*c);
        }
        if let Some(f) = frac {
            out.push('.');
            out.push_str(f);
        }
        out
    }

    /// The nearest `f64`, for charts.
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }
}

impl std::fmt::Display for Dec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Dec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.parse::<i64>() {
            Ok(i) => s.serialize_i64(i),
            Err(_) => s.serialize_f64(self.to_f64()),
        }
    }
}

/// A percentage with one decimal, held as tenths of a percent (793 is
/// 79.3 %), rounded half away from zero from the exact rate. Serialised as
/// a JSON number (`79.3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percent(pub i64);

impl std::fmt::Display for Percent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{}", a / 10, a % 10)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 10 == 0 {
            s.serialize_i64(self.0 / 10)
        } else {
            s.serialize_f64(self.0 as f64 / 10.0)
        }
    }
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct ReportData {
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// The evaluation year (年度).
    pub year: i32,
    /// The year compared against (year over year), when there is one.
    pub compare_year: Option<i32>,
    /// A date given on the command line (`--date`); reports carry no
    /// timestamp of their own.
    pub date: Option<String>,
    /// What the report was made from.
    pub provenance: Provenance,
    /// The grade scale of `indicator.grade`, when the rule packs declare one.
    pub scale: Option<ScaleInfo>,
    /// One entry per plan, sorted by plan id.
    pub plans: Vec<PlanReport>,
    /// Indicators and grades by department (担当所属), sorted.
    pub departments: Vec<DepartmentReport>,
    /// The scrap-and-build review list (スクラップ＆ビルド).
    pub review: Review,
    /// Consistency and data-quality findings and load problems, by severity.
    pub findings: Findings,
    /// Year over year: what changed since `compare_year`.
    pub changes: Option<Changes>,
}

/// The inputs of the report and how to make it again.
#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    /// `hyoka` and its version.
    pub tool: String,
    pub tool_version: String,
    /// The command line that makes the same report (formats and output
    /// path aside).
    pub command: Option<String>,
    /// The plan files, in load order.
    pub plan_files: Vec<FileHash>,
    /// The project configuration (`hyoka.toml`), when one was used.
    pub config: Option<FileHash>,
    /// The rule packs, in the order given.
    pub rule_packs: Vec<PackInfo>,
    /// Every parameter of the compiled program with its value.
    pub parameters: Vec<ParamInfo>,
    /// How many rules ran.
    pub rule_count: usize,
    /// The hash function of every `sha256` field.
    pub hash: String,
}

/// A file and the SHA-256 of its text.
#[derive(Clone, Debug, Serialize)]
pub struct FileHash {
    pub path: String,
    pub sha256: String,
    pub bytes: usize,
}

/// A rule pack as used.
#[derive(Clone, Debug, Serialize)]
pub struct PackInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    /// Where it was read from (`rules/grades` for a standard pack).
    pub source: String,
    /// SHA-256 over the manifest and rule files (see docs/report.md).
    pub sha256: String,
    pub files: Vec<FileHash>,
}

/// A parameter and its value after overrides.
#[derive(Clone, Debug, Serialize)]
pub struct ParamInfo {
    /// `PACK.NAME`.
    pub name: String,
    pub value: String,
    /// Who set it: `default`, a pack, `hyoka.toml`, the command line.
    pub set_by: String,
}

/// A grade scale: bands best first, then states (`未算出`).
#[derive(Clone, Debug, Serialize)]
pub struct ScaleInfo {
    pub name: String,
    pub pack: String,
    pub bands: Vec<String>,
    pub states: Vec<String>,
    /// Each band's range as text (`90%以上`, `70%以上90%未満`).
    pub band_ranges: Vec<String>,
}

impl ScaleInfo {
    /// Every grade label, bands then states.
    pub fn labels(&self) -> Vec<String> {
        self.bands.iter().chain(&self.states).cloned().collect()
    }
}

/// How many entities have each grade.
#[derive(Clone, Debug, Serialize)]
pub struct GradeCount {
    pub grade: String,
    pub count: usize,
    /// Share of the total, one decimal.
    pub percent: Percent,
}

/// A cross table of counts: categories (rows) × grades (columns), with
/// totals.
#[derive(Clone, Debug, Serialize)]
pub struct CrossTable {
    pub grades: Vec<String>,
    pub rows: Vec<CrossRow>,
    pub column_totals: Vec<usize>,
    /// Each column's share of the total, one decimal.
    pub column_percents: Vec<Percent>,
    pub total: usize,
}

/// One row of a [`CrossTable`].
#[derive(Clone, Debug, Serialize)]
pub struct CrossRow {
    pub category: String,
    pub counts: Vec<usize>,
    pub total: usize,
}

/// How a plan's projects are counted: every project once, so re-listed
/// projects (再掲, counted under their original) and completed ones (完了,
/// nothing left to evaluate) are left out of the tables.
#[derive(Clone, Debug, Serialize)]
pub struct ProjectCounts {
    /// Every project in the file.
    pub listed: usize,
    /// Re-listed (再掲).
    pub relisted: usize,
    /// Completed (完了), not re-listed.
    pub completed: usize,
    /// `listed - relisted - completed`: the projects the tables count.
    pub counted: usize,
    /// Of the counted: new (新).
    pub new: usize,
    /// Of the counted: without a category (取組内容).
    pub uncategorised: usize,
    /// Of the counted: without any indicator.
    pub without_indicators: usize,
}

impl ProjectCounts {
    /// `全87事業のうち再掲4事業・完了3事業を除く80事業`.
    pub fn phrase(&self) -> String {
        let mut left_out = Vec::new();
        if self.relisted > 0 {
            left_out.push(format!("再掲{}事業", self.relisted));
        }
        if self.completed > 0 {
            left_out.push(format!("完了{}事業", self.completed));
        }
        if left_out.is_empty() {
            format!("全{}事業", self.listed)
        } else {
            format!(
                "全{}事業のうち{}を除く{}事業",
                self.listed,
                left_out.join("・"),
                self.counted
            )
        }
    }
}

/// A table the plan itself publishes (`[[recorded_summary]]`): the
/// city's figures, shown next to hyoka's.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedTable {
    pub title: String,
    pub year: Option<i32>,
    pub note: Option<String>,
    pub table: CrossTable,
}

/// One plan.
#[derive(Clone, Debug, Serialize)]
pub struct PlanReport {
    pub id: String,
    pub name: String,
    pub municipality: String,
    /// `top`, `sectoral`, `strategy`, `wide_area`, `budget_policy`.
    pub kind: String,
    pub period_from: i32,
    pub period_to: i32,
    pub file: String,
    pub note: Option<String>,
    pub projects_counted: ProjectCounts,
    /// Indicators of the plan, of which `indicators_counted` are not of a
    /// re-listed or completed project.
    pub indicators: usize,
    pub indicators_counted: usize,
    /// Grades of the counted indicators.
    pub indicator_grades: Vec<GradeCount>,
    /// Grades of the plan's measures (施策), from their indicators.
    pub measure_grades: Vec<GradeCount>,
    /// Grades of the counted projects.
    pub project_grades: Vec<GradeCount>,
    /// Counted projects by category (取組内容) × grade; `None` for a plan
    /// without projects.
    pub category_table: Option<CrossTable>,
    /// Remarks on what the tables can and cannot show for this plan.
    pub remarks: Vec<String>,
    /// The city's own published tables.
    pub recorded: Vec<RecordedTable>,
    /// Indicators grouped by what they hang from: the plan, a goal, a
    /// policy or a measure (in file order).
    pub nodes: Vec<NodeReport>,
    /// Every project (in file order) with its indicators.
    pub projects: Vec<ProjectReport>,
}

/// A node of the tree and the indicators that hang from it directly.
#[derive(Clone, Debug, Serialize)]
pub struct NodeReport {
    /// `plan`, `goal`, `policy` or `measure`.
    pub level: String,
    /// Empty for the plan's overall indicators (全体指標).
    pub id: String,
    pub name: String,
    /// Names of the nodes above it, top first.
    pub path: Vec<String>,
    pub rate: Option<Percent>,
    pub grade: Option<String>,
    pub indicators: Vec<IndicatorRow>,
}

/// A project (事業).
#[derive(Clone, Debug, Serialize)]
pub struct ProjectReport {
    pub id: String,
    pub number: Option<String>,
    pub name: String,
    /// The node it belongs to (`G1-2 新規創業の促進…`).
    pub under: Option<String>,
    pub category: Option<String>,
    pub department: Option<String>,
    /// `new`, `continuing`, `completed`.
    pub status: String,
    /// The id of the original, for a re-listed project.
    pub relisted_from: Option<String>,
    pub rate: Option<Percent>,
    pub grade: Option<String>,
    pub suggested: Option<String>,
    pub indicators: Vec<IndicatorRow>,
}

/// An observed value: baseline or one year's actual.
#[derive(Clone, Debug, Serialize)]
pub struct Observed {
    pub year: i32,
    pub value: Option<Dec>,
    /// Why there is no value (`集計中`, `—`).
    pub reason: Option<String>,
    /// The value's own year, when it differs from the column.
    pub as_of: Option<i32>,
}

/// An indicator's target.
#[derive(Clone, Debug, Serialize)]
pub struct TargetCell {
    pub year: i32,
    pub value: Option<Dec>,
    pub reason: Option<String>,
    /// A qualitative target (`整備完了`).
    pub text: Option<String>,
    /// The year the target is to be set in.
    pub set_in: Option<i32>,
}

/// One indicator with everything the report shows about it.
#[derive(Clone, Debug, Serialize)]
pub struct IndicatorRow {
    pub plan: String,
    pub id: String,
    pub name: String,
    /// The part of a two-part indicator (`小6`).
    pub part: Option<String>,
    pub unit: Option<String>,
    /// `increase`, `decrease`, `maintain`.
    pub direction: Option<String>,
    /// The indicator's department, else its project's.
    pub department: Option<String>,
    /// What it hangs from: `plan`, `goal`, `policy`, `measure`, `project`.
    pub owner_kind: String,
    pub owner_id: String,
    pub owner_name: String,
    /// The measure it belongs to, directly or through its project.
    pub measure: Option<String>,
    /// The project it belongs to.
    pub project: Option<String>,
    pub relisted: bool,
    /// Counted in the tables: not of a re-listed or completed project.
    pub counted: bool,
    pub monitoring: bool,
    pub cumulative: bool,
    pub baseline: Option<Observed>,
    /// Actual values up to the evaluation year.
    pub actuals: Vec<Observed>,
    pub target: Option<TargetCell>,
    /// The latest actual value in or before the evaluation year.
    pub current: Option<Dec>,
    pub current_year: Option<i32>,
    /// The achievement rate (達成率) the grade is computed from.
    pub rate: Option<Percent>,
    /// The rate in the ratio and the progress form.
    pub ratio: Option<Percent>,
    pub progress: Option<Percent>,
    /// The expected value on the straight path to the target (期待値).
    pub expected: Option<Dec>,
    pub path_rate: Option<Percent>,
    pub grade: Option<String>,
    /// Why there is no rate (`目標値なし`, `実績値なし` …).
    pub unrated_reason: Option<String>,
    /// The plan's own reason for a missing current value (`集計中`).
    pub value_reason: Option<String>,
    /// The grade in the compare year.
    pub previous_grade: Option<String>,
    pub previous_rate: Option<Percent>,
    /// Revision markers (【追加】【変更】【修正】).
    pub revisions: Vec<RevisionCell>,
}

/// A revision marker of an indicator.
#[derive(Clone, Debug, Serialize)]
pub struct RevisionCell {
    /// `added` (【追加】), `replaced` (【変更】), `target_revised` (【修正】).
    pub kind: String,
    pub year: Option<i32>,
    /// The revised target: from and to.
    pub from: Option<Dec>,
    pub to: Option<Dec>,
    /// The replacing indicator's id.
    pub by: Option<String>,
    pub reason: Option<String>,
}

/// A department and its indicators.
#[derive(Clone, Debug, Serialize)]
pub struct DepartmentReport {
    pub municipality: String,
    /// `None` for indicators whose department is not recorded.
    pub department: Option<String>,
    pub grades: Vec<GradeCount>,
    pub indicators: Vec<DepartmentIndicator>,
}

/// An indicator, as listed under its department.
#[derive(Clone, Debug, Serialize)]
pub struct DepartmentIndicator {
    pub plan: String,
    pub id: String,
    pub name: String,
    pub rate: Option<Percent>,
    pub grade: Option<String>,
    pub unrated_reason: Option<String>,
}

/// The scrap-and-build review list.
#[derive(Clone, Debug, Serialize)]
pub struct Review {
    /// How many counted projects get each outcome, in the order of the
    /// outcomes (拡充 … 完了); outcomes with no project left out.
    pub outcomes: Vec<OutcomeCount>,
    /// Re-listed projects, left out of the list (they take their
    /// original's outcome).
    pub relisted_left_out: usize,
    pub projects: Vec<ReviewItem>,
    /// Findings that suggest an outcome for indicators outside any project
    /// (plans whose unit of review is the measure).
    pub other: Vec<FindingItem>,
}

#[derive(Clone, Debug, Serialize)]
pub struct OutcomeCount {
    pub outcome: String,
    pub count: usize,
}

/// One project of the review list.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewItem {
    pub plan: String,
    pub id: String,
    pub name: String,
    pub category: Option<String>,
    pub department: Option<String>,
    pub grade: Option<String>,
    pub suggested: Option<String>,
    /// The findings that suggest an outcome for the project or one of its
    /// indicators.
    pub reasons: Vec<FindingItem>,
}

/// A finding, flattened for reports.
#[derive(Clone, Debug, Serialize)]
pub struct FindingItem {
    /// `PACK.ID`, or the load diagnostic's code.
    pub rule: String,
    /// `error`, `warning`, `info`.
    pub severity: String,
    pub title: Option<String>,
    pub message: String,
    pub suggest: Option<String>,
    /// `plan-id / entity-id`.
    pub entity: String,
    /// `file:line:column`.
    pub location: Option<String>,
}

/// Findings by severity, each list grouped by rule.
#[derive(Clone, Debug, Serialize)]
pub struct Findings {
    pub error: Vec<RuleFindings>,
    pub warning: Vec<RuleFindings>,
    pub info: Vec<RuleFindings>,
    /// Rules that could not be evaluated on some entity.
    pub failures: Vec<String>,
}

/// The findings of one rule.
#[derive(Clone, Debug, Serialize)]
pub struct RuleFindings {
    pub rule: String,
    pub title: Option<String>,
    pub items: Vec<FindingItem>,
}

/// Year over year.
#[derive(Clone, Debug, Serialize)]
pub struct Changes {
    pub compare_year: i32,
    /// Every indicator, measure and project whose grade differs.
    pub grades: Vec<GradeChange>,
    /// Indicators whose latest value moved away from the target.
    pub moved_away: Vec<MovedAway>,
}

/// A grade that changed.
#[derive(Clone, Debug, Serialize)]
pub struct GradeChange {
    pub plan: String,
    /// `indicator`, `measure`, `project`.
    pub kind: String,
    pub id: String,
    pub name: String,
    pub from: String,
    pub to: String,
    pub from_rate: Option<Percent>,
    pub to_rate: Option<Percent>,
    /// `improved`, `worsened`, or `changed` (to or from a state).
    pub direction: String,
}

/// An indicator whose value moved away from its target.
#[derive(Clone, Debug, Serialize)]
pub struct MovedAway {
    pub plan: String,
    pub id: String,
    pub name: String,
    pub unit: Option<String>,
    pub direction: String,
    pub target: Dec,
    pub from: Dec,
    pub from_year: i32,
    pub to: Dec,
    pub to_year: i32,
}
